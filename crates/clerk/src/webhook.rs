//! Clerk's webhooks, as Svix delivers them: the signature check over the raw body, and
//! the events that end access.
//!
//! Svix signs `{svix-id}.{svix-timestamp}.{body}` with HMAC-SHA256, keyed with the
//! base64-decoded part of the `whsec_…` secret, and sends `svix-signature` as
//! space-separated `v1,<base64>` entries (others may follow a secret rotation; any `v1`
//! entry may match). Nothing of the body is parsed before its signature verifies.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// How far a delivery's timestamp may be from our clock, either way (Svix's own rule):
/// a captured delivery cannot be replayed after this.
pub const TOLERANCE_SECS: u64 = 5 * 60;

/// Why a delivery was refused; none of these says which part of a signature was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook signing secret is not a whsec_ secret")]
    BadSecret,
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    #[error("svix-timestamp is not a Unix time")]
    BadTimestamp,
    #[error("svix-timestamp is more than 5 minutes from now")]
    StaleTimestamp,
    #[error("no v1 signature matches")]
    NoMatchingSignature,
    #[error("the body is not a Clerk event: {0}")]
    Malformed(String),
}

/// The signing secret (`whsec_` + base64 of the key).
pub struct SigningSecret(Vec<u8>);

impl SigningSecret {
    pub fn parse(secret: &str) -> Result<Self, WebhookError> {
        let encoded = secret
            .strip_prefix("whsec_")
            .ok_or(WebhookError::BadSecret)?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| WebhookError::BadSecret)?;
        if key.is_empty() {
            return Err(WebhookError::BadSecret);
        }
        Ok(Self(key))
    }
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(…)")
    }
}

/// A delivery's three Svix headers and its raw body.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub body: &'a [u8],
}

/// Checks a delivery's signature and freshness at `now`; returns its id.
pub fn verify<'a>(
    secret: &SigningSecret,
    delivery: &Delivery<'a>,
    now: u64,
) -> Result<&'a str, WebhookError> {
    let id = delivery.id.ok_or(WebhookError::MissingHeader("svix-id"))?;
    let timestamp = delivery
        .timestamp
        .ok_or(WebhookError::MissingHeader("svix-timestamp"))?;
    let signature = delivery
        .signature
        .ok_or(WebhookError::MissingHeader("svix-signature"))?;
    let sent: u64 = timestamp.parse().map_err(|_| WebhookError::BadTimestamp)?;
    if sent.abs_diff(now) > TOLERANCE_SECS {
        return Err(WebhookError::StaleTimestamp);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.0).expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(delivery.body);
    let matches = signature
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        // `verify_slice` compares in constant time.
        .any(|candidate| mac.clone().verify_slice(&candidate).is_ok());
    if matches {
        Ok(id)
    } else {
        Err(WebhookError::NoMatchingSignature)
    }
}

/// What a verified event asks of us. `at` is when Clerk says it happened (Unix seconds,
/// from the envelope's `timestamp` in milliseconds), if it says: Svix retries a failed
/// delivery for about a day, and a late retry must not end grants made after the event
/// (a user unbanned who signed in again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `user.deleted` (`deleted`), or `user.updated` with `banned: true`: every grant of
    /// the user ends.
    UserGone {
        user_id: String,
        deleted: bool,
        at: Option<u64>,
    },
    /// `session.ended`, `session.revoked`, `session.removed`: the grants signed in with
    /// that Clerk session end.
    SessionEnded {
        user_id: String,
        session_id: String,
        at: Option<u64>,
    },
    /// Any other event (including `user.updated` without a ban): nothing to do.
    Ignored { kind: String },
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    object: String,
    data: serde_json::Map<String, serde_json::Value>,
    /// Milliseconds since the epoch.
    #[serde(default)]
    timestamp: Option<u64>,
}

