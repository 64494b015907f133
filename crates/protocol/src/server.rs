//! Answering one JSON-RPC message: lifecycle (`initialize`, `ping`), tools, resources,
//! prompts and completion. Session state (log levels, sessions themselves) belongs to
//! the transport; this module only reads what the [`Context`] carries.

use serde_json::{Map, Value, json};

use crate::context::Context;
use crate::jsonrpc::{self, Error, Incoming, code};
use crate::prompt::Prompts;
use crate::resource::{self, Resources};
use crate::tool::{self, Registry};
use crate::version;

/// What `initialize` tells the client about this server.
pub struct ServerInfo {
    pub name: &'static str,
    pub version: &'static str,
}

/// Entries per page of `tools/list`, `resources/list` and `prompts/list`.
pub const PAGE_SIZE: usize = 50;

pub struct Server {
    pub info: ServerInfo,
    pub tools: Registry,
    pub resources: Resources,
    pub prompts: Prompts,
}

impl Server {
    /// The response to `incoming`, or `None` for notifications and responses (which
    /// get 202 Accepted and no body).
    pub fn handle(&self, incoming: Incoming, context: &Context) -> Option<Value> {
        let Incoming::Request { id, method, params } = incoming else {
            return None;
        };
        Some(match self.request(&method, &params, context) {
            Ok(result) => jsonrpc::result(&id, result),
            Err(error) => jsonrpc::error(Some(&id), &error),
        })
    }

    /// The result of one request, or its JSON-RPC error.
    pub fn request(
        &self,
        method: &str,
        params: &Map<String, Value>,
        context: &Context,
    ) -> Result<Value, Error> {
        match method {
            "initialize" => Ok(self.initialize(params)),
            "ping" => Ok(json!({})),
            "tools/list" => {
                let (tools, next) = page(self.tools.len(), params, |s, n| self.tools.page(s, n))?;
                Ok(with_cursor(json!({ "tools": tools }), next))
            }
            // The handlers that may ask the client something: their outcome gives way
            // to open questions or to what stopped them.
            "tools/call" => context.settle(self.call_tool(params, context)),
            "resources/list" => {
                let all = self.resources.list();
                let (resources, next) = page(all.len(), params, |s, n| slice(&all, s, n))?;
                Ok(with_cursor(json!({ "resources": resources }), next))
            }
            "resources/templates/list" => {
                let all = self.resources.list_templates();
                let (templates, next) = page(all.len(), params, |s, n| slice(&all, s, n))?;
                Ok(with_cursor(json!({ "resourceTemplates": templates }), next))
            }
            "resources/read" => {
                let uri = uri(params)?;
                let contents = self.resources.read(uri, context);
                context.settle(contents.map(|contents| json!({ "contents": contents })))
            }
            "resources/subscribe" | "resources/unsubscribe" => {
                // The resources served here do not change while a client watches them, so
                // a subscription is kept by never having anything to report.
                let uri = uri(params)?;
                if self.resources.exists(uri) {
                    Ok(json!({}))
                } else {
                    Err(resource::not_found(uri))
                }
            }
            "prompts/list" => {
                let all = self.prompts.list();
                let (prompts, next) = page(all.len(), params, |s, n| slice(&all, s, n))?;
                Ok(with_cursor(json!({ "prompts": prompts }), next))
            }
            "prompts/get" => context.settle(self.prompts.get(params, context)),
            "completion/complete" => self.complete(params),
            "logging/setLevel" => crate::logging::requested_level(params).map(|_| json!({})),
            _ => Err(Error::new(
                code::METHOD_NOT_FOUND,
                format!("method {method:?} is not supported"),
            )),
        }
    }

    /// What this server offers, for `initialize` (and `server/discover`).
    pub fn capabilities(&self) -> Value {
        let mut capabilities = json!({
            "tools": { "listChanged": false },
            "logging": {},
            "completions": {},
        });
        if !self.resources.is_empty() {
            capabilities["resources"] = json!({ "subscribe": true, "listChanged": false });
        }
        if !self.prompts.is_empty() {
            capabilities["prompts"] = json!({ "listChanged": false });
        }
        capabilities
    }

