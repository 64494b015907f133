//! `/connections`: where a user sees the clients they approved and revokes them.
//!
//! The user signs in as at consent: through the customer's app (`/auth/mcp`, back at
//! `/connections/callback`) with Clerk, or locally on a loopback server in development
//! mode. Signing in gives a sealed pass in a `__Host-` cookie (`oauth::connections`),
//! nothing stored; the page lists the user's grants through their index
//! (`store::user_grants`); each revoke button posts the pass's CSRF token, and revoking
//! ends the grant at once (its tokens fail on every instance).

use oauth::connections::{
    PASS_COOKIE, PASS_SECS, Pass, PendingSignIn, SIGN_IN_COOKIE, SIGN_IN_SECS,
};
use oauth::form::FormParams;
use oauth::grant::GrantRecord;
use oauth::registration::ClientRecord;
use oauth::secret::Secret;
use oauth::{BaseUrl, Error, local_sign_in};
use platform::config::SignIn;
use platform::{audit, clock, config, cookies, grants, html, kv::SpinKv, random};
use spin_sdk::http::{Method, Request, Response};
use store::{keys, record, user_grants};

use super::authorize::{Failure, internal};
use super::clerk_keys::{self, Unverified};

pub const PATH: &str = "/connections";
pub const CALLBACK_PATH: &str = "/connections/callback";

/// What a form without the pass's CSRF token is told.
const FORGED_FORM: &str =
    "This form did not come from the connections page. Open /connections and try again.";

pub fn handle(req: &Request) -> Response {
    let base = match config::base_url(req) {
        Ok(base) => base,
        Err(e) => return html::config_error(&e),
    };
    let result = match req.method() {
        Method::Get => show(req, &base),
        Method::Post => act(req),
        _ => return html::method_not_allowed("GET, POST"),
    };
    result.unwrap_or_else(Failure::into_response)
}

/// The list for a signed-in user; otherwise the way to sign in.
fn show(req: &Request, base: &BaseUrl) -> Result<Response, Failure> {
    let kv = SpinKv::open_for_client().map_err(Failure::Store)?;
    let key = config::server_key(&kv).map_err(Failure::Store)?;
    let now = clock::now();
    if let Some(pass) = pass_of(req, &key, now) {
        return list(&kv, &pass, now);
    }
    match config::sign_in().map_err(internal)? {
        SignIn::Clerk(settings) => {
            let nonce = Secret::from_random(&random::bytes::<32>().map_err(internal)?);
            let state = PendingSignIn::new(nonce.expose(), now + SIGN_IN_SECS).seal(&key);
            let url = clerk::sign_in::app_sign_in_url(
                &settings.app_url,
                &state,
                &base.join(CALLBACK_PATH),
                "Connected clients",
            );
            let mut response = platform::response::redirect(&url);
            response.set_header(
                "set-cookie",
                cookies::host_cookie(SIGN_IN_COOKIE, nonce.expose(), SIGN_IN_SECS),
            );
            Ok(response)
        }
        SignIn::Local => {
            if !local_sign_in::is_allowed(config::request_authority(req), config::client_addr(req))
            {
                return Err(Failure::Page(403, Error::LocalSignInRefused));
            }
            Ok(html::form_page(
                200,
                "Connected clients",
                "<h1>Connected clients</h1>\
                 <p>No Clerk application is configured, so this server runs in local development mode.</p>\
                 <form method=\"post\" action=\"/connections\">\
                 <label for=\"user\">Sign in locally as</label>\
                 <input type=\"text\" id=\"user\" name=\"user\" required maxlength=\"64\" autocomplete=\"username\">\
                 <div class=\"actions\"><button type=\"submit\" name=\"action\" value=\"sign_in\">Sign in</button></div>\
                 </form>",
                &[],
            ))
        }
    }
}

fn pass_of(req: &Request, key: &[u8], now: u64) -> Option<Pass> {
    Pass::open(&cookies::get(req, PASS_COOKIE)?, key, now)
}

/// Answers a form: back to the list (303, so a reload does not post again).
fn see_list() -> Response {
    Response::builder()
        .status(303)
        .header("location", PATH)
        .header("cache-control", "no-store")
        .build()
}

