//! Answering one JSON-RPC message: `initialize`, `ping`, `tools/list`, `tools/call`.

use serde_json::{Map, Value, json};

use crate::jsonrpc::{self, Error, Incoming, code};
use crate::tool::{self, Context, Registry};
use crate::version;

/// What `initialize` tells the client about this server.
pub struct ServerInfo {
    pub name: &'static str,
    pub version: &'static str,
}

pub struct Server {
    pub info: ServerInfo,
    pub tools: Registry,
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

    fn request(
        &self,
        method: &str,
        params: &Map<String, Value>,
        context: &Context,
    ) -> Result<Value, Error> {
        match method {
            "initialize" => Ok(self.initialize(params)),
            "ping" => Ok(json!({})),
            "tools/list" => Ok(json!({ "tools": self.tools.list() })),
            "tools/call" => self.call_tool(params, context),
            _ => Err(Error::new(
                code::METHOD_NOT_FOUND,
                format!("method {method:?} is not supported"),
            )),
        }
    }

    fn initialize(&self, params: &Map<String, Value>) -> Value {
        let requested = params.get("protocolVersion").and_then(Value::as_str);
        json!({
            "protocolVersion": version::negotiate(requested),
            "capabilities": { "tools": { "listChanged": false } },
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
        }
    }

    fn context() -> Context {
        Context {
            user_id: "user_1".into(),
            session_id: None,
            client_id: "c".into(),
            scope: "mcp".into(),
        }
    }

    fn ask(body: &str) -> Value {
        server()
            .handle(jsonrpc::parse(body.as_bytes()).unwrap(), &context())
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
        assert!(server().handle(note.unwrap(), &context()).is_none());
    }
}
