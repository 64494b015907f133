//! Answering through Spin's response out-parameter, either in one piece or as a stream
//! written while the handler still works (Server-Sent Events).
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

/// Sends a complete response.
pub fn send(out: ResponseOutparam, response: Response) {
    let headers: Vec<(String, Vec<u8>)> = response
        .headers()
        .map(|(name, value)| (name.to_owned(), value.as_bytes().to_vec()))
        .collect();
    let status = response.status().to_owned();
    let body = response.into_body();
    if let Ok(mut stream) = open(out, status, &headers) {
        let _ = stream.write(&body);
        stream.finish();
    }
}

/// Starts a response whose body is written piece by piece.
pub fn open(
    out: ResponseOutparam,
    status: u16,
    headers: &[(String, Vec<u8>)],
) -> Result<BodyWriter, Closed> {
    let fields = Fields::from_list(headers).map_err(|_| Closed)?;
    let response = OutgoingResponse::new(fields);
    response.set_status_code(status).map_err(|_| Closed)?;
    let body = response.body().map_err(|_| Closed)?;
    out.set(response);
    let stream = body.write().map_err(|_| Closed)?;
    Ok(BodyWriter {
        stream: Some(stream),
        body: Some(body),
    })
}

/// The body of a response already sent to the client.
pub struct BodyWriter {
    // Dropped before `body` is finished: WASI requires the stream to go first.
    stream: Option<OutputStream>,
    body: Option<OutgoingBody>,
}

impl BodyWriter {
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
