//! Questions a handler puts to the client, and, on the stateless 2026-07-28 revision,
//! multi round-trip requests: a handler that needs an answer ends with an
//! `input_required` result listing its questions, and the client sends the same request
//! again with the answers (`inputResponses`) and the `requestState` it was given.
//!
//! Handlers are replayed from the start each round, asking the same questions in the
//! same order; [`crate::context::Context::ask`] returns the answers it already has. The
//! answers of earlier rounds travel in `requestState`, sealed with an HMAC and bound to
//! the user, the request and an expiry, so a client can neither alter them nor replay
//! them elsewhere. The state is a seal, not a secret: it holds only what the client
//! itself answered.

use std::cell::{OnceCell, RefCell};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use crate::jsonrpc::{Error, code};

/// How long a `requestState` stays valid: long enough for a person to answer a form.
pub const STATE_LIFETIME_SECS: u64 = 60 * 60;

/// Something only the client can provide.
#[derive(Debug, Clone, PartialEq)]
pub enum Question {
    /// `elicitation/create`: ask the user (params: `message`, `requestedSchema`).
    Elicit(Value),
    /// `sampling/createMessage`: ask the client's model (params: `messages`, `maxTokens`).
    Sample(Value),
    /// `roots/list`: the client's roots.
    ListRoots,
}

impl Question {
    pub fn method(&self) -> &'static str {
        match self {
            Question::Elicit(_) => "elicitation/create",
            Question::Sample(_) => "sampling/createMessage",
            Question::ListRoots => "roots/list",
        }
    }

    /// The client capability the question needs.
    pub fn capability(&self) -> &'static str {
        match self {
            Question::Elicit(_) => "elicitation",
            Question::Sample(_) => "sampling",
            Question::ListRoots => "roots",
        }
    }

    pub fn params(&self) -> Value {
        match self {
            Question::Elicit(params) | Question::Sample(params) => params.clone(),
            Question::ListRoots => json!({}),
        }
    }

    /// Whether `answer` has the shape of a result of this question's method.
    pub fn is_answered_by(&self, answer: &Value) -> bool {
        match self {
            Question::Elicit(_) => answer
                .get("action")
                .and_then(Value::as_str)
                .is_some_and(|a| matches!(a, "accept" | "decline" | "cancel")),
            Question::Sample(_) => answer
                .get("content")
                .is_some_and(|c| c.is_object() || c.is_array()),
            Question::ListRoots => answer.get("roots").is_some_and(Value::is_array),
        }
    }
}

/// The key that seals `requestState`, loaded only when a state is sealed or opened.
pub type StateKey<'a> = &'a dyn Fn() -> Result<Vec<u8>, String>;

/// One round of a multi round-trip request: the answers the client has given so far,
/// and the questions still open.
pub struct Round<'a> {
    answers: Map<String, Value>,
    used: RefCell<Map<String, Value>>,
    asked: RefCell<Map<String, Value>>,
    binding: Binding,
    key: StateKey<'a>,
    /// The key once loaded: a round that opens a state and seals the next loads it once.
    loaded_key: OnceCell<Vec<u8>>,
    now: u64,
}

/// What a `requestState` is valid for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Binding {
    /// The user the answers came from.
    user: String,
    /// The method and the tool, prompt or resource it names.
    request: String,
}

#[derive(Serialize, Deserialize)]
struct State {
    #[serde(flatten)]
    binding: Binding,
    expires_at: u64,
    answers: Map<String, Value>,
}

/// The methods whose handlers may ask: everything else answers at once.
pub fn may_ask(method: &str) -> bool {
    matches!(method, "tools/call" | "prompts/get" | "resources/read")
}

