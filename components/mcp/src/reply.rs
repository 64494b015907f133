//! The answer to one POSTed request: `application/json` when the result is all there
//! is, `text/event-stream` from the moment the handler sends anything before it
//! (progress, log messages, requests to the client).

use std::cell::RefCell;

use platform::stream::{self, BodyWriter, Closed};
use serde_json::Value;
use spin_sdk::http::{Response, ResponseOutparam};

enum State {
    Unsent(ResponseOutparam),
    Streaming(BodyWriter),
    Gone,
}

pub struct Reply {
    state: RefCell<State>,
    /// Whether the client's `Accept` lists `text/event-stream`.
    streams: bool,
    /// Headers every answer carries (CORS, `Mcp-Session-Id`).
    headers: Vec<(String, Vec<u8>)>,
}

impl Reply {
    pub fn new(out: ResponseOutparam, streams: bool, headers: Vec<(String, Vec<u8>)>) -> Self {
        Self {
            state: RefCell::new(State::Unsent(out)),
            streams,
            headers,
        }
    }

    pub fn add_header(&mut self, name: &str, value: &str) {
        self.headers
            .push((name.to_owned(), value.as_bytes().to_vec()));
    }

    /// Sends `message` ahead of the result, opening the event stream if it is not open.
    pub fn event(&self, message: &Value) -> Result<(), Closed> {
        let mut state = self.state.borrow_mut();
        if let State::Unsent(_) = &*state {
            if !self.streams {
                return Err(Closed);
            }
            let State::Unsent(out) = std::mem::replace(&mut *state, State::Gone) else {
                unreachable!("checked above");
            };
            let mut headers = self.headers.clone();
            headers.extend([
                ("content-type".to_owned(), b"text/event-stream".to_vec()),
                ("cache-control".to_owned(), b"no-cache".to_vec()),
            ]);
            *state = State::Streaming(stream::open(out, 200, &headers)?);
        }
        match &mut *state {
            State::Streaming(writer) => writer.write(&frame(message)),
            _ => Err(Closed),
        }
    }

    /// Writes an SSE comment: keeps proxies from timing the stream out while waiting,
    /// and tells a waiting handler whether the client is still there.
    pub fn keep_alive(&self) -> Result<(), Closed> {
        match &mut *self.state.borrow_mut() {
            State::Streaming(writer) => writer.write(b": waiting\n\n"),
            State::Unsent(_) => Ok(()),
            State::Gone => Err(Closed),
        }
    }

    /// Sends the final message: the last event of an open stream, or a JSON response.
    pub fn finish(self, status: u16, message: &Value) {
        match self.state.into_inner() {
            State::Streaming(mut writer) => {
                let _ = writer.write(&frame(message));
                writer.finish();
            }
            State::Unsent(out) => {
                let mut response = platform::response::json(status, message);
                for (name, value) in &self.headers {
                    response.set_header(name.as_str(), String::from_utf8_lossy(value).as_ref());
                }
                stream::send(out, response);
            }
            State::Gone => {}
        }
    }

    /// Sends a complete response (refusals, 202), with the common headers added.
    pub fn send(self, mut response: Response) {
        if let State::Unsent(out) = self.state.into_inner() {
            for (name, value) in &self.headers {
                response.set_header(name.as_str(), String::from_utf8_lossy(value).as_ref());
            }
            stream::send(out, response);
        }
    }
}

/// One SSE event holding one JSON-RPC message.
fn frame(message: &Value) -> Vec<u8> {
    format!("event: message\ndata: {message}\n\n").into_bytes()
}
