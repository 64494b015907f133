//! `POST /webhooks/clerk`: Clerk's events that end access (a user deleted or banned, a
//! session ended, revoked or removed) end the grants they concern, on every instance.
//!
//! Svix counts a delivery done only on a 2xx and otherwise retries it, with the same
//! `svix-id`, for about a day. So the answer is 2xx only once the grants are gone, and
//! a delivery is remembered as processed only after its work succeeded: a delivery that
//! fails midway is retried and does the work then. Ending a grant twice is harmless, so
//! remembering ids a little longer than the 5-minute timestamp window is enough.

use clerk::webhook::{self, Delivery, Event, SigningSecret, WebhookError};
use oauth::grant::GrantRecord;
use platform::{audit, clock, config, grants, kv::SpinKv, response};
use serde::{Deserialize, Serialize};
use spin_sdk::http::{Request, Response};
use store::{Expiring, Kv, keys, record, user_grants};

/// Webhook bodies carry whole Clerk objects (a user with all its addresses): larger
/// than a token form, still small.
pub const BODY_BYTES: usize = 256 * 1024;

/// How long a processed delivery is remembered: past Svix's 5-minute window, a replay of
/// it is refused by its timestamp anyway.
const REMEMBER_SECS: u64 = 10 * 60;

/// A processed delivery (`wh:<sha256(svix-id)>`): the digest of the body it came with.
#[derive(Serialize, Deserialize)]
struct Processed {
    body: String,
}

fn error(status: u16, error: &str, description: &str) -> Response {
    response::no_store_json(
        status,
        &serde_json::json!({"error": error, "error_description": description}),
    )
}

pub fn handle(req: &Request) -> Response {
    let Some(secret) = config::clerk_webhook_secret() else {
        return error(
            404,
            "not_found",
            "Clerk webhooks are off: set the clerk_webhook_secret variable",
        );
    };
    let Ok(secret) = SigningSecret::parse(&secret) else {
        eprintln!("webhook: clerk_webhook_secret is not a whsec_ secret");
        return response::server_error();
    };
    let header = |name: &str| req.header(name).and_then(|v| v.as_str());
    let delivery = Delivery {
        id: header("svix-id"),
        timestamp: header("svix-timestamp"),
        signature: header("svix-signature"),
        body: req.body(),
    };
    let now = clock::now();
    let id = match webhook::verify(&secret, &delivery, now) {
        Ok(id) => id,
        Err(e @ WebhookError::MissingHeader(_)) => {
            return error(400, "invalid_request", &e.to_string());
        }
        Err(e) => {
            eprintln!("webhook: delivery refused: {e}");
            return error(401, "invalid_signature", &e.to_string());
        }
    };
    // Only a verified body is parsed.
    let event = match webhook::parse_event(delivery.body) {
        Ok(event) => event,
        Err(e) => return error(400, "invalid_event", &e.to_string()),
    };
    match process(id, delivery.body, &event, now) {
        Ok(Outcome::Done { ended }) => response::no_store_json(
            200,
            &serde_json::json!({"status": "processed", "ended": ended}),
        ),
        Ok(Outcome::AlreadyDone) => {
            response::no_store_json(200, &serde_json::json!({"status": "already processed"}))
        }
        Ok(Outcome::Conflict) => error(
            409,
            "conflict",
            "this svix-id was already delivered with another body",
        ),
        Err(e) => response::store_error("webhook", &e),
    }
}

enum Outcome {
    Done { ended: usize },
    AlreadyDone,
    Conflict,
}

