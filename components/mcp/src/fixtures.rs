//! The fixture set of the MCP conformance suite's reference server: `test_*` tools,
//! `test://` resources and `test_*` prompts. Compiled in, served only when the
//! `conformance_fixtures` variable is "true", so that the suite can run against the
//! real component.

use protocol::context::Context;
use protocol::logging::Level;
use protocol::prompt::{Argument, message};
use protocol::resource;
use protocol::server::Server;
use protocol::tool::{ToolError, text_result};
use serde_json::{Value, json};

/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A silent WAV.
const WAV: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

/// Pause between the steps of the tools that report as they go.
const STEP: std::time::Duration = std::time::Duration::from_millis(50);

fn no_arguments() -> Value {
    json!({ "type": "object", "properties": {} })
}

fn string_argument(name: &str, description: &str) -> Value {
    json!({
        "type": "object",
        "properties": { name: { "type": "string", "description": description } },
        "required": [name],
    })
}

fn image() -> Value {
    json!({ "type": "image", "data": PNG, "mimeType": "image/png" })
}

pub fn add(mut server: Server) -> Server {
    server.tools = tools(std::mem::take(&mut server.tools));
    server.resources = std::mem::take(&mut server.resources)
        .add(
            "test://static-text",
            "static-text",
            "A static text resource",
            "text/plain",
            |uri, _| {
                vec![resource::text(
                    uri,
                    "text/plain",
                    "This is the content of the static text resource.",
                )]
            },
        )
        .add(
            "test://static-binary",
            "static-binary",
            "A static binary resource (a PNG image)",
            "image/png",
            |uri, _| vec![resource::blob(uri, "image/png", PNG)],
        )
        .add(
            "test://watched-resource",
            "watched-resource",
            "A resource clients may subscribe to",
            "text/plain",
            |uri, _| {
                vec![resource::text(
                    uri,
                    "text/plain",
                    "Watched resource content.",
                )]
            },
        )
        .add_template(
            "test://template/{id}/data",
            "template",
            "Data for an id",
            "application/json",
            |uri, variables, _| {
                let id = &variables["id"];
                let data =
                    json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") });
                vec![resource::text(uri, "application/json", &data.to_string())]
            },
        );
    server.prompts = std::mem::take(&mut server.prompts)
        .add("test_simple_prompt", "A prompt without arguments", vec![], |_, _| {
            vec![message(
                "user",
                json!({ "type": "text", "text": "This is a simple prompt for testing." }),
            )]
        })
        .add(
            "test_prompt_with_arguments",
            "A prompt with two arguments",
            vec![
                Argument { name: "arg1", description: "First test argument", required: true },
                Argument { name: "arg2", description: "Second test argument", required: true },
            ],
            |args, _| {
                let arg = |name: &str| args.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
                let text = format!("Prompt with arguments: arg1='{}', arg2='{}'", arg("arg1"), arg("arg2"));
                vec![message("user", json!({ "type": "text", "text": text }))]
            },
        )
        .completing(|_, prefix| {
            ["paris", "park", "party"]
                .iter()
                .filter(|v| v.starts_with(prefix))
                .map(|v| (*v).to_owned())
                .collect()
        })
        .add(
            "test_prompt_with_embedded_resource",
            "A prompt embedding a resource",
            vec![Argument {
                name: "resourceUri",
                description: "URI of the resource to embed",
                required: true,
            }],
            |args, _| {
                let uri = args.get("resourceUri").and_then(Value::as_str).unwrap_or_default();
                vec![
                    message(
                        "user",
                        json!({ "type": "resource", "resource": resource::text(uri, "text/plain", "Embedded resource content for testing.") }),
                    ),
                    message("user", json!({ "type": "text", "text": "Please process the embedded resource above." })),
                ]
            },
        )
        .add("test_prompt_with_image", "A prompt holding an image", vec![], |_, _| {
            vec![
                message("user", image()),
                message("user", json!({ "type": "text", "text": "Please analyze the image above." })),
            ]
        });
    server
}

