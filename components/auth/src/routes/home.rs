//! `GET /`: the front door. Someone who opens the server's URL after deploying learns
//! what it is, where its MCP endpoint is, how users sign in, and how to connect the
//! common clients; a program asking for JSON gets the same facts as data.

use oauth::BaseUrl;
use platform::authorization::AuthorizationServer;
use platform::config::{self, SignIn};
use platform::{html, response};
use serde::Serialize;
use serde_json::{Value, json};
use spin_sdk::http::{Method, Request, Response};

/// The name the connection settings give this server in each client's configuration.
const SERVER_NAME: &str = "clerk-mcp";

/// The favicon: a small SVG, so no page of ours logs a failed request.
const FAVICON: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\">\
<rect width=\"16\" height=\"16\" rx=\"3\" fill=\"#1f6feb\"/>\
<path d=\"M4 11V5l4 3 4-3v6\" fill=\"none\" stroke=\"#fff\" stroke-width=\"1.6\"/></svg>";

pub fn handle(req: &Request) -> Response {
    if !matches!(req.method(), Method::Get | Method::Head) {
        return html::method_not_allowed("GET, HEAD");
    }
    let base = match config::base_url(req) {
        Ok(base) => base,
        Err(e) => return html::config_error(&e),
    };
    let mode = match (AuthorizationServer::configured(), config::sign_in()) {
        (Ok(AuthorizationServer::Clerk(clerk)), _) => Mode::ClerkAuthorizationServer {
            clerk_issuer: clerk.issuer,
        },
        (Err(e), _) => return html::config_error(&e),
        (Ok(AuthorizationServer::SelfIssued), Ok(SignIn::Clerk(settings))) => Mode::Clerk {
            app_host: BaseUrl::parse(&settings.app_url)
                .map(|app| app.issuer().to_owned())
                .unwrap_or(settings.app_url),
        },
        (Ok(AuthorizationServer::SelfIssued), Ok(SignIn::Local)) => Mode::LocalDevelopment,
        (Ok(AuthorizationServer::SelfIssued), Err(e)) => return html::config_error(&e),
    };
    let door = FrontDoor::new(&base, mode);
    let accept = req
        .header("accept")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    if oauth::form::accepts(accept, "application/json") && !accepts_html(accept) {
        let mut answer = response::json(200, &door);
        answer.set_header("cache-control", "no-store");
        return answer;
    }
    html::page(200, "MCP server", &door.to_html())
}

pub fn favicon(req: &Request) -> Response {
    if !matches!(req.method(), Method::Get | Method::Head) {
        return response::method_not_allowed("GET, HEAD");
    }
    Response::builder()
        .status(200)
        .header("content-type", "image/svg+xml")
        .header("cache-control", "public, max-age=86400")
        .header("x-content-type-options", "nosniff")
        .body(FAVICON)
        .build()
}

/// Whether `text/html` is named outright (browsers do); `*/*` alone (curl) is not enough
/// to prefer JSON, so curl gets the page too.
fn accepts_html(accept: &str) -> bool {
    accept.split(',').any(|range| {
        range
            .split(';')
            .next()
            .is_some_and(|r| r.trim().eq_ignore_ascii_case("text/html"))
    })
}

#[derive(Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
enum Mode {
    /// Users sign in at the customer's Clerk app.
    Clerk { app_host: String },
    /// No Clerk settings: local sign-in on this machine only.
    LocalDevelopment,
    /// Clerk's own OAuth server signs users in and issues the tokens.
    ClerkAuthorizationServer { clerk_issuer: String },
}

#[derive(Serialize)]
struct FrontDoor {
    name: &'static str,
    version: &'static str,
    mcp_url: String,
    /// The HTTP+SSE address, for clients still set up with that transport.
    sse_url: String,
    #[serde(flatten)]
    mode: Mode,
    protected_resource_metadata: String,
    authorization_server: String,
    /// Connection settings per client, as each client's documentation spells them.
    clients: Clients,
}

#[derive(Serialize)]
struct Clients {
    claude_desktop: Value,
    claude_code: String,
    cursor: Value,
    vscode: Value,
    mcp_inspector: String,
}