fn signed_in(user_id: String, key: &[u8], now: u64) -> Result<Response, Failure> {
    let csrf = Secret::from_random(&random::bytes::<32>().map_err(internal)?);
    let pass = Pass {
        user_id,
        csrf: csrf.expose().to_owned(),
        expires_at: now + PASS_SECS,
    };
    audit::event("connections_sign_in")
        .user(&pass.user_id)
        .emit();
    let mut response = see_list();
    response.set_header(
        "set-cookie",
        cookies::host_cookie(PASS_COOKIE, &pass.seal(key), PASS_SECS),
    );
    Ok(response)
}

/// The page's forms: a local sign-in, a revocation, signing out.
fn act(req: &Request) -> Result<Response, Failure> {
    let content_type = req.header("content-type").and_then(|v| v.as_str());
    let form = FormParams::parse(content_type, req.body()).map_err(|e| Failure::Page(400, e))?;
    let kv = SpinKv::open_for_client().map_err(Failure::Store)?;
    let key = config::server_key(&kv).map_err(Failure::Store)?;
    let now = clock::now();
    match form.get("action") {
        Some("sign_in") => {
            if !matches!(config::sign_in().map_err(internal)?, SignIn::Local)
                || !local_sign_in::is_allowed(
                    config::request_authority(req),
                    config::client_addr(req),
                )
            {
                return Err(Failure::Page(403, Error::LocalSignInRefused));
            }
            let user_id =
                local_sign_in::user_id(form.get("user")).map_err(|e| Failure::Page(400, e))?;
            signed_in(user_id, &key, now)
        }
        Some("revoke") => {
            let Some(pass) = pass_of(req, &key, now) else {
                return Ok(html::error_page(
                    403,
                    "Your sign-in to this page has ended. Open /connections to sign in again.",
                ));
            };
            // The cookie rides along on any request from this host; only the page knows
            // the token.
            if !pass.allows(form.get("csrf")) {
                return Ok(html::error_page(403, FORGED_FORM));
            }
            let grant_id = form.get("grant").unwrap_or_default();
            if !revoke(&kv, &pass, grant_id, now)? {
                return Ok(html::error_page(
                    404,
                    "There is no such connection (it may have ended already).",
                ));
            }
            Ok(see_list())
        }
        Some("sign_out") => {
            // Signing out is harmless, but no other page may do it for the user.
            if !pass_of(req, &key, now).is_some_and(|pass| pass.allows(form.get("csrf"))) {
                return Ok(html::error_page(403, FORGED_FORM));
            }
            let mut response = see_list();
            response.set_header("set-cookie", cookies::clear_host_cookie(PASS_COOKIE));
            Ok(response)
        }
        _ => Err(Failure::Page(400, Error::MissingParameter("action"))),
    }
}

/// Grant ids are 22 BASE64URL characters; anything else names no grant.
fn is_grant_id(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Ends one of the signed-in user's grants: whether it did. Another user's grant, or
/// none, is refused alike.
fn revoke(kv: &SpinKv, pass: &Pass, grant_id: &str, now: u64) -> Result<bool, Failure> {
    let grant = if is_grant_id(grant_id) {
        record::read::<GrantRecord>(kv, &keys::grant(grant_id), now).map_err(Failure::Store)?
    } else {
        None
    };
    let Some(grant) = grant.filter(|g| g.value.user_id == pass.user_id) else {
        return Ok(false);
    };
    grants::end(kv, grant_id, &grant.value, "user").map_err(Failure::Store)?;
    Ok(true)
}

/// One row of the list.
struct Connection {
    grant_id: String,
    grant: GrantRecord,
    client: Option<ClientRecord>,
}

fn connections(kv: &SpinKv, user_id: &str, now: u64) -> Result<Vec<Connection>, store::Error> {
    let mut rows: Vec<Connection> = Vec::new();
    for slot in user_grants::walk(kv, user_id)? {
        // Two instances indexing one old grant at once give it two slots.
        if rows.iter().any(|row| row.grant_id == slot.grant_id) {
            continue;
        }
        let Some(grant) = record::read::<GrantRecord>(kv, &keys::grant(&slot.grant_id), now)?
        else {
            continue;
        };
        if grant.value.user_id != user_id {
            continue;
        }
        let client = record::read::<ClientRecord>(kv, &keys::client(&grant.value.client_id), now)?
            .map(|c| c.value);
        rows.push(Connection {
            grant_id: slot.grant_id,
            grant: grant.value,
            client,
        });
    }
    Ok(rows)
}

fn when(unix: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix);
    let text = humantime::format_rfc3339_seconds(time).to_string();
    // 2026-12-04T19:40:00Z → 2026-12-04 19:40 UTC
    format!("{} {} UTC", &text[..10], &text[11..16])
}

