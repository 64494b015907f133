//! The fixture set of the MCP conformance suite's reference server: `test_*` tools,
//! `test://` resources and `test_*` prompts, compiled only with the `conformance`
//! feature (`mcp-conformance.wasm`, which the test suite builds), so that the suite runs
//! against the real component and no deployment ever serves them.

use protocol::input::Question;
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
        .add(
            "test_input_required_result_prompt",
            "Asks the user for context before it is built",
            vec![],
            |_, cx| match cx.ask("user_context", form("What context should the prompt use?", "context", "string")) {
                Ok(answer) => vec![message(
                    "user",
                    json!({ "type": "text", "text": format!("Context: {}", answer_field(&answer, "context")) }),
                )],
                // The context gives way to the input-required result.
                Err(_) => Vec::new(),
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
    let registry = registry
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
            "Asks for a confirmation: over the stream on a session, as an input-required result on the stateless revision",
            no_arguments(),
            |_, cx| {
                let answer = cx.ask("confirmation", confirm("Please confirm"))?;
                Ok(text_result(&format!("Elicitation completed: {answer}")))
            },
        )
        .register_raw(
            "test_missing_capability",
            "Needs the client's sampling capability",
            no_arguments(),
            |_, cx| {
                let answer = cx.ask("question", capital_question())?;
                Ok(text_result(&format!("Sampled: {}", sampled_text(&answer))))
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
                let answer = cx.ask("answer", sample(prompt))?;
                Ok(text_result(&format!("LLM response: {}", sampled_text(&answer))))
            },
        )
        .register_raw(
            "test_elicitation",
            "Asks the user for information",
            string_argument("message", "What to ask"),
            |arguments, cx| {
                let answer = cx.ask("form", Question::Elicit(json!({
                    "message": arguments["message"].as_str().unwrap_or_default(),
                    "requestedSchema": {
                        "type": "object",
                        "properties": {
                            "username": { "type": "string", "description": "User's response" },
                            "email": { "type": "string", "description": "User's email address" },
                        },
                        "required": ["username", "email"],
                    },
                })))?;
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
                let answer = cx.ask("form", Question::Elicit(json!({
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
                })))?;
                Ok(text_result(&format!("Elicitation completed: {answer}")))
            },
        )
        .register_raw(
            "test_elicitation_sep1330_enums",
            "Asks with each kind of enum",
            no_arguments(),
            |_, cx| {
                let answer = cx.ask("form", Question::Elicit(json!({
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
                })))?;
                Ok(text_result(&format!("Elicitation completed: {answer}")))
            },
        )
        .register_raw(
            "test_custom_header",
            "Echoes a region that clients also send in the Mcp-Param-Region header",
            json!({
                "type": "object",
                "properties": {
                    "region": { "type": "string", "description": "Any text", "x-mcp-header": "Region" },
                },
                "required": ["region"],
            }),
            |arguments, _| {
                Ok(text_result(&format!("Region: {}", arguments["region"].as_str().unwrap_or_default())))
            },
        )
        .register_raw(
            "json_schema_2020_12_tool",
            "Tool with JSON Schema 2020-12 features",
            json_schema_2020_12(),
            |arguments, _| Ok(text_result(&format!("Received: {arguments}"))),
        );
    input_required_tools(registry)
}

/// An input schema using the 2020-12 vocabulary the suite checks is passed through
/// untouched: `$schema`, `$defs` with an `$anchor`, composition and conditionals.
fn json_schema_2020_12() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": { "street": { "type": "string" }, "city": { "type": "string" } },
            },
        },
        "properties": {
            "name": { "type": "string" },
            "address": { "$ref": "#/$defs/address" },
            "contactMethod": { "type": "string", "enum": ["phone", "email"] },
            "phone": { "type": "string" },
            "email": { "type": "string" },
        },
        "allOf": [{ "anyOf": [{ "required": ["phone"] }, { "required": ["email"] }] }],
        "if": { "properties": { "contactMethod": { "const": "phone" } }, "required": ["contactMethod"] },
        "then": { "required": ["phone"] },
        "else": { "required": ["email"] },
        "additionalProperties": false,
    })
}

