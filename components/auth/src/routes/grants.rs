//! Issuing a grant and its authorization code once the user is known.

use oauth::code::CodeRecord;
use oauth::consent::ConsentTicket;
use oauth::grant::GrantRecord;
use oauth::secret::{Secret, SecretHash};
use platform::{kv::SpinKv, random};
use store::{Expiring, keys, record};

use super::authorize::{Failure, internal};

/// Creates the grant and its authorization code. The grant lives only as long as the
/// code until the code is exchanged, so abandoned sign-ins leave nothing behind for long.
pub fn issue_code(
    kv: &SpinKv,
    ticket: &ConsentTicket,
    user_id: String,
    session_id: Option<String>,
    now: u64,
    code_lifetime: u64,
) -> Result<Secret, Failure> {
    let grant_id = Secret::from_random(&random::bytes::<16>().map_err(internal)?)
        .expose()
        .to_owned();
    let grant_key = Secret::from_random(&random::bytes::<32>().map_err(internal)?)
        .expose()
        .to_owned();
    let code = Secret::from_random(&random::bytes::<32>().map_err(internal)?);
    let grant = GrantRecord {
        client_id: ticket.client_id.clone(),
        user_id,
        session_id,
        resource: ticket.resource.clone(),
        scope: ticket.scope.clone(),
        key: grant_key,
        refresh_generation: 0,
        rotated_at: now,
        created_at: now,
    };
    let code_record = CodeRecord {
        grant_id: grant_id.clone(),
        client_id: ticket.client_id.clone(),
        redirect_uri: ticket.redirect_uri.clone(),
        redirect_uri_given: ticket.redirect_uri_given,
        code_challenge: ticket.code_challenge.clone(),
        used: false,
    };
    let expires_at = now + code_lifetime;
    record::write(
        kv,
        &keys::grant(&grant_id),
        &Expiring {
            expires_at,
            value: grant,
        },
    )
    .map_err(internal)?;
    let code_key = keys::code(&SecretHash::of(code.expose()).to_string());
    record::write(
        kv,
        &code_key,
        &Expiring {
            expires_at,
            value: code_record,
        },
    )
    .map_err(internal)?;
    Ok(code)
}