impl FrontDoor {
    fn new(base: &BaseUrl, mode: Mode) -> Self {
        let mcp_url = base.mcp_resource();
        let clients = Clients {
            claude_desktop: json!({ "mcpServers": { SERVER_NAME: {
                "command": "npx", "args": ["-y", "mcp-remote", mcp_url] } } }),
            claude_code: format!("claude mcp add --transport http {SERVER_NAME} {mcp_url}"),
            cursor: json!({ "mcpServers": { SERVER_NAME: { "url": mcp_url } } }),
            vscode: json!({ "servers": { SERVER_NAME: { "type": "http", "url": mcp_url } } }),
            mcp_inspector: format!(
                "npx @modelcontextprotocol/inspector, then connect with transport \
                 \"Streamable HTTP\" to {mcp_url}"
            ),
        };
        let authorization_server = match &mode {
            Mode::ClerkAuthorizationServer { clerk_issuer } => clerk_issuer.clone(),
            _ => base.issuer().to_owned(),
        };
        Self {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
            protected_resource_metadata: base.protected_resource_metadata_url(),
            authorization_server,
            sse_url: base.join(oauth::base_url::SSE_PATH),
            mcp_url,
            mode,
            clients,
        }
    }

    fn to_html(&self) -> String {
        let url = html::escape(&self.mcp_url);
        let sign_in = match &self.mode {
            Mode::Clerk { app_host } => format!(
                "Users sign in with Clerk at <strong>{}</strong>.",
                html::escape(app_host)
            ),
            Mode::LocalDevelopment => "No Clerk application is configured: this server runs in \
                 local development mode, and users sign in locally on this machine only."
                .to_owned(),
            Mode::ClerkAuthorizationServer { clerk_issuer } => format!(
                "Clerk is the authorization server: clients register and users sign in at \
                 <strong>{}</strong>, and this server checks Clerk's tokens.",
                html::escape(clerk_issuer)
            ),
        };
        let json_block = |value: &Value| {
            let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
            format!("<pre><code>{}</code></pre>", html::escape(&pretty))
        };
        let clients = &self.clients;
        format!(
            "<h1>MCP server</h1>\
             <p>This is an MCP server protected by OAuth. Point an MCP client at its endpoint:</p>\
             <pre><code id=\"mcp-url\">{url}</code></pre>\
             <p>{sign_in} Clients discover how to sign in from the endpoint itself \
             (<a href=\"{prm}\">protected-resource metadata</a>).</p>\
             <h2>Claude Code</h2><pre><code>{claude_code}</code></pre>\
             <h2>Claude Desktop</h2><p>In <code>claude_desktop_config.json</code>, through \
             <code>mcp-remote</code>:</p>{claude_desktop}\
             <h2>Cursor</h2><p>In <code>~/.cursor/mcp.json</code>:</p>{cursor}\
             <h2>VS Code</h2><p>In <code>.vscode/mcp.json</code>:</p>{vscode}\
             <h2>MCP Inspector</h2><pre><code>npx @modelcontextprotocol/inspector</code></pre>\
             <p>Then connect with transport <strong>Streamable HTTP</strong> to <code>{url}</code>. \
             Its web UI calls from its own origin (<code>http://localhost:6274</code>): a server \
             that is not on this machine admits it only when <code>allowed_origins</code> lists it.</p>\
             <h2>Clients set up for HTTP+SSE</h2><p>Configurations made for the older HTTP+SSE \
             transport (<code>mcp-remote --transport sse-only</code>, the Inspector's \
             <strong>SSE</strong> transport) connect at <code id=\"sse-url\">{sse_url}</code> \
             with the same sign-in. Prefer the endpoint above.</p>",
            prm = html::escape(&self.protected_resource_metadata),
            sse_url = html::escape(&self.sse_url),
            claude_code = html::escape(&clients.claude_code),
            claude_desktop = json_block(&clients.claude_desktop),
            cursor = json_block(&clients.cursor),
            vscode = json_block(&clients.vscode),
        )
    }
}
