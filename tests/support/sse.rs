//! A minimal client of the HTTP+SSE transport (`GET /sse`, `POST /sse/message`), to
//! drive the real component byte by byte where the SDK's client would hide the wire.

use std::time::Duration;

use serde_json::Value;

use super::App;

/// One event of a stream: its type (`message` unless named) and data, or a comment.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Named { event: String, data: String },
    Comment(String),
}

/// An open `GET /sse` stream and the message URL its endpoint event named.
pub struct Stream {
    pub response: reqwest::Response,
    buffer: String,
    /// The path and query to POST messages to, as announced.
    pub endpoint: String,
}

impl Stream {
    /// Opens the stream with `token` on `app` and reads its endpoint event.
    pub async fn open(app: &App, token: &str) -> Self {
        let response = app
            .client
            .get(app.url("/sse"))
            .bearer_auth(token)
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET /sse");
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut stream = Self {
            response,
            buffer: String::new(),
            endpoint: String::new(),
        };
        match stream.next().await {
            Some(Event::Named { event, data }) if event == "endpoint" => stream.endpoint = data,
            other => panic!("the first event names the endpoint, got {other:?}"),
        }
        stream
    }

    /// The session id the endpoint names.
    pub fn session_id(&self) -> String {
        super::query_param(&format!("http://x{}", self.endpoint), "sessionId")
            .expect("the endpoint names a sessionId")
    }

    /// The next event, or `None` once the stream has ended; waits at most 15 s.
    pub async fn next(&mut self) -> Option<Event> {
        self.next_within(Duration::from_secs(15)).await
    }

    pub async fn next_within(&mut self, patience: Duration) -> Option<Event> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                return Some(parse(&frame));
            }
            let chunk = tokio::time::timeout(patience, self.response.chunk())
                .await
                .expect("the stream sends something in time")
                .ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next JSON-RPC message, skipping heartbeats.
    pub async fn message(&mut self) -> Value {
        loop {
            match self.next().await {
                Some(Event::Named { event, data }) if event == "message" => {
                    return serde_json::from_str(&data).unwrap();
                }
                Some(Event::Comment(_)) => continue,
                other => panic!("expected a message event, got {other:?}"),
            }
        }
    }
}

fn parse(frame: &str) -> Event {
    let mut event = "message".to_owned();
    let mut data = Vec::new();
    for line in frame.lines() {
        if let Some(comment) = line.strip_prefix(':') {
            return Event::Comment(comment.trim().to_owned());
        }
        if let Some(value) = line.strip_prefix("event: ") {
            event = value.to_owned();
        } else if let Some(value) = line.strip_prefix("data: ") {
            data.push(value);
        }
    }
    Event::Named {
        event,
        data: data.join("\n"),
    }
}

/// POSTs `message` to `path` (a message endpoint) on `app` as `token`'s holder.
pub async fn post(app: &App, path: &str, token: &str, message: &Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(message.to_string())
        .send()
        .await
        .unwrap()
}