    fn initialize(&self, params: &Map<String, Value>) -> Value {
        let requested = params.get("protocolVersion").and_then(Value::as_str);
        json!({
            "protocolVersion": version::negotiate(requested),
            "capabilities": self.capabilities(),
            "serverInfo": { "name": self.info.name, "version": self.info.version },
        })
    }

    fn call_tool(&self, params: &Map<String, Value>, context: &Context) -> Result<Value, Error> {
        let invalid = |message: String| Error::new(code::INVALID_PARAMS, message);
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("params.name must be a tool name".into()))?;
        let arguments = tool::arguments(params);
        if !arguments.is_object() {
            return Err(invalid("params.arguments must be an object".into()));
        }
        self.tools
            .call(name, arguments, context)
            .ok_or_else(|| invalid(format!("unknown tool {name:?}")))
    }

    fn complete(&self, params: &Map<String, Value>) -> Result<Value, Error> {
        let invalid = |message: &str| Error::new(code::INVALID_PARAMS, message);
        let reference = params
            .get("ref")
            .ok_or_else(|| invalid("params.ref is required"))?;
        let argument = params
            .get("argument")
            .ok_or_else(|| invalid("params.argument is required"))?;
        let (Some(argument_name), Some(value)) = (
            argument.get("name").and_then(Value::as_str),
            argument.get("value").and_then(Value::as_str),
        ) else {
            return Err(invalid("params.argument needs a name and a value"));
        };
        let values = match reference.get("type").and_then(Value::as_str) {
            Some("ref/prompt") => {
                let name = reference
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.prompts
                    .complete(name, argument_name, value)
                    .ok_or_else(|| invalid("unknown prompt"))?
            }
            // Resource templates here take free-form values: nothing to suggest.
            Some("ref/resource") => Vec::new(),
            _ => {
                return Err(invalid(
                    "params.ref.type must be ref/prompt or ref/resource",
                ));
            }
        };
        let total = values.len();
        let values: Vec<String> = values.into_iter().take(100).collect();
        Ok(json!({
            "completion": { "values": values, "total": total, "hasMore": total > 100 }
        }))
    }
}

fn uri(params: &Map<String, Value>) -> Result<&str, Error> {
    params
        .get("uri")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::new(code::INVALID_PARAMS, "params.uri must be a string"))
}

fn slice(all: &[Value], start: usize, count: usize) -> Vec<Value> {
    all.iter().skip(start).take(count).cloned().collect()
}

