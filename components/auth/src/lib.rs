//! The browser side of OAuth: discovery metadata (and, as they land, `/authorize`,
//! consent, `/callback` and `/register`).

use oauth::metadata::{AuthorizationServerMetadata, ProtectedResourceMetadata};
use platform::{config, response};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    let path = req.path();
    let document = match path {
        // RFC 9728 §3.1: the path-inserted form for resource `/mcp`, and the root form
        // that some clients try first; both describe the one protected resource.
        "/.well-known/oauth-protected-resource" | "/.well-known/oauth-protected-resource/mcp" => {
            Document::ProtectedResource
        }
        "/.well-known/oauth-authorization-server" => Document::AuthorizationServer,
        _ => return response::not_found(),
    };
    if *req.method() != Method::Get && *req.method() != Method::Head {
        return response::method_not_allowed("GET, HEAD");
    }
    let base = match config::base_url(&req) {
        Ok(base) => base,
        Err(e) => return response::config_error(&e),
    };
    match document {
        Document::ProtectedResource => response::json(200, &ProtectedResourceMetadata::new(&base)),
        Document::AuthorizationServer => {
            response::json(200, &AuthorizationServerMetadata::new(&base))
        }
    }
}

enum Document {
    ProtectedResource,
    AuthorizationServer,
}
