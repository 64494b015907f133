//! Reading a request, body included, with the endpoint's cap on its size.
//!
//! spin-sdk's `#[http_component]` glue reads the whole body before a handler runs, so a
//! size check in the handler comes too late: a 256 MB POST is in memory by then. So
//! components take the `IncomingRequest` and read it here: a body whose declared
//! `Content-Length` is over the limit is refused before a byte of it is read, any other
//! body is read to at most the limit plus one byte, and a body that cannot be read
//! (broken chunked encoding, a reset) is an error of its own, not a 500.

use spin_sdk::http::{IncomingRequest, Request};
use wasi::io::streams::StreamError;

/// Why a request's body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Over the endpoint's limit (413).
    TooLarge,
    /// The body could not be read (400).
    Unreadable,
}

/// How much one read asks the host for at most.
const READ_CHUNK: usize = 16 * 1024;

/// The request's path, to choose its endpoint's limit before anything is read.
pub fn path(incoming: &IncomingRequest) -> String {
    let path_with_query = incoming.path_with_query().unwrap_or_default();
    match path_with_query.split_once('?') {
        Some((path, _)) => path.to_owned(),
        None => path_with_query,
    }
}

/// The request as spin-sdk's `Request`, its body at most `limit` bytes.
pub fn read(incoming: IncomingRequest, limit: usize) -> Result<Request, BodyError> {
    let declared = incoming
        .headers()
        .get(&"content-length".to_owned())
        .first()
        .map(|value| {
            std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
        });
    match declared {
        Some(Some(length)) if length > limit as u64 => return Err(BodyError::TooLarge),
        // RFC 9112 §6.3: an unparsable Content-Length makes the message unreadable.
        Some(None) => return Err(BodyError::Unreadable),
        _ => {}
    }
    let body = read_body(&incoming, limit)?;
    Ok(Request::builder()
        .method(incoming.method())
        .uri(incoming.uri())
        .headers(incoming.headers())
        .body(body)
        .build())
}

fn read_body(incoming: &IncomingRequest, limit: usize) -> Result<Vec<u8>, BodyError> {
    let body = incoming.consume().map_err(|()| BodyError::Unreadable)?;
    let stream = body.stream().map_err(|()| BodyError::Unreadable)?;
    let mut bytes = Vec::new();
    let outcome = loop {
        let wanted = (limit + 1 - bytes.len()).min(READ_CHUNK);
        match stream.blocking_read(wanted as u64) {
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > limit {
                    break Err(BodyError::TooLarge);
                }
            }
            Err(StreamError::Closed) => break Ok(bytes),
            Err(StreamError::LastOperationFailed(_)) => break Err(BodyError::Unreadable),
        }
    };
    drop(stream);
    drop(body);
    outcome
}