fn tools(registry: protocol::tool::Registry) -> protocol::tool::Registry {
    registry
        .register_raw("test_simple_text", "Returns simple text", no_arguments(), |_, _| {
            Ok(text_result("This is a simple text response for testing."))
        })
        .register_raw("test_image_content", "Returns an image", no_arguments(), |_, _| {
            Ok(json!({ "content": [image()] }))
        })
        .register_raw("test_audio_content", "Returns audio", no_arguments(), |_, _| {
            Ok(json!({ "content": [{ "type": "audio", "data": WAV, "mimeType": "audio/wav" }] }))
        })
        .register_raw("test_embedded_resource", "Returns an embedded resource", no_arguments(), |_, _| {
            Ok(json!({ "content": [{
                "type": "resource",
                "resource": resource::text("test://embedded-resource", "text/plain", "This is an embedded resource content."),
            }] }))
        })
        .register_raw(
            "test_multiple_content_types",
            "Returns text, an image and a resource",
            no_arguments(),
            |_, _| {
                Ok(json!({ "content": [
                    { "type": "text", "text": "Multiple content types test:" },
                    image(),
                    { "type": "resource", "resource": resource::text(
                        "test://mixed-content-resource",
                        "application/json",
                        r#"{"test":"data","value":123}"#,
                    ) },
                ] }))
            },
        )
        .register_raw("test_tool_with_logging", "Logs while it runs", no_arguments(), |_, cx| {
            for (i, step) in ["Tool execution started", "Tool processing data", "Tool execution completed"]
                .into_iter()
                .enumerate()
            {
                if i > 0 {
                    platform::stream::sleep(STEP);
                }
                cx.log(Level::Info, json!(step));
            }
            Ok(text_result("Tool with logging executed successfully"))
        })
        .register_raw(
            "test_logging_tool",
            "Logs at several levels, for clients that asked for log messages",
            no_arguments(),
            |_, cx| {
                cx.log(Level::Debug, json!("debug detail"));
                cx.log(Level::Info, json!("working"));
                cx.log(Level::Warning, json!("nearly done"));
                Ok(text_result("Logging tool finished"))
            },
        )
        .register_raw(
            "test_streaming_elicitation",
            "Asks for input; on the stateless revision it says so in its result instead of sending a request",
            no_arguments(),
            |_, cx| match cx.elicit(json!({
                "message": "Please confirm",
                "requestedSchema": { "type": "object", "properties": { "ok": { "type": "boolean" } } },
            })) {
                Ok(answer) => Ok(text_result(&format!("Elicitation completed: {answer}"))),
                Err(e) => Ok(text_result(&format!("No input requested: {e}"))),
            },
        )
        .register_raw("test_error_handling", "Always fails", no_arguments(), |_, _| {
            Err(ToolError("This tool intentionally returns an error for testing".into()))
        })
        .register_raw("test_tool_with_progress", "Reports progress", no_arguments(), |_, cx| {
            for (i, progress) in [0.0, 50.0, 100.0].into_iter().enumerate() {
                if i > 0 {
                    platform::stream::sleep(STEP);
                }
                cx.progress(progress, Some(100.0), None);
            }
            let token = cx.progress_token.as_ref().map_or("none".to_owned(), Value::to_string);
            Ok(text_result(&token))
        })
        .register_raw(
            "test_sampling",
            "Asks the client's model",
            string_argument("prompt", "The prompt to send"),
            |arguments, cx| {
                let prompt = arguments["prompt"].as_str().unwrap_or_default();
                let answer = cx
                    .sample(json!({
                        "messages": [{ "role": "user", "content": { "type": "text", "text": prompt } }],
                        "maxTokens": 100,
                    }))
                    .map_err(|e| ToolError(e.to_string()))?;
                let text = answer["content"]["text"].as_str().unwrap_or_default();
                Ok(text_result(&format!("LLM response: {text}")))
            },
        )
        .register_raw(
            "test_elicitation",
            "Asks the user for information",
            string_argument("message", "What to ask"),
            |arguments, cx| {
                let answer = elicit(cx, json!({
                    "message": arguments["message"].as_str().unwrap_or_default(),
                    "requestedSchema": {
                        "type": "object",
                        "properties": {
                            "username": { "type": "string", "description": "User's response" },
                            "email": { "type": "string", "description": "User's email address" },
                        },
                        "required": ["username", "email"],
                    },
                }))?;
                Ok(text_result(&format!(
                    "User response: action={}, content={}",
                    answer["action"].as_str().unwrap_or_default(),
                    answer.get("content").unwrap_or(&Value::Null)
                )))
            },
        )
        .register_raw(
            "test_elicitation_sep1034_defaults",
            "Asks with default values",
            no_arguments(),
            |_, cx| {
                let answer = elicit(cx, json!({
                    "mode": "form",
                    "message": "Please review and update the form fields with defaults",
                    "requestedSchema": {
                        "type": "object",
                        "properties": {
                            "name": { "type": "string", "description": "User name", "default": "John Doe" },
                            "age": { "type": "integer", "description": "User age", "default": 30 },
                            "score": { "type": "number", "description": "User score", "default": 95.5 },
                            "status": { "type": "string", "description": "User status", "enum": ["active", "inactive", "pending"], "default": "active" },
                            "verified": { "type": "boolean", "description": "Verification status", "default": true },
                        },
                        "required": [],
                    },
                }))?;
                Ok(text_result(&format!("Elicitation completed: {answer}")))
            },
        )
        .register_raw(
            "test_elicitation_sep1330_enums",
            "Asks with each kind of enum",
            no_arguments(),
            |_, cx| {
                let answer = elicit(cx, json!({
                    "mode": "form",
                    "message": "Please select options from the enum fields",
                    "requestedSchema": {
                        "type": "object",
                        "properties": {
                            "untitledSingle": { "type": "string", "description": "Select one option", "enum": ["option1", "option2", "option3"] },
                            "titledSingle": { "type": "string", "description": "Select one option with titles", "oneOf": [
                                { "const": "value1", "title": "First Option" },
                                { "const": "value2", "title": "Second Option" },
                                { "const": "value3", "title": "Third Option" },
                            ] },
                            "legacyEnum": { "type": "string", "description": "Select one option (legacy)", "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"] },
                            "untitledMulti": { "type": "array", "description": "Select multiple options", "minItems": 1, "maxItems": 3, "items": { "type": "string", "enum": ["option1", "option2", "option3"] } },
                            "titledMulti": { "type": "array", "description": "Select multiple options with titles", "minItems": 1, "maxItems": 3, "items": { "anyOf": [
                                { "const": "value1", "title": "First Choice" },
                                { "const": "value2", "title": "Second Choice" },
                                { "const": "value3", "title": "Third Choice" },
                            ] } },
                        },
                        "required": [],
                    },
                }))?;
                Ok(text_result(&format!("Elicitation completed: {answer}")))
            },
        )
}

fn elicit(cx: &Context, params: Value) -> Result<Value, ToolError> {
    cx.elicit(params).map_err(|e| ToolError(e.to_string()))
}