fn text_field(
    data: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Result<String, WebhookError> {
    match data.get(name).and_then(serde_json::Value::as_str) {
        Some(value) if !value.is_empty() => Ok(value.to_owned()),
        _ => Err(WebhookError::Malformed(format!("data.{name} is missing"))),
    }
}

/// Reads a verified body: `{type, object: "event", data, …}`.
pub fn parse_event(body: &[u8]) -> Result<Event, WebhookError> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    if envelope.object != "event" {
        return Err(WebhookError::Malformed("object is not \"event\"".into()));
    }
    let data = &envelope.data;
    let at = envelope.timestamp.map(|ms| ms / 1000);
    match envelope.kind.as_str() {
        "user.deleted" => Ok(Event::UserGone {
            user_id: text_field(data, "id")?,
            deleted: true,
            at,
        }),
        // Clerk sends no ban event: a ban shows as an update with `banned: true`.
        "user.updated" if data.get("banned") == Some(&serde_json::Value::Bool(true)) => {
            Ok(Event::UserGone {
                user_id: text_field(data, "id")?,
                deleted: false,
                at,
            })
        }
        "session.ended" | "session.revoked" | "session.removed" => Ok(Event::SessionEnded {
            user_id: text_field(data, "user_id")?,
            session_id: text_field(data, "id")?,
            at,
        }),
        _ => Ok(Event::Ignored {
            kind: envelope.kind,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn sign(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    fn delivery<'a>(signature: &'a str, timestamp: &'a str, body: &'a [u8]) -> Delivery<'a> {
        Delivery {
            id: Some("msg_1"),
            timestamp: Some(timestamp),
            signature: Some(signature),
            body,
        }
    }

    fn secret() -> SigningSecret {
        SigningSecret::parse(SECRET).unwrap()
    }

    #[test]
    fn a_signed_fresh_delivery_verifies_and_any_v1_entry_may_match() {
        let body = br#"{"type":"user.deleted"}"#;
        let good = sign(SECRET, "msg_1", "1000", body);
        assert_eq!(
            verify(&secret(), &delivery(&good, "1000", body), 1000),
            Ok("msg_1")
        );
        let several = format!("v1,AAAA v2,xyz {good}");
        assert_eq!(
            verify(&secret(), &delivery(&several, "1000", body), 1000),
            Ok("msg_1")
        );
    }

    #[test]
    fn refusals() {
        let body = br#"{"type":"user.deleted"}"#;
        let good = sign(SECRET, "msg_1", "1000", body);
        let other_secret = sign("whsec_c2VjcmV0LXR3bw==", "msg_1", "1000", body);
        let other_id = sign(SECRET, "msg_2", "1000", body);
        let cases: [(&str, Delivery, u64, WebhookError); 7] = [
            (
                "another secret",
                delivery(&other_secret, "1000", body),
                1000,
                WebhookError::NoMatchingSignature,
            ),
            (
                "another id",
                delivery(&other_id, "1000", body),
                1000,
                WebhookError::NoMatchingSignature,
            ),
            (
                "another body",
                delivery(&good, "1000", b"{}"),
                1000,
                WebhookError::NoMatchingSignature,
            ),
            (
                "6 minutes old",
                delivery(&good, "1000", body),
                1360,
                WebhookError::StaleTimestamp,
            ),
            (
                "6 minutes ahead",
                delivery(&good, "1000", body),
                640,
                WebhookError::StaleTimestamp,
            ),
            (
                "not a time",
                delivery(&good, "soon", body),
                1000,
                WebhookError::BadTimestamp,
            ),
            (
                "no signature",
                Delivery {
                    signature: None,
                    ..delivery(&good, "1000", body)
                },
                1000,
                WebhookError::MissingHeader("svix-signature"),
            ),
        ];
        for (what, delivery, now, expected) in cases {
            assert_eq!(verify(&secret(), &delivery, now), Err(expected), "{what}");
        }
        assert_eq!(
            verify(&secret(), &delivery(&good, "1300", body), 1000),
            Err(WebhookError::NoMatchingSignature),
            "5 minutes off is in time, but the signature covers the timestamp"
        );
    }

    #[test]
    fn secrets_must_be_whsec_base64() {
        assert!(SigningSecret::parse("MfKQ9r8GKYqrTwjU").is_err());
        assert!(SigningSecret::parse("whsec_not base64!").is_err());
        assert!(SigningSecret::parse("whsec_").is_err());
    }

    #[test]
    fn events_that_end_access_and_the_rest() {
        let deleted = br#"{"type":"user.deleted","object":"event","timestamp":1700000000123,"data":{"deleted":true,"id":"user_1","object":"user"}}"#;
        assert_eq!(
            parse_event(deleted),
            Ok(Event::UserGone {
                user_id: "user_1".into(),
                deleted: true,
                at: Some(1_700_000_000),
            })
        );
        let banned =
            br#"{"type":"user.updated","object":"event","data":{"id":"user_1","banned":true}}"#;
        assert_eq!(
            parse_event(banned),
            Ok(Event::UserGone {
                user_id: "user_1".into(),
                deleted: false,
                at: None,
            })
        );
        let renamed =
            br#"{"type":"user.updated","object":"event","data":{"id":"user_1","banned":false}}"#;
        assert_eq!(
            parse_event(renamed),
            Ok(Event::Ignored {
                kind: "user.updated".into()
            })
        );
        for kind in ["session.ended", "session.revoked", "session.removed"] {
            let body = format!(
                r#"{{"type":"{kind}","object":"event","timestamp":5000,"data":{{"id":"sess_1","user_id":"user_1","status":"ended"}}}}"#
            );
            assert_eq!(
                parse_event(body.as_bytes()),
                Ok(Event::SessionEnded {
                    user_id: "user_1".into(),
                    session_id: "sess_1".into(),
                    at: Some(5),
                }),
                "{kind}"
            );
        }
        let created = br#"{"type":"user.created","object":"event","data":{"id":"user_2"}}"#;
        assert_eq!(
            parse_event(created),
            Ok(Event::Ignored {
                kind: "user.created".into()
            })
        );
    }

    #[test]
    fn bodies_that_are_not_the_event_shape_are_malformed() {
        for body in [
            &b"not json"[..],
            br#"{"type":"user.deleted","data":{"id":"user_1"}}"#,
            br#"{"type":"user.deleted","object":"user","data":{"id":"user_1"}}"#,
            br#"{"type":"user.deleted","object":"event","data":{"deleted":true}}"#,
            br#"{"type":"session.ended","object":"event","data":{"id":"sess_1"}}"#,
            br#"{"type":"user.deleted","object":"event","data":[]}"#,
            br#"{"object":"event","data":{}}"#,
        ] {
            assert!(
                matches!(parse_event(body), Err(WebhookError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    proptest! {
        #[test]
        fn any_headers_and_body_verify_or_refuse_without_panicking(
            id in proptest::option::of(".{0,40}"),
            timestamp in proptest::option::of(".{0,20}"),
            signature in proptest::option::of(".{0,200}"),
            body in proptest::collection::vec(any::<u8>(), 0..200),
            now in any::<u64>(),
        ) {
            let delivery = Delivery {
                id: id.as_deref(),
                timestamp: timestamp.as_deref(),
                signature: signature.as_deref(),
                body: &body,
            };
            prop_assert!(verify(&secret(), &delivery, now).is_err());
        }

        #[test]
        fn any_body_parses_or_is_malformed_without_panicking(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_event(&body);
        }

        #[test]
        fn a_signature_verifies_only_for_what_was_signed(
            id in "[a-z0-9_]{1,20}",
            body in proptest::collection::vec(any::<u8>(), 0..100),
            flip in any::<prop::sample::Index>(),
        ) {
            let signed = sign(SECRET, &id, "5000", &body);
            let good = Delivery { id: Some(&id), timestamp: Some("5000"), signature: Some(&signed), body: &body };
            prop_assert_eq!(verify(&secret(), &good, 5000), Ok(id.as_str()));
            if !body.is_empty() {
                let mut changed = body.clone();
                let i = flip.index(changed.len());
                changed[i] ^= 1;
                let tampered = Delivery { body: &changed, ..good };
                prop_assert_eq!(verify(&secret(), &tampered, 5000), Err(WebhookError::NoMatchingSignature));
            }
        }
    }
}
