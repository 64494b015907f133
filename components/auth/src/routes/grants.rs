//! Issuing a grant and its authorization code once the user is known.

use oauth::code::CodeRecord;
use oauth::consent::{COOKIE_NAME, ConsentTicket};
use oauth::grant::GrantRecord;
use oauth::secret::{Secret, SecretHash};
use oauth::{Error, authorize};
use platform::{audit, kv::SpinKv, random, response};
use spin_sdk::http::Response;
use store::{Expiring, keys, record, user_grants};

use super::authorize::{Failure, internal};

/// Answers a sign-in with the redirect that carries a new authorization code to the
/// client. The grant and code are written only once that redirect is known to be
/// sendable, so a sign-in that fails leaves nothing behind.
pub fn redirect_with_code(
    kv: &SpinKv,
    ticket: &ConsentTicket,
    user: (String, Option<String>),
    now: u64,
    code_lifetime: u64,
    issuer: &str,
) -> Result<Response, Failure> {
    let pending = PendingCode::new(ticket, user, now, code_lifetime)?;
    let location =
        authorize::success_redirect_url(&ticket.redirect(), pending.code.expose(), issuer);
    if !response::is_header_value(&location) {
        // Only a redirect URI stored before URIs had to be canonical can get here.
        return Err(Failure::Page(400, Error::RedirectUriMismatch));
    }
    pending.store(kv)?;
    Ok(response::redirect_clearing_cookie(&location, COOKIE_NAME))
}

/// A grant and its authorization code, made but not yet stored.
struct PendingCode {
    code: Secret,
    grant_id: String,
    grant: GrantRecord,
    code_record: CodeRecord,
    expires_at: u64,
}

impl PendingCode {
    /// The grant lives only as long as the code until the code is exchanged, so
    /// abandoned sign-ins leave nothing behind for long.
    fn new(
        ticket: &ConsentTicket,
        (user_id, session_id): (String, Option<String>),
        now: u64,
        code_lifetime: u64,
    ) -> Result<Self, Failure> {
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
            user_slot: None,
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
        Ok(Self {
            code,
            grant_id,
            grant,
            code_record,
            expires_at: now + code_lifetime,
        })
    }

    /// The grant and its code expire together until the code is exchanged, so they
    /// share one slot of the expiry index.
    ///
    /// The grant enters its user's index first (so a Clerk webhook finds every grant of
    /// the user). Like the expiry index, a failure there is logged, not returned: on a
    /// store without atomics the sign-in still works, and only the webhook's reach is lost.
    fn store(mut self, kv: &SpinKv) -> Result<(), Failure> {
        let expires_at = self.expires_at;
        let grant_key = keys::grant(&self.grant_id);
        let code_key = keys::code(&SecretHash::of(self.code.expose()).to_string());
        match user_grants::add(kv, &self.grant.user_id, &self.grant_id) {
            Ok(slot) => self.grant.user_slot = Some(slot),
            Err(e) => eprintln!("user index: {e}; webhooks will not find grant {grant_key}"),
        }
        record::index(kv, &[&grant_key, &code_key], expires_at);
        record::write(
            kv,
            &grant_key,
            &Expiring {
                expires_at,
                value: &self.grant,
            },
        )
        .map_err(Failure::Store)?;
        record::write(
            kv,
            &code_key,
            &Expiring {
                expires_at,
                value: self.code_record,
            },
        )
        .map_err(Failure::Store)?;
        audit::for_grant("sign_in", &self.grant_id, &self.grant)
            .session(self.grant.session_id.as_deref())
            .emit();
        Ok(())
    }
}
