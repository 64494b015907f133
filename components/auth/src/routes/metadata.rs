//! `GET` discovery documents (RFC 9728, RFC 8414).

use oauth::metadata::{AuthorizationServerMetadata, ProtectedResourceMetadata};
use platform::authorization::AuthorizationServer;
use platform::{config, response};
use spin_sdk::http::{Method, Request, Response};

/// The document for the resource's address at `path`: `/mcp`, or `/sse` for clients
/// of the HTTP+SSE transport (the same resource; see `oauth::base_url::SSE_PATH`).
/// In the resource-server mode it sends clients to Clerk, with the scopes to ask for.
pub fn protected_resource(req: &Request, path: &str) -> Response {
    serve(req, |base| match AuthorizationServer::configured() {
        Ok(AuthorizationServer::SelfIssued) => {
            response::json(200, &ProtectedResourceMetadata::at(base, path))
        }
        Ok(AuthorizationServer::Clerk(clerk)) => response::json(
            200,
            &ProtectedResourceMetadata::signed_in_at(
                base,
                path,
                &clerk.issuer,
                &clerk.scopes_supported,
            ),
        ),
        Err(e) => response::config_error(&e),
    })
}

pub fn authorization_server(req: &Request) -> Response {
    serve(req, |base| {
        response::json(200, &AuthorizationServerMetadata::new(base))
    })
}

fn serve(req: &Request, document: impl FnOnce(&oauth::BaseUrl) -> Response) -> Response {
    if !matches!(req.method(), Method::Get | Method::Head) {
        return response::method_not_allowed("GET, HEAD");
    }
    match config::base_url(req) {
        Ok(base) => document(&base),
        Err(e) => response::config_error(&e),
    }
}
