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
    headers: Vec<(String, String)>,
}

impl Reply {
    pub fn new(out: ResponseOutparam, streams: bool, headers: Vec<(String, String)>) -> Self {
        Self {
            state: RefCell::new(State::Unsent(out)),
            streams,
            headers,
        }
    }

    pub fn add_header(&mut self, name: &str, value: &str) {
        self.headers.push((name.to_owned(), value.to_owned()));
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
            // The first event leaves with the head.
            *state = State::Streaming(stream::open_events(out, &self.headers, &frame(message))?);
            return Ok(());
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

    /// Whether nothing has been sent yet, so the status can still be chosen.
    pub fn is_unsent(&self) -> bool {
        matches!(*self.state.borrow(), State::Unsent(_))
    }

    /// Sends the final message: the last event of an open stream, or a JSON response.
    pub fn finish(self, status: u16, message: &Value) {
        if let State::Streaming(writer) = &mut *self.state.borrow_mut() {
            let _ = writer.write(&frame(message));
        }
        match self.state.into_inner() {
            State::Streaming(writer) => writer.finish(),
            State::Unsent(out) => {
                send_with(
                    out,
                    &self.headers,
                    platform::response::json(status, message),
                );
            }
            State::Gone => {}
        }
    }

    /// Sends a complete response (refusals, 202), with the common headers added.
    pub fn send(self, response: Response) {
        if let State::Unsent(out) = self.state.into_inner() {
            send_with(out, &self.headers, response);
        }
    }
}

fn send_with(out: ResponseOutparam, headers: &[(String, String)], mut response: Response) {
    for (name, value) in headers {
        response.set_header(name.as_str(), value.as_str());
    }
    stream::send(out, response);
}

/// One SSE event holding one JSON-RPC message.
fn frame(message: &Value) -> Vec<u8> {
    format!("event: message\ndata: {message}\n\n").into_bytes()
}
