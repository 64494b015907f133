//! What a handler knows about the request it serves, and how it talks back to the client
//! before its result is ready: progress, log messages, and questions of its own
//! (elicitation, sampling, roots).

use std::cell::RefCell;

use serde_json::{Value, json};

use crate::input::{Question, Round};
use crate::jsonrpc::{Error, code};
use crate::logging::Level;
use crate::tool::ToolError;

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
    pub roots: bool,
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
            roots: has("roots"),
        }
    }

    /// Whether the client declared the capability `name`.
    pub fn has(&self, name: &str) -> bool {
        match name {
            "sampling" => self.sampling,
            "elicitation" => self.elicitation,
            "roots" => self.roots,
            _ => false,
        }
    }
}

/// Why a handler's own result gives way to something else once it returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Halt {
    /// Questions are open: the answer is an `input_required` result (2026-07-28).
    InputRequired,
    /// A question needs a capability the client did not declare (`-32021`).
    MissingCapability(&'static str),
    /// An answer the client sent does not fit its question (`-32602`).
    InvalidAnswer(String),
    /// The user's upstream sign-in ended and the grant is revoked: the client must
    /// sign in again (the transport answers with the 401 challenge).
    SignInAgain,
}

impl Halt {
    /// The JSON-RPC error this halt stands for; `None` for open questions.
    pub fn error(&self) -> Option<Error> {
        match self {
            Halt::InputRequired => None,
            Halt::MissingCapability(capability) => {
                let mut error = Error::new(
                    code::MISSING_CAPABILITY,
                    format!("this request needs the client's {capability} capability"),
                );
                error.data = Some(json!({ "requiredCapabilities": { *capability: {} } }));
                Some(error)
            }
            Halt::InvalidAnswer(message) => Some(Error::new(code::INVALID_PARAMS, message)),
            Halt::SignInAgain => Some(Error::new(
                code::INVALID_REQUEST,
                "the sign-in has ended: sign in again",
            )),
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
    /// The grant the request's token belongs to (the key to the user's upstream
    /// tokens) when this server issued it; `None` for tokens Clerk issued.
    pub grant_id: Option<String>,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The least severe log level the client asked for; no log messages when `None`.
    pub log_level: Option<Level>,
    /// `_meta.progressToken` of the request, echoed on progress notifications.
    pub progress_token: Option<Value>,
    pub client_capabilities: ClientCapabilities,
    pub peer: &'a dyn Peer,
    /// On 2026-07-28, where the server cannot send requests, questions are answered
    /// across rounds of the same request; `None` on the 2025-era revisions, where
    /// [`Context::ask`] sends the question and waits.
    pub round: Option<Round<'a>>,
    /// Set by [`Context::ask`] when the handler cannot finish: its result is then
    /// replaced (see [`Halt`]).
    pub halt: RefCell<Option<Halt>>,
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

    /// The client's answer to `question`, which `key` names among this handler's
    /// questions. On 2025-era revisions the question is sent on the request's stream
    /// and the answer awaited. On 2026-07-28 the answer comes with a later round of the
    /// same request: until then `ask` fails, the handler's result is discarded, and the
    /// client receives an `input_required` result listing every question asked this
    /// round. Ask all the questions a round needs before using `?` on any of them:
    ///
    /// ```text
    /// let name = cx.ask("name", Question::Elicit(form));
    /// let roots = cx.ask("roots", Question::ListRoots);
    /// let (name, roots) = (name?, roots?);
    /// ```
    ///
    /// Asking for a capability the client did not declare fails the request with
    /// `-32021`; check [`Context::client_capabilities`] first to do without it.
    pub fn ask(&self, key: &str, question: Question) -> Result<Value, ToolError> {
        let capability = question.capability();
        if !self.client_capabilities.has(capability) {
            self.stop(Halt::MissingCapability(capability));
            return Err(ToolError(format!(
                "the client did not declare the {capability} capability"
            )));
        }
        let Some(round) = &self.round else {
            return self
                .peer
                .request(question.method(), question.params())
                .map_err(|e| ToolError(e.to_string()));
        };
        match round.answer(key, &question) {
            Ok(Some(answer)) => Ok(answer),
            Ok(None) => {
                self.stop(Halt::InputRequired);
                Err(ToolError(format!(
                    "waiting for the client to answer {key:?}"
                )))
            }
            Err(message) => {
                self.stop(Halt::InvalidAnswer(message.clone()));
                Err(ToolError(message))
            }
        }
    }

    /// Ends the request with the 401 challenge once the handler returns: the user's
    /// upstream sign-in is gone and the grant was revoked.
    pub fn require_sign_in(&self) {
        self.stop(Halt::SignInAgain);
    }

    /// Whether the handler found the user's sign-in gone ([`Context::require_sign_in`]).
    pub fn must_sign_in(&self) -> bool {
        matches!(*self.halt.borrow(), Some(Halt::SignInAgain))
    }

    /// Records why the handler cannot finish; the first error outranks open questions.
    fn stop(&self, halt: Halt) {
        let mut current = self.halt.borrow_mut();
        if halt == Halt::SignInAgain || matches!(*current, None | Some(Halt::InputRequired)) {
            *current = Some(halt);
        }
    }

    /// What replaces the handler's own outcome, if anything: the `input_required`
    /// result for open questions, or the error that stopped it.
    pub fn settle(&self, outcome: Result<Value, Error>) -> Result<Value, Error> {
        if self.must_sign_in() {
            // Left in place for the transport, which answers with the challenge.
            return Err(Halt::SignInAgain
                .error()
                .unwrap_or_else(|| Error::new(code::INVALID_REQUEST, "sign in again")));
        }
        match self.halt.take() {
            None => outcome,
            Some(Halt::InputRequired) => match &self.round {
                Some(round) => round.input_required(),
                None => outcome,
            },
            Some(halt) => Err(halt.error().unwrap_or_else(|| {
                Error::new(code::INTERNAL_ERROR, "the request could not finish")
            })),
        }
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
            grant_id: Some("g".into()),
            scope: "mcp".into(),
            log_level: None,
            progress_token: None,
            client_capabilities: ClientCapabilities::default(),
            peer,
            round: None,
            halt: RefCell::default(),
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
    fn questions_go_to_the_peer_on_sessions_and_need_the_capability() {
        let peer = Recorder {
            answer: Some(json!({"action": "decline"})),
            ..Default::default()
        };
        let mut cx = context(&peer);
        let form = || Question::Elicit(json!({"message": "?"}));
        assert!(cx.ask("a", form()).is_err());
        let error = cx.settle(Ok(json!({}))).unwrap_err();
        assert_eq!(error.code, code::MISSING_CAPABILITY);
        assert_eq!(
            error.data.unwrap(),
            json!({"requiredCapabilities": {"elicitation": {}}})
        );
        cx.client_capabilities = ClientCapabilities::from_json(Some(&json!({"elicitation": {}})));
        assert_eq!(cx.ask("a", form()), Ok(json!({"action": "decline"})));
        assert_eq!(cx.settle(Ok(json!(1))), Ok(json!(1)));
        assert_eq!(peer.sent.borrow()[0].0, "elicitation/create");
    }

    #[test]
    fn on_the_stateless_revision_open_questions_replace_the_result() {
        let peer = Recorder::default();
        let key = || Ok(b"k".to_vec());
        let params = json!({"name": "t", "inputResponses": {"bad": {"action": "maybe"}}});
        let round = Round::open("u", "tools/call", params.as_object().unwrap(), &key, 1).unwrap();
        let cx = Context {
            client_capabilities: ClientCapabilities::from_json(Some(
                &json!({"elicitation": {}, "roots": {}}),
            )),
            round: Some(round),
            ..context(&peer)
        };
        let name = cx.ask("name", Question::Elicit(json!({"message": "?"})));
        let roots = cx.ask("roots", Question::ListRoots);
        assert!(name.is_err() && roots.is_err());
        let result = cx.settle(Ok(json!({"content": []}))).unwrap();
        assert_eq!(result["resultType"], "input_required");
        assert_eq!(result["inputRequests"].as_object().unwrap().len(), 2);
        assert!(
            peer.sent.borrow().is_empty(),
            "nothing is sent to the client"
        );
        // An answer of the wrong shape outranks open questions.
        let _ = cx.ask("other", Question::Elicit(json!({})));
        let _ = cx.ask("bad", Question::Elicit(json!({})));
        assert_eq!(
            cx.settle(Ok(json!({}))).unwrap_err().code,
            code::INVALID_PARAMS
        );
    }
}