fn list(kv: &SpinKv, pass: &Pass, now: u64) -> Result<Response, Failure> {
    let rows = connections(kv, &pass.user_id, now).map_err(Failure::Store)?;
    let csrf = html::escape(&pass.csrf);
    let items: String = rows
        .iter()
        .map(|row| {
            let name = row
                .client
                .as_ref()
                .and_then(|c| c.client_name.as_deref())
                .unwrap_or("An unnamed application");
            let redirects = row
                .client
                .as_ref()
                .map(|c| c.redirect_uris.join(", "))
                .unwrap_or_default();
            format!(
                "<li class=\"connection\"><h2>{name}</h2>\
                 <p>Sends you back to <code>{redirects}</code></p>\
                 <p>Approved {approved}; last used {used}</p>\
                 <form method=\"post\" action=\"/connections\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <input type=\"hidden\" name=\"grant\" value=\"{grant}\">\
                 <button type=\"submit\" name=\"action\" value=\"revoke\">Revoke</button></form></li>",
                name = html::escape(name),
                redirects = html::escape(&redirects),
                approved = when(row.grant.created_at),
                used = when(row.grant.rotated_at),
                grant = html::escape(&row.grant_id),
            )
        })
        .collect();
    let listing = if rows.is_empty() {
        "<p>You have not approved any clients.</p>".to_owned()
    } else {
        format!("<ul class=\"connections\">{items}</ul>")
    };
    let body = format!(
        "<h1>Connected clients</h1><p>Signed in as <strong>{user}</strong>. \
         These applications can use this MCP server as you. Revoking one ends its access at once.</p>\
         {listing}\
         <form method=\"post\" action=\"/connections\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <div class=\"actions\"><button type=\"submit\" name=\"action\" value=\"sign_out\">Sign out</button></div></form>",
        user = html::escape(&pass.user_id),
    );
    Ok(html::form_page(200, "Connected clients", &body, &[]))
}

/// `GET /connections/callback?clerk_token=…&state=…`: the app returns the signed-in user.
pub fn callback(req: &Request) -> Response {
    if !matches!(req.method(), Method::Get) {
        return html::method_not_allowed("GET");
    }
    finish_sign_in(req).unwrap_or_else(Failure::into_response)
}

fn finish_sign_in(req: &Request) -> Result<Response, Failure> {
    let SignIn::Clerk(settings) = config::sign_in().map_err(internal)? else {
        return Err(Failure::Page(404, Error::SignInNotConfigured));
    };
    let query = FormParams::parse_query(req.query()).map_err(|e| Failure::Page(400, e))?;
    let kv = SpinKv::open_for_client().map_err(Failure::Store)?;
    let key = config::existing_server_key(&kv)
        .map_err(Failure::Store)?
        .ok_or(Failure::Page(400, Error::InvalidSignIn))?;
    let now = clock::now();
    let state = query.get("state").unwrap_or_default();
    let nonce = cookies::get(req, SIGN_IN_COOKIE);
    if !PendingSignIn::open(state, &key, nonce.as_deref(), now) {
        return Err(Failure::Page(400, Error::InvalidSignIn));
    }
    let token = query.get("clerk_token").unwrap_or_default();
    let user = match clerk_keys::verify(token, &settings, &kv, now) {
        Ok(user) => user,
        Err(Unverified::Store(e)) => return Err(Failure::Store(e)),
        Err(Unverified::ClerkUnreachable(reason)) => {
            eprintln!("connections: {reason}");
            return Ok(html::clerk_unreachable());
        }
        Err(Unverified::Token(reason)) => {
            eprintln!("connections: Clerk session token refused: {reason}");
            audit::event("sign_in_refused").reason("clerk_token").emit();
            return Err(Failure::Page(403, Error::ClerkTokenRefused));
        }
    };
    // The sign-in cookie is left to expire: a response sets one cookie here.
    signed_in(user.user_id, &key, now)
}
