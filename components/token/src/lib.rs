//! The token endpoint. Until the grants land it parses requests fully and answers
//! `unsupported_grant_type` for every grant.

use oauth::{form::FormParams, token};
use platform::response;
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    if *req.method() != Method::Post {
        return response::method_not_allowed("POST");
    }
    let content_type = req.header("content-type").and_then(|v| v.as_str());
    let error = match FormParams::parse(content_type, req.body())
        .and_then(|p| token::parse_grant_type(&p))
    {
        Err(e) => e,
        // No grant is implemented yet: each is refused by name.
        Ok(grant) => oauth::Error::UnsupportedGrantType(grant.as_str().to_owned()),
    };
    response::oauth_error(&error)
}
