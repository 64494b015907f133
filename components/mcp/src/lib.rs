//! The MCP endpoint. Every request must carry a bearer token issued by this server;
//! until token validation lands, every request is answered with the RFC 9728 challenge
//! that starts a client's OAuth discovery.

use oauth::challenge::{BearerChallenge, BearerError};
use platform::{config, response};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    let base = match config::base_url(&req) {
        Ok(base) => base,
        Err(e) => return response::config_error(&e),
    };
    let has_credentials = req.header("authorization").is_some();
    let resource_metadata = base.protected_resource_metadata_url();
    let challenge = BearerChallenge {
        // RFC 6750 §3.1: no error code when the request carried no credentials.
        error: has_credentials.then_some(BearerError::InvalidToken),
        description: has_credentials.then_some("the access token is not valid for this server"),
        resource_metadata: &resource_metadata,
        scope: oauth::scope::MCP,
    };
    Response::builder()
        .status(challenge.status())
        .header("www-authenticate", challenge.header_value())
        .header("content-type", "application/json")
        .body(r#"{"error":"unauthorized","error_description":"authorization required"}"#)
        .build()
}
