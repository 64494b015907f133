//! `POST /token`: the authorization_code and refresh_token grants (RFC 6749 §4.1.3, §6).

use oauth::authorize::verify_resource;
use oauth::code::CodeRecord;
use oauth::form::FormParams;
use oauth::grant::{self, GrantRecord, RefreshOutcome};
use oauth::lifetimes::Lifetimes;
use oauth::registration::ClientRecord;
use oauth::secret::SecretHash;
use oauth::token::{self, ClientCredentials, GrantType, TokenResponse};
use oauth::{BaseUrl, Error};
use platform::{audit, clock, config, grants, kv::SpinKv, response};
use spin_sdk::http::{Request, Response};
use store::{Expiring, keys, record};

use super::{Failure, authenticated_client};

pub fn handle(req: &Request) -> Response {
    let base = match config::base_url(req) {
        Ok(base) => base,
        Err(e) => return response::config_error(&e),
    };
    match exchange(req, &base) {
        Ok(tokens) => response::no_store_json(200, &tokens),
        Err(failure) => failure.into_response(),
    }
}

fn exchange(req: &Request, base: &BaseUrl) -> Result<TokenResponse, Failure> {
    let kv = SpinKv::open_for_client()?;
    let lifetimes = config::lifetimes()?;
    let now = clock::now();
    let (params, credentials, stored_client) = authenticated_client(req, &kv, now)?;
    let client = &stored_client.value;
    let grant_type = token::parse_grant_type(&params)?;
    if !client.allows_grant(grant_type) {
        return Err(Error::UnauthorizedGrantType.into());
    }
    match grant_type {
        GrantType::AuthorizationCode => {
            let tokens =
                authorization_code(&kv, &params, &credentials, client, base, &lifetimes, now)?;
            renew_client(&kv, &credentials.client_id, stored_client, &lifetimes, now);
            Ok(tokens)
        }
        GrantType::RefreshToken => {
            let tokens = refresh(&kv, &params, &credentials, client, base, &lifetimes, now)?;
            // A client that only refreshes is in use too: it must outlive its grants.
            renew_client(&kv, &credentials.client_id, stored_client, &lifetimes, now);
            Ok(tokens)
        }
    }
}

fn authorization_code(
    kv: &SpinKv,
    params: &FormParams,
    credentials: &ClientCredentials,
    client: &ClientRecord,
    base: &BaseUrl,
    lifetimes: &Lifetimes,
    now: u64,
) -> Result<TokenResponse, Failure> {
    let code = params.require("code")?;
    let verifier = params.require("code_verifier")?;
    let code_key = keys::code(&SecretHash::of(code).to_string());
    let Some(mut stored) = record::read::<CodeRecord>(kv, &code_key, now)? else {
        return Err(Error::InvalidCode.into());
    };
    if stored.value.used {
        // RFC 6749 §4.1.2: a code used twice revokes what it issued.
        let grant_id = &stored.value.grant_id;
        if let Some(grant) = record::read::<GrantRecord>(kv, &keys::grant(grant_id), now)? {
            grants::end(kv, grant_id, &grant.value, "reused_code")?;
        }
        return Err(Error::InvalidCode.into());
    }
    let code_record = &stored.value;
    if code_record.client_id != credentials.client_id {
        return Err(Error::InvalidCode.into());
    }
    // RFC 6749 §4.1.3: redirect_uri must repeat the authorization request's, if it had one.
    match params.get("redirect_uri") {
        Some(uri) if uri != code_record.redirect_uri => return Err(Error::InvalidCode.into()),
        None if code_record.redirect_uri_given => {
            return Err(Error::MissingParameter("redirect_uri").into());
        }
        _ => {}
    }
    oauth::pkce::CodeChallenge::parse(Some(&code_record.code_challenge), Some("S256"))?
        .verify(verifier)?;
    verify_optional_resource(params, base)?;
    // Spend the code before issuing anything: a concurrent second exchange then finds
    // it used (Spin's store has no compare-and-swap; this keeps the window minimal).
    stored.value.used = true;
    record::write(kv, &code_key, &stored)?;
    let grant_id = stored.value.grant_id;
    let Some(mut grant) = record::read::<GrantRecord>(kv, &keys::grant(&grant_id), now)? else {
        return Err(Error::InvalidCode.into());
    };
    let previous_expiry = grant.expires_at;
    grant.value.rotated_at = now;
    grant.expires_at = now + lifetimes.grant;
    super::ensure_indexed(kv, &grant_id, &mut grant.value);
    record::renew(kv, &keys::grant(&grant_id), previous_expiry, &grant)?;
    audit::for_grant("code_exchanged", &grant_id, &grant.value).emit();
    respond(
        &grant.value,
        &grant_id,
        client,
        grant.value.refresh_generation,
        lifetimes,
    )
}

