//! `/authorize`: `GET` validates the request and shows the consent page; `POST` carries
//! the user's decision (and, in local development, who they are).

use oauth::authorize::{self, AuthorizeQuery};
use oauth::consent::{COOKIE_NAME, ConsentTicket};
use oauth::form::FormParams;
use oauth::registration::ClientRecord;
use oauth::secret::{Secret, SecretHash};
use oauth::{BaseUrl, Error, local_sign_in};
use platform::config::SignIn;
use platform::{audit, clock, config, cookies, html, kv::SpinKv, random, response};
use spin_sdk::http::{Method, Request, Response};
use store::{Expiring, keys, record};

use super::clients;
use super::grants::redirect_with_code;

/// The consent form is small; anything larger is not ours (read no further).
pub const FORM_BYTES: usize = 8 * 1024;

pub fn handle(req: &Request) -> Response {
    let base = match config::base_url(req) {
        Ok(base) => base,
        Err(e) => return html::config_error(&e),
    };
    let result = match req.method() {
        Method::Get => show_consent(req, &base),
        Method::Post => decide(req, &base),
        _ => return html::method_not_allowed("GET, POST"),
    };
    result.unwrap_or_else(|failure| failure.into_response())
}

/// Why a step stopped: shown to the user, a store failure (503 while the store is
/// unavailable, so the user can try again), or an internal failure (logged, generic).
pub(crate) enum Failure {
    Page(u16, Error),
    Store(store::Error),
    Internal(String),
}

impl Failure {
    pub(crate) fn into_response(self) -> Response {
        match self {
            Failure::Page(status, error) => html::error_page(status, &error.public_description()),
            Failure::Store(e) => html::store_error("authorize", &e),
            Failure::Internal(reason) => {
                eprintln!("authorize: {reason}");
                html::error_page(500, "Something went wrong on our side. Please try again.")
            }
        }
    }
}

pub(crate) fn internal(e: impl std::fmt::Display) -> Failure {
    Failure::Internal(e.to_string())
}

fn show_consent(req: &Request, base: &BaseUrl) -> Result<Response, Failure> {
    let query = AuthorizeQuery::parse(req.query()).map_err(|e| Failure::Page(400, e))?;
    let client_id = query.client_id().map_err(|e| Failure::Page(400, e))?;
    let kv = SpinKv::open_for_client().map_err(Failure::Store)?;
    let now = clock::now();
    let client = clients::lookup(&kv, client_id, now)?;
    // Until the redirect URI is verified, errors are shown here, never redirected.
    let redirect =
        authorize::verify_redirect(&query, &client).map_err(|e| Failure::Page(400, e))?;
    let request = match authorize::validate(&query, client_id, &client, redirect, base) {
        Ok(request) => request,
        Err((error, redirect)) => {
            return Ok(response::redirect(&authorize::error_redirect_url(
                &error,
                &redirect,
                base.issuer(),
            )));
        }
    };
    let nonce = Secret::from_random(&random::bytes::<32>().map_err(internal)?);
    let key = config::server_key(&kv).map_err(Failure::Store)?;
    let lifetime = config::lifetimes().map_err(internal)?.sign_in;
    let ticket = ConsentTicket::new(
        &request,
        query.get("redirect_uri").is_some(),
        nonce.expose(),
        now + lifetime,
    )
    .seal(&key);
    let mode = match config::sign_in().map_err(internal)? {
        SignIn::Clerk(settings) => Mode::Clerk {
            app_url: settings.app_url,
            frontend_api: settings.expectations.issuer,
        },
        SignIn::Local
            if local_sign_in::is_allowed(
                config::request_authority(req),
                config::client_addr(req),
            ) =>
        {
            Mode::Local
        }
        SignIn::Local => Mode::LocalRefused,
    };
    let mut page = consent_page(
        client_id,
        &client,
        &request.redirect.uri,
        &request.scope,
        &ticket,
        &mode,
    );
    page.set_header(
        "set-cookie",
        cookies::host_cookie(COOKIE_NAME, nonce.expose(), lifetime),
    );
    Ok(page)
}