/// One page of a list of `total` entries, from `params.cursor`, with the next page's
/// cursor. Cursors are opaque to clients; here they are the offset in a fixed list.
fn page(
    total: usize,
    params: &Map<String, Value>,
    entries: impl FnOnce(usize, usize) -> Vec<Value>,
) -> Result<(Vec<Value>, Option<String>), Error> {
    let start = match params.get("cursor") {
        None | Some(Value::Null) => 0,
        Some(Value::String(cursor)) => cursor
            .strip_prefix("offset-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n > 0 && *n < total)
            .ok_or_else(|| {
                Error::new(
                    code::INVALID_PARAMS,
                    "params.cursor is not a cursor this server gave",
                )
            })?,
        Some(_) => {
            return Err(Error::new(
                code::INVALID_PARAMS,
                "params.cursor must be a string",
            ));
        }
    };
    let end = start.saturating_add(PAGE_SIZE);
    let next = (end < total).then(|| format!("offset-{end}"));
    Ok((entries(start, PAGE_SIZE), next))
}

fn with_cursor(mut result: Value, next: Option<String>) -> Value {
    if let Some(next) = next {
        result["nextCursor"] = json!(next);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tool::{Tool, ToolError};
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Deserialize, JsonSchema)]
    struct Nothing {}

    #[derive(Serialize, JsonSchema)]
    struct Me {
        user_id: String,
    }

    struct WhoAmI;

    impl Tool for WhoAmI {
        const NAME: &'static str = "whoami";
        const DESCRIPTION: &'static str = "Who is signed in.";
        type Input = Nothing;
        type Output = Me;
        fn call(&self, _: Nothing, context: &Context) -> Result<Me, ToolError> {
            Ok(Me {
                user_id: context.user_id.clone(),
            })
        }
    }

    fn server() -> Server {
        Server {
            info: ServerInfo {
                name: "test",
                version: "1",
            },
            tools: Registry::new().register(WhoAmI),
            resources: Resources::new(),
            prompts: Prompts::new(),
        }
    }

    fn ask(body: &str) -> Value {
        let silent = crate::context::Silent;
        server()
            .handle(
                jsonrpc::parse(body.as_bytes()).unwrap(),
                &crate::context::testing::context(&silent),
            )
            .unwrap()
    }

    #[test]
    fn initialize_negotiates_and_names_the_server() {
        let reply = ask(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
        );
        assert_eq!(reply["result"]["protocolVersion"], "2025-06-18");
        assert_eq!(reply["result"]["serverInfo"]["name"], "test");
        assert!(reply["result"]["capabilities"]["tools"].is_object());
    }

    #[test]
    fn tools_are_listed_and_called_as_the_user() {
        let list = ask(r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#);
        assert_eq!(list["result"]["tools"][0]["name"], "whoami");
        let call =
            ask(r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"whoami"}}"#);
        assert_eq!(call["result"]["structuredContent"]["user_id"], "user_1");
    }

    #[test]
    fn bad_calls_and_unknown_methods_get_their_codes() {
        for (body, expected) in [
            (
                r#"{"jsonrpc":"2.0","id":4,"method":"nope"}"#,
                code::METHOD_NOT_FOUND,
            ),
            (
                r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{}}"#,
                code::INVALID_PARAMS,
            ),
            (
                r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"nope"}}"#,
                code::INVALID_PARAMS,
            ),
            (
                r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"whoami","arguments":[1]}}"#,
                code::INVALID_PARAMS,
            ),
        ] {
            let reply = ask(body);
            assert_eq!(reply["error"]["code"], expected, "{body}");
            assert!(reply.get("result").is_none());
        }
    }

    #[test]
    fn notifications_get_no_response() {
        let note = jsonrpc::parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        let silent = crate::context::Silent;
        let context = crate::context::testing::context(&silent);
        assert!(server().handle(note.unwrap(), &context).is_none());
    }

    #[test]
    fn lists_are_paged_with_opaque_cursors() {
        let mut tools = Registry::new();
        for _ in 0..(PAGE_SIZE + 3) {
            tools = tools.register_raw("t", "A tool.", json!({"type": "object"}), |_, _| {
                Ok(crate::tool::text_result("ok"))
            });
        }
        let server = Server { tools, ..server() };
        let silent = crate::context::Silent;
        let context = crate::context::testing::context(&silent);
        let list =
            |params: Value| server.request("tools/list", params.as_object().unwrap(), &context);
        let first = list(json!({})).unwrap();
        assert_eq!(first["tools"].as_array().unwrap().len(), PAGE_SIZE);
        let cursor = first["nextCursor"].as_str().unwrap();
        let second = list(json!({ "cursor": cursor })).unwrap();
        assert_eq!(second["tools"].as_array().unwrap().len(), 3);
        assert!(second.get("nextCursor").is_none());
        for bad in [
            json!({"cursor": "offset-0"}),
            json!({"cursor": "x"}),
            json!({"cursor": 3}),
        ] {
            assert_eq!(list(bad).unwrap_err().code, code::INVALID_PARAMS);
        }
    }

    #[test]
    fn empty_results_are_exactly_empty_and_levels_are_checked() {
        for body in [
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"debug"}}"#,
        ] {
            assert_eq!(ask(body)["result"], json!({}), "{body}");
        }
        let bad = ask(
            r#"{"jsonrpc":"2.0","id":3,"method":"logging/setLevel","params":{"level":"loud"}}"#,
        );
        assert_eq!(bad["error"]["code"], code::INVALID_PARAMS);
        let missing =
            ask(r#"{"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"x://y"}}"#);
        assert_eq!(missing["error"]["code"], crate::resource::NOT_FOUND);
        let complete = ask(
            r#"{"jsonrpc":"2.0","id":5,"method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":"x://{a}"},"argument":{"name":"a","value":""}}}"#,
        );
        assert_eq!(complete["result"]["completion"]["values"], json!([]));
    }
}