impl<'a> Round<'a> {
    /// The round a request opens: its `inputResponses`, with the answers of earlier
    /// rounds from its `requestState` (which win: a retry cannot change them).
    pub fn open(
        user: &str,
        method: &str,
        params: &Map<String, Value>,
        key: StateKey<'a>,
        now: u64,
    ) -> Result<Self, Error> {
        let invalid = |message: &str| Error::new(code::INVALID_PARAMS, message);
        let named = params
            .get("name")
            .or_else(|| params.get("uri"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let binding = Binding {
            user: user.to_owned(),
            request: format!("{method} {named}"),
        };
        let answers = match params.get("inputResponses") {
            None => Map::new(),
            Some(Value::Object(responses)) => responses.clone(),
            Some(_) => return Err(invalid("params.inputResponses must be an object")),
        };
        let mut round = Self {
            answers,
            used: RefCell::default(),
            asked: RefCell::default(),
            binding,
            key,
            loaded_key: OnceCell::new(),
            now,
        };
        match params.get("requestState") {
            None => {}
            Some(Value::String(sealed)) => {
                let state = open(sealed, round.key()?, &round.binding, now).ok_or_else(|| {
                    invalid(
                        "params.requestState was altered, has expired, or belongs to another request",
                    )
                })?;
                round.answers.extend(state.answers);
            }
            Some(_) => return Err(invalid("params.requestState must be a string")),
        }
        Ok(round)
    }

    fn key(&self) -> Result<&[u8], Error> {
        if let Some(key) = self.loaded_key.get() {
            return Ok(key);
        }
        let key = (self.key)().map_err(|e| {
            eprintln!("mcp request state: {e}");
            Error::new(code::INTERNAL_ERROR, "the request state key is unavailable")
        })?;
        Ok(self.loaded_key.get_or_init(|| key))
    }

    /// The client's answer to the question `key`: `Ok(None)` when it has not been
    /// answered yet (the question is then recorded), an error when the answer does not
    /// fit the question.
    pub fn answer(&self, key: &str, question: &Question) -> Result<Option<Value>, String> {
        let Some(answer) = self.answers.get(key) else {
            self.asked.borrow_mut().insert(
                key.to_owned(),
                json!({ "method": question.method(), "params": question.params() }),
            );
            return Ok(None);
        };
        if !question.is_answered_by(answer) {
            return Err(format!(
                "inputResponses.{key} is not a result of {}",
                question.method()
            ));
        }
        self.used
            .borrow_mut()
            .insert(key.to_owned(), answer.clone());
        Ok(Some(answer.clone()))
    }

    /// The `input_required` result for the questions asked this round, with the state
    /// that carries this round's answers into the next.
    pub fn input_required(&self) -> Result<Value, Error> {
        let key = self.key()?;
        let state = State {
            binding: self.binding.clone(),
            expires_at: self.now + STATE_LIFETIME_SECS,
            answers: self.used.borrow().clone(),
        };
        Ok(json!({
            "resultType": "input_required",
            "inputRequests": *self.asked.borrow(),
            "requestState": seal(&state, key),
        }))
    }
}

/// The key that seals request states, derived from the server's signing key so that
/// no other signature it makes can pass for a request state.
pub fn state_key(server_key: &[u8]) -> Vec<u8> {
    mac(server_key, b"mcp request state")
        .finalize()
        .into_bytes()
        .to_vec()
}

fn seal(state: &State, key: &[u8]) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(state).unwrap_or_default());
    let tag = URL_SAFE_NO_PAD.encode(mac(key, payload.as_bytes()).finalize().into_bytes());
    format!("{payload}.{tag}")
}

fn open(sealed: &str, key: &[u8], binding: &Binding, now: u64) -> Option<State> {
    let (payload, tag) = sealed.split_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    mac(key, payload.as_bytes()).verify_slice(&tag).ok()?;
    let state: State = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    (state.binding == *binding && now < state.expires_at).then_some(state)
}