fn read_client(kv: &SpinKv, client_id: &str, now: u64) -> Result<ClientRecord, Failure> {
    record::read::<ClientRecord>(kv, &keys::client(client_id), now)
        .map_err(Failure::Store)?
        .map(|r| r.value)
        .ok_or(Failure::Page(400, Error::UnknownClient))
}

/// How the consent page lets the user continue.
enum Mode {
    /// Through the customer's app and Clerk.
    Clerk {
        app_url: String,
        /// Clerk's Frontend API, where Clerk's own session handshake may send the
        /// browser on its way through the app.
        frontend_api: String,
    },
    /// Local development sign-in, on this machine.
    Local,
    /// Local development mode, but not reached over loopback: no way to sign in.
    LocalRefused,
}

fn consent_page(
    client_id: &str,
    client: &ClientRecord,
    redirect_uri: &str,
    scope: &str,
    ticket: &str,
    mode: &Mode,
) -> Response {
    let name = client
        .client_name
        .as_deref()
        .unwrap_or("An unnamed application");
    // A metadata-document client is vouched for by the site that publishes it; its
    // name alone is self-asserted.
    let redirect = oauth::redirect_uri::RedirectUri::parse(redirect_uri).ok();
    let host = redirect
        .as_ref()
        .map(|r| r.display_host())
        .unwrap_or_default();
    let publisher = match url::Url::parse(client_id) {
        Ok(url) if keys::names_metadata_document(client_id) => {
            let mut note = format!(
                "<p>Its details are published by <strong>{}</strong>.</p>",
                html::escape(url.host_str().unwrap_or_default())
            );
            // Anyone can publish a document naming a loopback redirect (MCP security
            // considerations: warn about localhost-only clients).
            if redirect.as_ref().is_some_and(|r| r.is_loopback()) {
                note.push_str(
                    "<p class=\"warning\">It receives your approval on this computer. \
                     Approve only if you just started this sign-in from an application here.</p>",
                );
            }
            note
        }
        _ => String::new(),
    };
    let scopes: String = scope
        .split(' ')
        .map(|s| format!("<li><code>{}</code></li>", html::escape(s)))
        .collect();
    let sign_in = match mode {
        Mode::Clerk { app_url, .. } => format!(
            "<p>You will sign in at <strong>{}</strong>.</p>",
            html::escape(&oauth::redirect_uri::RedirectUri::parse(app_url).map(|r| r.display_host()).unwrap_or_default())
        ),
        Mode::Local => "<p>No Clerk application is configured, so this server runs in local development mode.</p>\
         <label for=\"user\">Sign in locally as</label>\
         <input type=\"text\" id=\"user\" name=\"user\" required maxlength=\"64\" autocomplete=\"username\">"
            .to_owned(),
        Mode::LocalRefused => "<p>Local sign-in is available only on this machine (a loopback address). \
         Configure Clerk to sign in from elsewhere.</p>"
            .to_owned(),
    };
    let body = format!(
        "<h1>Allow <strong>{name}</strong> to use this MCP server as you?</h1>{publisher}\
         <p>After you approve, you will be sent back to <strong>{host}</strong>.</p>\
         <p>It asks for:</p><ul>{scopes}</ul>\
         <form method=\"post\" action=\"/authorize\">\
         <input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">{sign_in}\
         <div class=\"actions\"><button type=\"submit\" name=\"decision\" value=\"approve\"{disabled}>Approve</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></div></form>\
         <p class=\"note\">You can see the applications you approved, and revoke them, at \
         <a href=\"/connections\">/connections</a>.</p>",
        name = html::escape(name),
        host = html::escape(&host),
        ticket = html::escape(ticket),
        disabled = if matches!(mode, Mode::LocalRefused) {
            " disabled"
        } else {
            ""
        },
    );
    html::form_page(
        200,
        "Authorize access",
        &body,
        &form_targets(redirect_uri, mode),
    )
}

