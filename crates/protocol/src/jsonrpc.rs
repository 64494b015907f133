//! JSON-RPC 2.0 messages: what a POST body may hold, and the error objects we answer with.

use serde::Serialize;
use serde_json::{Map, Value};

/// JSON-RPC 2.0 §5.1 error codes.
pub mod code {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL_ERROR: i64 = -32603;
    /// MCP 2026-07-28: a header disagrees with the body (or is missing).
    pub const HEADER_MISMATCH: i64 = -32020;
    /// MCP 2026-07-28: the request needs a client capability it did not declare.
    pub const MISSING_CAPABILITY: i64 = -32021;
    /// MCP 2026-07-28: the protocol version is not one this server speaks.
    pub const UNSUPPORTED_VERSION: i64 = -32022;
}

/// A request id: a string or an integer (MCP forbids null).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Id {
    Number(i64),
    String(String),
}

/// One incoming message.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Request {
        id: Id,
        method: String,
        params: Map<String, Value>,
    },
    Notification {
        method: String,
        params: Map<String, Value>,
    },
    /// A client's answer to a request the server sent it: its `result`, or its `error`
    /// object.
    Response {
        id: Id,
        outcome: Result<Value, Value>,
    },
}

/// An error object, with the id it answers (`None` when the request's id is unknown).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Error {
    pub code: i64,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl Error {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }
}

/// Parses a POST body holding one message. A batch (a JSON array) is refused: MCP
/// removed batching in 2025-06-18, and no client in use sends one.
pub fn parse(body: &[u8]) -> Result<Incoming, (Option<Id>, Error)> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        (
            None,
            Error::new(code::PARSE_ERROR, "the body is not valid JSON"),
        )
    })?;
    let Value::Object(mut message) = value else {
        let reason = if value.is_array() {
            "batches are not supported; send one message per request"
        } else {
            "a message must be a JSON object"
        };
        return Err((None, Error::new(code::INVALID_REQUEST, reason)));
    };
    let id = match message.remove("id") {
        None => None,
        Some(Value::String(s)) => Some(Id::String(s)),
        Some(Value::Number(n)) if n.is_i64() => Some(Id::Number(n.as_i64().unwrap_or_default())),
        Some(_) => {
            return Err((
                None,
                Error::new(code::INVALID_REQUEST, "id must be a string or an integer"),
            ));
        }
    };
    let invalid = |reason: &str| (id.clone(), Error::new(code::INVALID_REQUEST, reason));
    if message.get("jsonrpc") != Some(&Value::String("2.0".into())) {
        return Err(invalid("jsonrpc must be \"2.0\""));
    }
    if message.contains_key("result") || message.contains_key("error") {
        return match (id.clone(), message.contains_key("method")) {
            (Some(id), false) => {
                let outcome = match (message.remove("result"), message.remove("error")) {
                    (Some(result), None) => Ok(result),
                    (None, Some(error)) => Err(error),
                    _ => return Err(invalid("a response holds a result or an error, not both")),
                };
                Ok(Incoming::Response { id, outcome })
            }
            _ => Err(invalid("a response needs an id and no method")),
        };
    }
    let method = match message.remove("method") {
        Some(Value::String(method)) => method,
        _ => return Err(invalid("method must be a string")),
    };
    let params = match message.remove("params") {
        None => Map::new(),
        Some(Value::Object(params)) => params,
        Some(_) => {
            return Err((
                id,
                Error::new(code::INVALID_PARAMS, "params must be an object"),
            ));
        }
    };
    Ok(match id {
        Some(id) => Incoming::Request { id, method, params },
        None => Incoming::Notification { method, params },
    })
}

/// A success response.
pub fn result(id: &Id, result: Value) -> Value {
    serde_json::json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

/// An error response; `id` is null when the request's id could not be read.
pub fn error(id: Option<&Id>, error: &Error) -> Value {
    serde_json::json!({ "jsonrpc": "2.0", "id": id, "error": error })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> (Option<Id>, i64) {
        let (id, e) = parse(body.as_bytes()).unwrap_err();
        (id, e.code)
    }

    #[test]
    fn requests_notifications_and_responses_are_told_apart() {
        assert_eq!(
            parse(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#).unwrap(),
            Incoming::Request {
                id: Id::Number(7),
                method: "ping".into(),
                params: Map::new()
            }
        );
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap(),
            Incoming::Notification { .. }
        ));
        assert_eq!(
            parse(br#"{"jsonrpc":"2.0","id":"a","result":{}}"#).unwrap(),
            Incoming::Response {
                id: Id::String("a".into()),
                outcome: Ok(serde_json::json!({}))
            }
        );
        assert!(parse(br#"{"jsonrpc":"2.0","id":"a","result":{},"error":{}}"#).is_err());
    }

    #[test]
    fn malformed_messages_get_the_right_codes() {
        assert_eq!(err("{"), (None, code::PARSE_ERROR));
        assert_eq!(err("[]"), (None, code::INVALID_REQUEST));
        assert_eq!(err("3"), (None, code::INVALID_REQUEST));
        assert_eq!(
            err(r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#),
            (Some(Id::Number(1)), code::INVALID_REQUEST)
        );
        assert_eq!(
            err(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#),
            (None, code::INVALID_REQUEST)
        );
        assert_eq!(
            err(r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#),
            (None, code::INVALID_REQUEST)
        );
        assert_eq!(
            err(r#"{"jsonrpc":"2.0","id":"x","method":3}"#),
            (Some(Id::String("x".into())), code::INVALID_REQUEST)
        );
        assert_eq!(
            err(r#"{"jsonrpc":"2.0","id":2,"method":"ping","params":[1]}"#),
            (Some(Id::Number(2)), code::INVALID_PARAMS)
        );
    }

    #[test]
    fn responses_echo_the_id() {
        assert_eq!(
            result(&Id::String("q".into()), serde_json::json!({})).to_string(),
            r#"{"id":"q","jsonrpc":"2.0","result":{}}"#
        );
        assert_eq!(
            error(None, &Error::new(code::PARSE_ERROR, "bad")).to_string(),
            r#"{"error":{"code":-32700,"message":"bad"},"id":null,"jsonrpc":"2.0"}"#
        );
    }
}