fn mac(key: &[u8], data: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Result<Vec<u8>, String> {
        Ok(b"0123456789abcdef0123456789abcdef".to_vec())
    }

    fn name_question() -> Question {
        Question::Elicit(json!({"message": "Name?", "requestedSchema": {"type": "object"}}))
    }

    fn params(value: Value) -> Map<String, Value> {
        let mut params = value.as_object().cloned().unwrap();
        params.insert("name".into(), json!("tool"));
        params
    }

    #[test]
    fn unanswered_questions_become_an_input_required_result() {
        let round = Round::open("u1", "tools/call", &params(json!({})), &key, 100).unwrap();
        assert_eq!(round.answer("name", &name_question()), Ok(None));
        assert_eq!(round.answer("roots", &Question::ListRoots), Ok(None));
        let result = round.input_required().unwrap();
        assert_eq!(result["resultType"], "input_required");
        assert_eq!(
            result["inputRequests"]["name"]["method"],
            "elicitation/create"
        );
        assert_eq!(
            result["inputRequests"]["roots"],
            json!({"method": "roots/list", "params": {}})
        );
        assert!(result["requestState"].as_str().unwrap().contains('.'));
    }

    #[test]
    fn answers_carry_over_rounds_in_the_sealed_state() {
        let first = params(
            json!({"inputResponses": {"name": {"action": "accept", "content": {"name": "Ada"}}}}),
        );
        let round = Round::open("u1", "tools/call", &first, &key, 100).unwrap();
        assert!(round.answer("name", &name_question()).unwrap().is_some());
        assert_eq!(round.answer("color", &name_question()), Ok(None));
        let state = round.input_required().unwrap()["requestState"].clone();

        // The next round sends only the new answer; the state supplies the old one, and
        // wins over a changed copy of it.
        let second = params(json!({
            "requestState": state,
            "inputResponses": {
                "color": {"action": "accept", "content": {"color": "blue"}},
                "name": {"action": "accept", "content": {"name": "Eve"}},
            },
        }));
        let round = Round::open("u1", "tools/call", &second, &key, 200).unwrap();
        let name = round.answer("name", &name_question()).unwrap().unwrap();
        assert_eq!(name["content"]["name"], "Ada");
        assert!(round.answer("color", &name_question()).unwrap().is_some());
    }

    #[test]
    fn a_state_is_refused_when_altered_expired_or_used_elsewhere() {
        let round = Round::open("u1", "tools/call", &params(json!({})), &key, 100).unwrap();
        round.answer("name", &name_question()).unwrap();
        let state = round.input_required().unwrap()["requestState"]
            .as_str()
            .unwrap()
            .to_owned();
        let retry = |user: &str, method: &str, state: &str, now: u64| {
            let params = params(json!({ "requestState": state }));
            Round::open(user, method, &params, &key, now).map(|_| ())
        };
        assert_eq!(retry("u1", "tools/call", &state, 101), Ok(()));
        let tampered = format!("{state}-TAMPERED");
        for (user, method, state, now) in [
            ("u1", "tools/call", tampered.as_str(), 101),
            ("u2", "tools/call", state.as_str(), 101),
            ("u1", "prompts/get", state.as_str(), 101),
            (
                "u1",
                "tools/call",
                state.as_str(),
                100 + STATE_LIFETIME_SECS,
            ),
            ("u1", "tools/call", "no-dot", 101),
        ] {
            let error = retry(user, method, state, now).unwrap_err();
            assert_eq!(error.code, code::INVALID_PARAMS, "{user} {method} {now}");
        }
    }

    #[test]
    fn malformed_responses_and_answers_are_invalid_params() {
        for bad in [
            json!({"inputResponses": null}),
            json!({"inputResponses": [1]}),
            json!({"requestState": 5}),
        ] {
            let error = Round::open("u1", "tools/call", &params(bad), &key, 1)
                .map(|_| ())
                .unwrap_err();
            assert_eq!(error.code, code::INVALID_PARAMS);
        }
        let given = params(json!({"inputResponses": {"name": 12345, "roots": {"roots": []}}}));
        let round = Round::open("u1", "tools/call", &given, &key, 1).unwrap();
        assert!(round.answer("name", &name_question()).is_err());
        assert!(
            round
                .answer("roots", &Question::ListRoots)
                .unwrap()
                .is_some()
        );
        assert!(Question::Sample(json!({})).is_answered_by(
            &json!({"role": "assistant", "content": {"type": "text", "text": "Paris"}})
        ));
        assert!(!Question::Elicit(json!({})).is_answered_by(&json!({"action": "maybe"})));
    }
}
