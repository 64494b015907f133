//! The browser side of OAuth: discovery metadata, client registration, `/authorize`
//! with its consent page, `/callback` from the customer's Clerk app, the connections
//! page where users revoke what they approved, and the front door at `/`.

mod routes;

use platform::authorization::{self, AuthorizationServer};
use platform::cors::{self, Allow};
use platform::request::{self, BodyError};
use platform::{html, response};
use spin_sdk::http::{IncomingRequest, Request, Response, ResponseOutparam};
use spin_sdk::http_component;

/// The request is read here, with its endpoint's cap on the body, and every answer
/// leaves through `platform::stream::send`: with `Content-Length`, in one write. A
/// sweep that is due runs after that, while the client already has its answer.
#[http_component]
fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    let endpoint = Endpoint::of(&request::path(&incoming));
    let own_endpoints_closed = AuthorizationServer::own_endpoints_closed();
    let mut response = match request::read(incoming, endpoint.body_limit()) {
        Ok(req) if endpoint.is_preflight(&req) => {
            platform::stream::send(
                out,
                cors::preflight(&req, Allow::AnyOrigin, endpoint.methods()),
            );
            return;
        }
        Ok(req) => route(&req, own_endpoints_closed),
        Err(refused) => endpoint.refuse(refused),
    };
    if endpoint.cross_origin() {
        cors::apply(&mut response, Allow::AnyOrigin);
    }
    // With Clerk as the authorization server there are no registrations or consents
    // here: the protected-resource metadata, which every client fetches, carries the
    // sweep instead.
    let sweeps = (endpoint.sweeps() || (endpoint == Endpoint::Metadata && own_endpoints_closed))
        && routes::sweep::follows(*response.status());
    platform::stream::send(out, response);
    if sweeps {
        routes::sweep::if_due();
    }
}

/// What a path is: its body limit, the shape of its errors, whether other origins
/// may call it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    /// RFC 9728 §3.1: the path-inserted form for resource `/mcp`, and the root form that
    /// some clients try first; and RFC 8414 metadata.
    Metadata,
    Register,
    /// The consent page and its form.
    Authorize,
    /// The connections page and its forms.
    Connections,
    /// `/callback`, `/`, `/favicon.ico`: pages reached by navigation, with no body.
    Page,
    Unknown,
}

impl Endpoint {
    fn of(path: &str) -> Self {
        match path {
            "/.well-known/oauth-protected-resource"
            | "/.well-known/oauth-protected-resource/mcp"
            | "/.well-known/oauth-protected-resource/sse"
            | "/.well-known/oauth-authorization-server" => Self::Metadata,
            "/register" => Self::Register,
            "/authorize" => Self::Authorize,
            routes::connections::PATH => Self::Connections,
            "/callback" | routes::connections::CALLBACK_PATH | "/" | "/favicon.ico" => Self::Page,
            _ => Self::Unknown,
        }
    }

    fn body_limit(self) -> usize {
        match self {
            Self::Register => oauth::registration::limits::BODY_BYTES,
            Self::Authorize | Self::Connections => routes::authorize::FORM_BYTES,
            Self::Metadata | Self::Page | Self::Unknown => 0,
        }
    }

    /// Programs in browsers (the Inspector's web UI, SDK clients in a page) discover and
    /// register from other origins. `/authorize`, `/callback` and the pages are for
    /// top-level navigation only and carry no CORS headers.
    fn cross_origin(self) -> bool {
        matches!(self, Self::Metadata | Self::Register)
    }

    /// Cold endpoints, which carry the sweep of expired records.
    fn sweeps(self) -> bool {
        matches!(self, Self::Register | Self::Authorize)
    }

    fn is_preflight(self, req: &Request) -> bool {
        self.cross_origin() && cors::is_preflight(req)
    }

    fn methods(self) -> &'static str {
        if self == Self::Register {
            "POST"
        } else {
            "GET, HEAD"
        }
    }

    /// A body refused unread, in the endpoint's own shape.
    fn refuse(self, refused: BodyError) -> Response {
        let page = matches!(self, Self::Authorize | Self::Connections | Self::Page);
        match (refused, page) {
            (BodyError::TooLarge, true) => html::payload_too_large(),
            (BodyError::Unreadable, true) => {
                html::error_page(400, "The request could not be read.")
            }
            (BodyError::TooLarge, false) => response::payload_too_large(),
            (BodyError::Unreadable, false) => response::oauth_error(&oauth::Error::UnreadableBody),
        }
    }
}

/// With Clerk as the authorization server, this server's own authorization endpoints
/// and pages answer that they are closed.
fn route(req: &Request, own_endpoints_closed: bool) -> Response {
    if own_endpoints_closed {
        match req.path() {
            "/.well-known/oauth-authorization-server" | "/register" => {
                return authorization::closed_endpoint();
            }
            "/authorize"
            | "/callback"
            | routes::connections::PATH
            | routes::connections::CALLBACK_PATH => {
                return authorization::closed_page();
            }
            _ => {}
        }
    }
    match req.path() {
        "/.well-known/oauth-protected-resource" | "/.well-known/oauth-protected-resource/mcp" => {
            routes::metadata::protected_resource(req, oauth::base_url::MCP_PATH)
        }
        "/.well-known/oauth-protected-resource/sse" => {
            routes::metadata::protected_resource(req, oauth::base_url::SSE_PATH)
        }
        "/.well-known/oauth-authorization-server" => routes::metadata::authorization_server(req),
        "/register" => routes::register::handle(req),
        "/authorize" => routes::authorize::handle(req),
        "/callback" => routes::callback::handle(req),
        routes::connections::PATH => routes::connections::handle(req),
        routes::connections::CALLBACK_PATH => routes::connections::callback(req),
        "/" => routes::home::handle(req),
        "/favicon.ico" => routes::home::favicon(req),
        _ => platform::response::not_found(),
    }
}