fn process(id: &str, body: &[u8], event: &Event, now: u64) -> Result<Outcome, store::Error> {
    let kv = SpinKv::open_default()?;
    let seen_key = keys::webhook_delivery(&keys::digest(id.as_bytes()));
    let body_digest = keys::digest(body);
    if let Some(seen) = record::read::<Processed>(&kv, &seen_key, now)? {
        return Ok(if seen.value.body == body_digest {
            Outcome::AlreadyDone
        } else {
            Outcome::Conflict
        });
    }
    let ended = match event {
        Event::UserGone {
            user_id,
            deleted,
            at,
        } => {
            audit::event("clerk_user_gone").user(user_id).emit();
            let ending = Ending {
                user_id,
                session: None,
                made_by: *at,
                user_deleted: *deleted,
            };
            end_grants(&kv, &ending, now)?
        }
        Event::SessionEnded {
            user_id,
            session_id,
            at,
        } => {
            audit::event("clerk_session_ended")
                .user(user_id)
                .session(Some(session_id))
                .emit();
            let ending = Ending {
                user_id,
                session: Some(session_id),
                made_by: *at,
                user_deleted: false,
            };
            end_grants(&kv, &ending, now)?
        }
        // Nothing done, nothing to remember: the store stays as it was.
        Event::Ignored { .. } => return Ok(Outcome::Done { ended: 0 }),
    };
    // Remembered only now that the work is done.
    record::create(
        &kv,
        &seen_key,
        &Expiring {
            expires_at: now + REMEMBER_SECS,
            value: Processed { body: body_digest },
        },
    )?;
    Ok(Outcome::Done { ended })
}

/// Which of a user's grants an event ends.
struct Ending<'a> {
    user_id: &'a str,
    /// Only the grants signed in with this Clerk session.
    session: Option<&'a str>,
    /// Only the grants made by then (the event's time): a retry a day later must not end
    /// grants made since (a user unbanned who signed in again).
    made_by: Option<u64>,
    /// The user is gone for good: their index goes too.
    user_deleted: bool,
}

impl Ending<'_> {
    fn ends(&self, grant: &GrantRecord) -> bool {
        grant.user_id == self.user_id
            && self
                .session
                .is_none_or(|sid| grant.session_id.as_deref() == Some(sid))
            && self.made_by.is_none_or(|at| grant.created_at <= at)
    }
}

/// Deletes are sent in batches of this many keys as the walk goes, so a walk cut short
/// (Svix stops waiting after 15 s) has done its part and the retry continues from there.
const DELETE_BATCH: usize = 100;

/// Ends the grants `ending` names; returns how many. A slot whose grant is absent is
/// left alone (it may belong to a sign-in being written right now, which writes the
/// slot first), except for a deleted user, whose whole index goes.
fn end_grants(kv: &impl Kv, ending: &Ending, now: u64) -> Result<usize, store::Error> {
    let mut doomed = Vec::new();
    let mut batch: Vec<(String, GrantRecord)> = Vec::new();
    let mut ended = 0;
    let flush = |doomed: &mut Vec<String>, batch: &mut Vec<(String, GrantRecord)>| {
        if !doomed.is_empty() {
            kv.delete_many(doomed)?;
        }
        for (grant_id, grant) in batch.drain(..) {
            grants::audit_ended(&grant_id, &grant, "webhook");
        }
        doomed.clear();
        Ok::<(), store::Error>(())
    };
    let mut seen = std::collections::HashSet::new();
    for slot in user_grants::walk(kv, ending.user_id)? {
        // Two instances indexing one old grant at once give it two slots.
        if !seen.insert(slot.grant_id.clone()) {
            doomed.push(slot.key);
            continue;
        }
        match record::read::<GrantRecord>(kv, &keys::grant(&slot.grant_id), now)? {
            Some(grant) if ending.ends(&grant.value) => {
                doomed.extend(user_grants::grant_and_companions(
                    &slot.grant_id,
                    Some(&slot.key),
                ));
                batch.push((slot.grant_id, grant.value));
                ended += 1;
            }
            Some(_) => {}
            None if ending.user_deleted => doomed.push(slot.key),
            None => {}
        }
        if doomed.len() >= DELETE_BATCH {
            flush(&mut doomed, &mut batch)?;
        }
    }
    if ending.user_deleted {
        doomed.push(user_grants::counter_key(ending.user_id));
    }
    flush(&mut doomed, &mut batch)?;
    Ok(ended)
}
