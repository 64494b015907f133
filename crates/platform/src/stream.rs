//! Answering through Spin's response out-parameter, either in one piece or as a stream
//! written while the handler still works (Server-Sent Events).
//!
//! Framing matters for latency. Spin sets no `TCP_NODELAY`, so a response that leaves in
//! several small writes (the head, then the body, then a chunked terminator) waits for
//! the client's delayed ACK, about 40 ms, before its last piece. So a complete response
//! carries `Content-Length`, and its whole body is handed to the host before the head:
//! the host then has everything when it writes, and sends it in one go. A stream hands
//! its first event over the same way, so that it leaves with the head.
//!
//! Writes block (`blocking-write-and-flush`), so handlers stay synchronous: an event is
//! on the wire before the handler goes on, which is what progress notifications and
//! server-to-client requests need.

use spin_sdk::http::{Fields, OutgoingBody, OutgoingResponse, Response, ResponseOutparam};
use wasi::io::streams::OutputStream;

/// The most `blocking-write-and-flush` accepts in one call (WASI 0.2 `output-stream`).
const WRITE_CHUNK: usize = 4096;

/// The client went away, or the host refused the response.
#[derive(Debug)]
pub struct Closed;

/// Sends a complete response, with `Content-Length`, in one piece.
pub fn send(out: ResponseOutparam, response: Response) {
    let status = response.status().to_owned();
    let mut headers: Vec<(String, Vec<u8>)> = response
        .headers()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("content-length"))
        .map(|(name, value)| (name.to_owned(), value.as_bytes().to_vec()))
        .collect();
    let body = response.into_body();
    // RFC 9110 §8.6: no Content-Length on a 204 or 304, which have no body.
    if status != 204 && status != 304 {
        headers.push((
            "content-length".to_owned(),
            body.len().to_string().into_bytes(),
        ));
    }
    if let Ok(stream) = start(out, status, &headers, &body, true) {
        stream.finish();
    }
}

/// Starts a response whose body is written piece by piece, `first` leaving with the head.
pub fn open(
    out: ResponseOutparam,
    status: u16,
    headers: &[(String, Vec<u8>)],
    first: &[u8],
) -> Result<BodyWriter, Closed> {
    start(out, status, headers, first, false)
}

/// Starts a `200` event stream (Server-Sent Events) with `headers` besides its own,
/// `first` leaving with the head.
pub fn open_events(
    out: ResponseOutparam,
    headers: &[(String, String)],
    first: &[u8],
) -> Result<BodyWriter, Closed> {
    let mut all: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(name, value)| (name.clone(), value.as_bytes().to_vec()))
        .collect();
    all.extend([
        ("content-type".to_owned(), b"text/event-stream".to_vec()),
        ("cache-control".to_owned(), b"no-cache".to_vec()),
        // Proxies that buffer responses (nginx) would hold events back.
        ("x-accel-buffering".to_owned(), b"no".to_vec()),
    ]);
    open(out, 200, &all, first)
}

/// Builds the response, hands `first` to the host before the head when the host takes
/// it in one write (then, for a complete response, ends the body too), and only then
/// sets the response, so that head and body leave together. A body too large for one
/// write is streamed after the head instead.
fn start(
    out: ResponseOutparam,
    status: u16,
    headers: &[(String, Vec<u8>)],
    first: &[u8],
    complete: bool,
) -> Result<BodyWriter, Closed> {
    let fields = Fields::from_list(headers).map_err(|_| Closed)?;
    let response = OutgoingResponse::new(fields);
    response.set_status_code(status).map_err(|_| Closed)?;
    let body = response.body().map_err(|_| Closed)?;
    let stream = body.write().map_err(|_| Closed)?;
    let mut writer = BodyWriter {
        stream: Some(stream),
        body: Some(body),
    };
    let handed_over = writer.write_before_head(first);
    if handed_over && complete {
        writer.close();
    }
    out.set(response);
    if !handed_over {
        writer.write(first)?;
    }
    Ok(writer)
}

/// The body of a response already sent to the client.
pub struct BodyWriter {
    // Dropped before `body` is finished: WASI requires the stream to go first.
    stream: Option<OutputStream>,
    body: Option<OutgoingBody>,
}

impl BodyWriter {
    /// Hands `bytes` to the host in one non-blocking write, if it will take them all
    /// now (nothing reads the body before the response is set, so a blocking write
    /// could wait forever). Whether it did.
    fn write_before_head(&mut self, bytes: &[u8]) -> bool {
        let Some(stream) = self.stream.as_ref() else {
            return false;
        };
        if bytes.is_empty() {
            return true;
        }
        let fits = stream
            .check_write()
            .is_ok_and(|permitted| permitted >= bytes.len() as u64);
        fits && stream.write(bytes).is_ok()
    }

    /// Writes `bytes` and waits until they are flushed to the client.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), Closed> {
        let stream = self.stream.as_ref().ok_or(Closed)?;
        for chunk in bytes.chunks(WRITE_CHUNK) {
            stream.blocking_write_and_flush(chunk).map_err(|_| Closed)?;
        }
        Ok(())
    }

    /// Ends the body.
    pub fn finish(mut self) {
        self.close();
    }

    fn close(&mut self) {
        drop(self.stream.take());
        if let Some(body) = self.body.take() {
            let _ = OutgoingBody::finish(body, None);
        }
    }
}

impl Drop for BodyWriter {
    fn drop(&mut self) {
        self.close();
    }
}

/// Blocks the handler for `duration` (the host's monotonic clock; no busy loop).
pub fn sleep(duration: std::time::Duration) {
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    wasi::clocks::monotonic_clock::subscribe_duration(nanos).block();
}
