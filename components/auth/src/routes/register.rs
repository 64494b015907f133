//! `POST /register`: RFC 7591 dynamic client registration.

use oauth::registration::ClientRegistration;
use oauth::secret::Secret;
use platform::{clock, config, kv::SpinKv, random, response};
use spin_sdk::http::{Method, Request, Response};
use store::{Expiring, keys, record};

pub fn handle(req: &Request) -> Response {
    if *req.method() != Method::Post {
        return response::method_not_allowed("POST");
    }
    let content_type = req.header("content-type").and_then(|v| v.as_str());
    if !oauth::form::is_media_type(content_type, "application/json") {
        let error = oauth::Error::InvalidClientMetadata("the body must be application/json".into());
        return response::oauth_error(&error);
    }
    let registration = match ClientRegistration::parse(req.body()) {
        Ok(registration) => registration,
        Err(e) => return response::oauth_error(&e),
    };
    match register(registration) {
        Ok(response) => response,
        Err(Failed::Store(e)) => response::store_error("registration failed", &e),
        Err(Failed::Internal(reason)) => {
            eprintln!("registration failed: {reason}");
            response::server_error()
        }
    }
}

/// Why a registration could not be stored: the store (503, the client may retry) or
/// anything else (500).
enum Failed {
    Store(store::Error),
    Internal(String),
}

impl From<String> for Failed {
    fn from(reason: String) -> Self {
        Failed::Internal(reason)
    }
}

fn register(registration: ClientRegistration) -> Result<Response, Failed> {
    let id_bytes = random::bytes::<16>().map_err(|e| e.to_string())?;
    let client_id = format!("mcp_{}", Secret::from_random(&id_bytes).expose());
    let secret = match registration.auth_method {
        oauth::registration::TokenEndpointAuthMethod::None => None,
        _ => Some(Secret::from_random(
            &random::bytes::<32>().map_err(|e| e.to_string())?,
        )),
    };
    let lifetimes = config::lifetimes().map_err(|e| e.to_string())?;
    let now = clock::now();
    let client = registration.into_record(now, secret.as_ref());
    let kv = SpinKv::open_for_client().map_err(Failed::Store)?;
    // Provisional: registering costs the registrant nothing, so a client lives only as
    // long as one sign-in through it could take, until its first code exchange renews
    // it for `client_lifetime` (as a client from a metadata document).
    let stored = Expiring {
        expires_at: now + lifetimes.provisional_client(),
        value: client,
    };
    record::create(&kv, &keys::client(&client_id), &stored).map_err(Failed::Store)?;
    Ok(response::no_store_json(
        201,
        &stored.value.response(&client_id, secret.as_ref()),
    ))
}
