//! Ending a grant, wherever that happens (revocation by the client or the user, a replay,
//! a reused code): one round trip that deletes the grant, what is kept under its id and
//! its slot in the user's index, and the audit line that says who ended it.

use oauth::grant::GrantRecord;
use store::{Kv, user_grants};

use crate::audit;

/// Ends the grant: every access and refresh token of it fails from then on, on every
/// instance. `by` names who or what ended it, for the audit line.
pub fn end(
    kv: &impl Kv,
    grant_id: &str,
    grant: &GrantRecord,
    by: &str,
) -> Result<(), store::Error> {
    kv.delete_many(&user_grants::grant_and_companions(
        grant_id,
        grant.user_slot.as_deref(),
    ))?;
    audit_ended(grant_id, grant, by);
    Ok(())
}

/// The audit line of an ended grant, for callers that delete it themselves (a webhook
/// deletes many in batches).
pub fn audit_ended(grant_id: &str, grant: &GrantRecord, by: &str) {
    audit::for_grant("grant_revoked", grant_id, grant)
        .session(grant.session_id.as_deref())
        .reason(by)
        .emit();
}