fn refresh(
    kv: &SpinKv,
    params: &FormParams,
    credentials: &ClientCredentials,
    client: &ClientRecord,
    base: &BaseUrl,
    lifetimes: &Lifetimes,
    now: u64,
) -> Result<TokenResponse, Failure> {
    let presented = grant::parse_refresh_token(params.require("refresh_token")?)?;
    let grant_key = keys::grant(presented.grant_id);
    let Some(mut grant) = record::read::<GrantRecord>(kv, &grant_key, now)? else {
        return Err(Error::InvalidToken.into());
    };
    if grant.value.client_id != credentials.client_id {
        return Err(Error::InvalidToken.into());
    }
    verify_optional_resource(params, base)?;
    if let Some(scope) = params.get("scope") {
        // RFC 6749 §6: a refresh may narrow the scope, never widen it. Scopes this
        // server does not define are ignored, as at `/authorize`.
        let granted: Vec<&str> = grant.value.scope.split(' ').collect();
        if let Some(extra) = oauth::scope::defined(scope).find(|s| !granted.contains(s)) {
            return Err(Error::InvalidScope(extra.to_owned()).into());
        }
    }
    let grant_id = presented.grant_id.to_owned();
    match grant.value.check_refresh(&presented, now)? {
        RefreshOutcome::Rotate { generation } => {
            let previous_expiry = grant.expires_at;
            grant.value.refresh_generation = generation;
            grant.value.rotated_at = now;
            grant.expires_at = now + lifetimes.grant;
            super::ensure_indexed(kv, &grant_id, &mut grant.value);
            record::renew(kv, &grant_key, previous_expiry, &grant)?;
            audit::for_grant("refresh", &grant_id, &grant.value).emit();
            respond(&grant.value, &grant_id, client, generation, lifetimes)
        }
        RefreshOutcome::Retry { generation } => {
            audit::for_grant("refresh", &grant_id, &grant.value)
                .reason("retry")
                .emit();
            respond(&grant.value, &grant_id, client, generation, lifetimes)
        }
        RefreshOutcome::Replayed => {
            // RFC 9700 §4.14.2: a replayed refresh token means it leaked; end the grant.
            grants::end(kv, &grant_id, &grant.value, "replay")?;
            Err(Error::RefreshReplayed.into())
        }
    }
}

fn respond(
    grant: &GrantRecord,
    grant_id: &str,
    client: &ClientRecord,
    generation: u64,
    lifetimes: &Lifetimes,
) -> Result<TokenResponse, Failure> {
    let (access_token, expires_at) =
        grant.access_token_for_generation(grant_id, lifetimes.access_token)?;
    let refresh_token = client
        .allows_grant(GrantType::RefreshToken)
        .then(|| grant.refresh_token(grant_id, generation))
        .transpose()?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: expires_at.saturating_sub(clock::now()),
        refresh_token,
        scope: grant.scope.clone(),
    })
}

/// Keeps a client in use (signing users in or refreshing) from expiring, at most one
/// write a day.
fn renew_client(
    kv: &SpinKv,
    client_id: &str,
    mut client: Expiring<ClientRecord>,
    lifetimes: &Lifetimes,
    now: u64,
) {
    if lifetimes.client_needs_renewal(client.expires_at, now) {
        let previous_expiry = client.expires_at;
        client.expires_at = now + lifetimes.client;
        // A failed renewal costs nothing now; the next use tries again.
        if let Err(e) = record::renew(kv, &keys::client(client_id), previous_expiry, &client) {
            eprintln!("token endpoint: renewing client: {e}");
        }
    }
}

/// RFC 8707 §2: a token request may name the resource again; if it does, it must be
/// this server's MCP endpoint (the one every grant is bound to).
fn verify_optional_resource(params: &FormParams, base: &BaseUrl) -> Result<(), Error> {
    match params.get("resource") {
        Some(resource) => verify_resource(Some(resource), base).map(drop),
        None => Ok(()),
    }
}
