//! Bounded outbound requests: a deadline over the whole exchange and a cap on the body,
//! for calls to servers someone else runs (Client ID Metadata Documents, Clerk, the
//! customer's API).
//!
//! spin-sdk's `send` takes neither, so this drives `wasi:http` directly: it waits on the
//! response and on each body chunk together with a clock, and gives up at the deadline
//! (dropping the request cancels it on the host).

use std::time::Duration;

use url::Url;
use wasi::clocks::monotonic_clock;
use wasi::http::outgoing_handler;
pub use wasi::http::types::Method;
use wasi::http::types::{
    ErrorCode, Fields, IncomingBody, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::poll::{self, Pollable};
use wasi::io::streams::StreamError;

/// What a fetch may cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From sending the request to the last byte of the body.
    pub timeout: Duration,
    pub max_body_bytes: usize,
}

/// A response whose whole body arrived within the limits.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// `allowed_outbound_hosts` does not include the URL.
    #[error("the destination is not allowed")]
    Denied,
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    /// DNS, connection, TLS or protocol failure; the detail is for logs only.
    #[error("the request failed: {0}")]
    Failed(String),
}

/// `GET url` with `accept`, within `limits`.
pub fn get(url: &Url, accept: &str, limits: Limits) -> Result<Fetched, FetchError> {
    send(&Method::Get, url, &[("accept", accept)], None, limits)
}

/// A request of any method, with `headers` and an optional body, within `limits`.
pub fn send(
    method: &Method,
    url: &Url,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
    limits: Limits,
) -> Result<Fetched, FetchError> {
    let deadline = monotonic_clock::now().saturating_add(nanos(limits.timeout));
    let timed_out = || FetchError::Timeout(limits.timeout);
    let failed = |what: &str| FetchError::Failed(what.to_owned());

    let fields: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.as_bytes().to_vec()))
        .collect();
    let headers = Fields::from_list(&fields).map_err(|e| FetchError::Failed(format!("{e:?}")))?;
    let request = OutgoingRequest::new(headers);
    request.set_method(method).map_err(|()| failed("method"))?;
    let scheme = match url.scheme() {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        other => Scheme::Other(other.to_owned()),
    };
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| failed("scheme"))?;
    let authority = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => return Err(failed("the URL has no host")),
    };
    request
        .set_authority(Some(&authority))
        .map_err(|()| failed("authority"))?;
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    request
        .set_path_with_query(Some(&path))
        .map_err(|()| failed("path"))?;
    let outgoing = request.body().map_err(|()| failed("request body"))?;
    // Hosts that honour them stop early on their own; the deadline below covers the rest.
    let options = RequestOptions::new();
    let _ = options.set_connect_timeout(Some(nanos(limits.timeout)));
    let _ = options.set_first_byte_timeout(Some(nanos(limits.timeout)));

    let pending = outgoing_handler::handle(request, Some(options))
        .map_err(|code| from_error_code(code, limits.timeout))?;
    if let Some(bytes) = body {
        write_body(&outgoing, bytes).map_err(|()| failed("request body"))?;
    }
    OutgoingBody::finish(outgoing, None).map_err(|code| from_error_code(code, limits.timeout))?;
    let response = loop {
        if let Some(outcome) = pending.get() {
            break outcome
                .map_err(|()| failed("response taken twice"))?
                .map_err(|code| from_error_code(code, limits.timeout))?;
        }
        if !wait(&pending.subscribe(), deadline) {
            return Err(timed_out());
        }
    };

    let status = response.status();
    let headers = response.headers();
    let header = |name: &str| {
        headers
            .get(&name.to_owned())
            .first()
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    let content_type = header("content-type");
    let cache_control = header("cache-control");
    if header("content-length")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .is_some_and(|len| len > limits.max_body_bytes)
    {
        return Err(FetchError::TooLarge(limits.max_body_bytes));
    }
    drop(headers);

    let incoming = response.consume().map_err(|()| failed("response body"))?;
    let body = read_body(&incoming, limits, deadline)?;
    drop(incoming);
    Ok(Fetched {
        status,
        content_type,
        cache_control,
        body,
    })
}

/// Writes a (small) request body; the host takes up to 4096 bytes per call.
fn write_body(outgoing: &OutgoingBody, bytes: &[u8]) -> Result<(), ()> {
    let stream = outgoing.write()?;
    for chunk in bytes.chunks(4096) {
        stream.blocking_write_and_flush(chunk).map_err(drop)?;
    }
    drop(stream);
    Ok(())
}

fn read_body(
    incoming: &IncomingBody,
    limits: Limits,
    deadline: u64,
) -> Result<Vec<u8>, FetchError> {
    let stream = incoming
        .stream()
        .map_err(|()| FetchError::Failed("response body stream".into()))?;
    let mut body = Vec::new();
    loop {
        match stream.read(16 * 1024) {
            Ok(chunk) if chunk.is_empty() => {
                if !wait(&stream.subscribe(), deadline) {
                    return Err(FetchError::Timeout(limits.timeout));
                }
            }
            Ok(chunk) => {
                body.extend_from_slice(&chunk);
                if body.len() > limits.max_body_bytes {
                    return Err(FetchError::TooLarge(limits.max_body_bytes));
                }
            }
            Err(StreamError::Closed) => return Ok(body),
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(FetchError::Failed(e.to_debug_string()));
            }
        }
    }
}

/// Blocks until `ready` or the deadline; false when the deadline came first.
fn wait(ready: &Pollable, deadline: u64) -> bool {
    let clock = monotonic_clock::subscribe_instant(deadline);
    let woken = poll::poll(&[ready, &clock]);
    woken.contains(&0)
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The host's error, in our terms: its own timeouts (the ones set from `timeout` in
/// the request options) are the same timeout as the deadline's.
fn from_error_code(code: ErrorCode, timeout: Duration) -> FetchError {
    match code {
        ErrorCode::HttpRequestDenied => FetchError::Denied,
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::HttpResponseTimeout => FetchError::Timeout(timeout),
        other => FetchError::Failed(format!("{other:?}")),
    }
}