/// Where the consent form's submission may lead (its CSP `form-action`, which Chromium
/// checks on every redirect after the POST): the client's redirect URI (a denial, and
/// the local sign-in's code) and, with Clerk, the app's sign-in route and Clerk's
/// Frontend API that the app's session handshake may pass through.
fn form_targets(redirect_uri: &str, mode: &Mode) -> Vec<String> {
    let mut targets: Vec<String> = html::csp_source(redirect_uri).into_iter().collect();
    if let Mode::Clerk {
        app_url,
        frontend_api,
    } = mode
    {
        targets.extend(html::csp_source(app_url));
        targets.extend(html::csp_source(frontend_api));
    }
    targets
}

fn decide(req: &Request, base: &BaseUrl) -> Result<Response, Failure> {
    let content_type = req.header("content-type").and_then(|v| v.as_str());
    let form = FormParams::parse(content_type, req.body()).map_err(|e| Failure::Page(400, e))?;
    let kv = SpinKv::open_for_client().map_err(Failure::Store)?;
    let key = config::existing_server_key(&kv)
        .map_err(Failure::Store)?
        .ok_or(Failure::Page(400, Error::InvalidConsent))?;
    let now = clock::now();
    let cookie = cookies::get(req, COOKIE_NAME);
    let ticket = ConsentTicket::open(
        form.get("ticket").unwrap_or_default(),
        &key,
        cookie.as_deref(),
        now,
    )
    .map_err(|e| Failure::Page(400, e))?;
    let redirect = ticket.redirect();
    let finish = |location: String| response::redirect_clearing_cookie(&location, COOKIE_NAME);
    match form.get("decision") {
        Some("approve") => {
            audit::event("consent_approved")
                .client(&ticket.client_id)
                .emit();
        }
        Some("deny") => {
            audit::event("consent_denied")
                .client(&ticket.client_id)
                .emit();
            return Ok(finish(authorize::error_redirect_url(
                &Error::ConsentDenied,
                &redirect,
                base.issuer(),
            )));
        }
        _ => return Err(Failure::Page(400, Error::MissingParameter("decision"))),
    }
    let lifetimes = config::lifetimes().map_err(internal)?;
    if let SignIn::Clerk(settings) = config::sign_in().map_err(internal)? {
        let expires_at = now + lifetimes.sign_in;
        return start_clerk_sign_in(&kv, &key, &ticket, &settings, base, now, expires_at);
    }
    if !local_sign_in::is_allowed(config::request_authority(req), config::client_addr(req)) {
        return Err(Failure::Page(403, Error::LocalSignInRefused));
    }
    let user_id = local_sign_in::user_id(form.get("user")).map_err(|e| Failure::Page(400, e))?;
    redirect_with_code(
        &kv,
        &ticket,
        (user_id, None),
        now,
        lifetimes.code,
        base.issuer(),
    )
}

/// Stores the sign-in transaction (single use, until `expires_at`) and sends the browser to the
/// customer's app, which signs the user in with Clerk and comes back to `/callback`.
/// The consent cookie stays: the callback checks it, binding the sign-in to this browser.
fn start_clerk_sign_in(
    kv: &SpinKv,
    key: &[u8],
    ticket: &ConsentTicket,
    settings: &config::ClerkSettings,
    base: &BaseUrl,
    now: u64,
    expires_at: u64,
) -> Result<Response, Failure> {
    let id = Secret::from_random(&random::bytes::<16>().map_err(internal)?);
    let transaction = Expiring {
        expires_at,
        value: ticket.clone(),
    };
    record::create(
        kv,
        &keys::sign_in(&SecretHash::of(id.expose()).to_string()),
        &transaction,
    )
    .map_err(Failure::Store)?;
    let client_name = read_client(kv, &ticket.client_id, now)
        .ok()
        .and_then(|c| c.client_name)
        .unwrap_or_else(|| "An MCP client".to_owned());
    let state = clerk::sign_in::seal_state(id.expose(), key);
    let url = clerk::sign_in::app_sign_in_url(
        &settings.app_url,
        &state,
        &base.join("/callback"),
        &client_name,
    );
    Ok(response::redirect(&url))
}