/// The tools and the prompt of the input-required scenarios (2026-07-28): each asks
/// through `Context::ask`, so on a 2025-era session the same code sends its questions
/// over the stream instead.
fn input_required_tools(registry: protocol::tool::Registry) -> protocol::tool::Registry {
    registry
        .register_raw(
            "test_input_required_result_elicitation",
            "Asks the user's name",
            no_arguments(),
            |_, cx| {
                let answer = cx.ask("user_name", ask_name())?;
                Ok(text_result(&format!(
                    "Hello, {}!",
                    answer_field(&answer, "name")
                )))
            },
        )
        .register_raw(
            "test_input_required_result_sampling",
            "Asks the client's model a question",
            no_arguments(),
            |_, cx| {
                let answer = cx.ask("capital_question", capital_question())?;
                Ok(text_result(&format!(
                    "The model says: {}",
                    sampled_text(&answer)
                )))
            },
        )
        .register_raw(
            "test_input_required_result_list_roots",
            "Lists the client's roots",
            no_arguments(),
            |_, cx| {
                let answer = cx.ask("client_roots", Question::ListRoots)?;
                Ok(text_result(&format!("Roots: {}", answer["roots"])))
            },
        )
        .register_raw(
            "test_input_required_result_request_state",
            "Asks for a confirmation, keeping state across rounds",
            no_arguments(),
            |_, cx| {
                let answer = cx.ask("confirm", confirm("Please confirm to continue"))?;
                Ok(text_result(&format!(
                    "state-ok: confirmed={}",
                    answer_field(&answer, "ok")
                )))
            },
        )
        .register_raw(
            "test_input_required_result_multiple_inputs",
            "Asks for a name, a completion and the roots in one round",
            no_arguments(),
            |_, cx| {
                let name = cx.ask("user_name", ask_name());
                let greeting = cx.ask("greeting", sample("Write a one-line greeting."));
                let roots = cx.ask("client_roots", Question::ListRoots);
                let (name, greeting, roots) = (name?, greeting?, roots?);
                Ok(text_result(&format!(
                    "{} / {} / {} roots",
                    answer_field(&name, "name"),
                    sampled_text(&greeting),
                    roots["roots"].as_array().map_or(0, Vec::len),
                )))
            },
        )
        .register_raw(
            "test_input_required_result_multi_round",
            "Asks a name, then a favourite colour",
            no_arguments(),
            |_, cx| {
                let name = cx.ask("user_name", ask_name())?;
                let color = cx.ask(
                    "favorite_color",
                    form("What is your favourite colour?", "color", "string"),
                )?;
                Ok(text_result(&format!(
                    "{} likes {}",
                    answer_field(&name, "name"),
                    answer_field(&color, "color")
                )))
            },
        )
        .register_raw(
            "test_input_required_result_tampered_state",
            "Asks for a confirmation; a retry with an altered state is refused",
            no_arguments(),
            |_, cx| {
                let answer = cx.ask("confirm", confirm("Please confirm"))?;
                Ok(text_result(&format!(
                    "confirmed={}",
                    answer_field(&answer, "ok")
                )))
            },
        )
        .register_raw(
            "test_input_required_result_capabilities",
            "Asks only what the client declared it can answer",
            no_arguments(),
            |_, cx| {
                let capabilities = cx.client_capabilities;
                let sampled = capabilities
                    .sampling
                    .then(|| cx.ask("capital_question", capital_question()));
                let elicited = capabilities
                    .elicitation
                    .then(|| cx.ask("user_name", ask_name()));
                let sampled = sampled.transpose()?;
                let elicited = elicited.transpose()?;
                Ok(text_result(&format!(
                    "sampling: {}, elicitation: {}",
                    sampled.is_some(),
                    elicited.is_some()
                )))
            },
        )
}

fn form(message: &str, field: &str, kind: &str) -> Question {
    Question::Elicit(json!({
        "message": message,
        "requestedSchema": {
            "type": "object",
            "properties": { field: { "type": kind } },
            "required": [field],
        },
    }))
}

fn ask_name() -> Question {
    form("What is your name?", "name", "string")
}

fn confirm(message: &str) -> Question {
    form(message, "ok", "boolean")
}

fn sample(prompt: &str) -> Question {
    Question::Sample(json!({
        "messages": [{ "role": "user", "content": { "type": "text", "text": prompt } }],
        "maxTokens": 100,
    }))
}

fn capital_question() -> Question {
    sample("What is the capital of France?")
}

fn sampled_text(answer: &Value) -> &str {
    answer["content"]["text"].as_str().unwrap_or_default()
}

/// A field of an accepted form, as text ("" when the user declined).
fn answer_field(answer: &Value, field: &str) -> String {
    match &answer["content"][field] {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
