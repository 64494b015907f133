//! `GET /callback?clerk_token=…&state=…`: the customer's app returns the signed-in user.

use oauth::authorize;
use oauth::consent::{COOKIE_NAME, ConsentTicket};
use oauth::secret::SecretHash;
use oauth::{BaseUrl, Error};
use platform::config::SignIn;
use platform::{audit, clock, config, cookies, html, kv::SpinKv, response};
use spin_sdk::http::{Method, Request, Response};
use store::{Kv, keys, record};

use super::authorize::{Failure, internal};
use super::clerk_keys::{self, Unverified};
use super::grants::redirect_with_code;

pub fn handle(req: &Request) -> Response {
    if !matches!(req.method(), Method::Get) {
        return html::method_not_allowed("GET");
    }
    let base = match config::base_url(req) {
        Ok(base) => base,
        Err(e) => return html::config_error(&e),
    };
    callback(req, &base).unwrap_or_else(Failure::into_response)
}

fn callback(req: &Request, base: &BaseUrl) -> Result<Response, Failure> {
    let SignIn::Clerk(settings) = config::sign_in().map_err(internal)? else {
        return Err(Failure::Page(404, Error::SignInNotConfigured));
    };
    let query =
        oauth::form::FormParams::parse_query(req.query()).map_err(|e| Failure::Page(400, e))?;
    let kv = SpinKv::open_for_client().map_err(Failure::Store)?;
    let key = config::existing_server_key(&kv)
        .map_err(Failure::Store)?
        .ok_or(Failure::Page(400, Error::InvalidSignIn))?;
    let now = clock::now();

    // 1. The state must be one we minted, for a sign-in still pending.
    let state = query
        .get("state")
        .ok_or(Failure::Page(400, Error::InvalidSignIn))?;
    let id = clerk::sign_in::open_state(state, &key)
        .map_err(|_| Failure::Page(400, Error::InvalidSignIn))?;
    let transaction_key = keys::sign_in(&SecretHash::of(id).to_string());
    let ticket = record::read::<ConsentTicket>(&kv, &transaction_key, now)
        .map_err(Failure::Store)?
        .ok_or(Failure::Page(400, Error::InvalidSignIn))?
        .value;
    // 2. In the browser that consented (the cookie set with the consent page).
    if !ticket.is_bound_to(cookies::get(req, COOKIE_NAME).as_deref()) {
        return Err(Failure::Page(400, Error::InvalidSignIn));
    }
    let redirect = ticket.redirect();
    let finish = |location: String| response::redirect_clearing_cookie(&location, COOKIE_NAME);
    // 3. The user, from Clerk's session token. A store failure spends nothing (the
    // reload works); otherwise the transaction is spent once, whatever the token
    // turned out to be, and a refusal goes back to the client.
    let token = query.get("clerk_token").unwrap_or_default();
    let verified = match clerk_keys::verify(token, &settings, &kv, now) {
        Err(Unverified::Store(e)) => return Err(Failure::Store(e)),
        Err(Unverified::ClerkUnreachable(reason)) => {
            eprintln!("callback: {reason}");
            return Ok(html::clerk_unreachable());
        }
        Err(Unverified::Token(reason)) => Err(reason),
        Ok(user) => Ok(user),
    };
    kv.delete(&transaction_key).map_err(Failure::Store)?;
    let user = match verified {
        Ok(user) => user,
        Err(reason) => {
            eprintln!("callback: Clerk session token refused: {reason}");
            audit::event("sign_in_refused")
                .client(&ticket.client_id)
                .reason("clerk_token")
                .emit();
            let error = Error::ClerkTokenRefused;
            return Ok(finish(authorize::error_redirect_url(
                &error,
                &redirect,
                base.issuer(),
            )));
        }
    };
    let code_lifetime = config::lifetimes().map_err(internal)?.code;
    redirect_with_code(
        &kv,
        &ticket,
        (user.user_id, Some(user.session_id)),
        now,
        code_lifetime,
        base.issuer(),
    )
}
