//! What a handler knows about the request it serves, and how it talks back to the client
//! before its result is ready: progress, log messages, and requests of its own
//! (sampling, elicitation).

use serde_json::{Value, json};

use crate::logging::Level;

/// The channel back to the client while a request is being answered. The transport
/// implements it: events go on the request's SSE stream, answers to server requests
/// come back through the store.
pub trait Peer {
    /// Sends a notification ahead of the result. `false` when the client cannot receive
    /// one on this request (it accepts only JSON, or it went away).
    fn notify(&self, method: &str, params: Value) -> bool;

    /// Sends a request to the client and waits for its answer.
    fn request(&self, method: &str, params: Value) -> Result<Value, PeerError>;
}

/// Why a request to the client got no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerError {
    #[error("the client did not declare the {0} capability")]
    NotSupported(&'static str),
    #[error("the client cannot receive requests on this connection")]
    NoChannel,
    #[error("the client did not answer in time")]
    Timeout,
    #[error("the client answered with an error: {0}")]
    Rejected(String),
    #[error("the request could not be delivered: {0}")]
    Failed(String),
}

/// A peer for requests that cannot talk back (plain JSON answers, tests).
pub struct Silent;

impl Peer for Silent {
    fn notify(&self, _: &str, _: Value) -> bool {
        false
    }
    fn request(&self, _: &str, _: Value) -> Result<Value, PeerError> {
        Err(PeerError::NoChannel)
    }
}

/// What the client said it can do (`initialize` or, on 2026-07-28, the request's `_meta`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientCapabilities {
    pub sampling: bool,
    pub elicitation: bool,
}

impl ClientCapabilities {
    pub fn from_json(capabilities: Option<&Value>) -> Self {
        let has = |name: &str| {
            capabilities
                .and_then(|c| c.get(name))
                .is_some_and(Value::is_object)
        };
        Self {
            sampling: has("sampling"),
            elicitation: has("elicitation"),
        }
    }
}

/// Who a handler acts for and how to reach the client.
pub struct Context<'a> {
    /// Clerk user id, or `local:<name>` in local development.
    pub user_id: String,
    /// The Clerk session the sign-in came from (none in local development).
    pub session_id: Option<String>,
    /// The OAuth client the user approved.
    pub client_id: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The least severe log level the client asked for; no log messages when `None`.
    pub log_level: Option<Level>,
    /// `_meta.progressToken` of the request, echoed on progress notifications.
    pub progress_token: Option<Value>,
    pub client_capabilities: ClientCapabilities,
    pub peer: &'a dyn Peer,
}

impl Context<'_> {
    /// Reports progress, if the client asked for it (`_meta.progressToken`).
    pub fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = &self.progress_token else {
            return;
        };
        let mut params = json!({ "progressToken": token, "progress": progress });
        if let Some(total) = total {
            params["total"] = json!(total);
        }
        if let Some(message) = message {
            params["message"] = json!(message);
        }
        self.peer.notify("notifications/progress", params);
    }

    /// Sends a log message, if the client asked for messages this severe.
    pub fn log(&self, level: Level, data: Value) {
        if self.log_level.is_some_and(|least| level >= least) {
            self.peer.notify(
                "notifications/message",
                json!({ "level": level.as_str(), "data": data }),
            );
        }
    }

    /// Asks the client's model for a completion (`sampling/createMessage`).
    pub fn sample(&self, params: Value) -> Result<Value, PeerError> {
        if !self.client_capabilities.sampling {
            return Err(PeerError::NotSupported("sampling"));
        }
        self.peer.request("sampling/createMessage", params)
    }

    /// Asks the user for input through the client (`elicitation/create`).
    pub fn elicit(&self, params: Value) -> Result<Value, PeerError> {
        if !self.client_capabilities.elicitation {
            return Err(PeerError::NotSupported("elicitation"));
        }
        self.peer.request("elicitation/create", params)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use std::cell::RefCell;

    /// Records what a handler sends; answers requests with `answer`.
    #[derive(Default)]
    pub struct Recorder {
        pub sent: RefCell<Vec<(String, Value)>>,
        pub answer: Option<Value>,
    }

    impl Peer for Recorder {
        fn notify(&self, method: &str, params: Value) -> bool {
            self.sent.borrow_mut().push((method.into(), params));
            true
        }
        fn request(&self, method: &str, params: Value) -> Result<Value, PeerError> {
            self.sent.borrow_mut().push((method.into(), params));
            self.answer.clone().ok_or(PeerError::Timeout)
        }
    }

    pub fn context(peer: &dyn Peer) -> Context<'_> {
        Context {
            user_id: "user_1".into(),
            session_id: None,
            client_id: "c".into(),
            scope: "mcp".into(),
            log_level: None,
            progress_token: None,
            client_capabilities: ClientCapabilities::default(),
            peer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn progress_needs_a_token_and_logs_need_a_level() {
        let peer = Recorder::default();
        let mut cx = context(&peer);
        cx.progress(1.0, None, None);
        cx.log(Level::Error, json!("dropped"));
        assert!(peer.sent.borrow().is_empty());
        cx.progress_token = Some(json!(7));
        cx.log_level = Some(Level::Warning);
        cx.progress(1.0, Some(2.0), Some("half"));
        cx.log(Level::Info, json!("below the level"));
        cx.log(Level::Error, json!("sent"));
        let sent = peer.sent.borrow();
        assert_eq!(sent.len(), 2);
        assert_eq!(
            sent[0].1,
            json!({"progressToken": 7, "progress": 1.0, "total": 2.0, "message": "half"})
        );
        assert_eq!(sent[1].1, json!({"level": "error", "data": "sent"}));
    }

    #[test]
    fn requests_need_the_clients_capability() {
        let peer = Recorder {
            answer: Some(json!({"action": "decline"})),
            ..Default::default()
        };
        let mut cx = context(&peer);
        assert_eq!(
            cx.elicit(json!({})),
            Err(PeerError::NotSupported("elicitation"))
        );
        cx.client_capabilities = ClientCapabilities::from_json(Some(&json!({"elicitation": {}})));
        assert_eq!(cx.elicit(json!({})), Ok(json!({"action": "decline"})));
        assert_eq!(
            cx.sample(json!({})),
            Err(PeerError::NotSupported("sampling"))
        );
    }
}
