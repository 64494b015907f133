//! Grants and the tokens derived from them.
//!
//! A grant is one user's consent for one client to use this server (one resource, some
//! scopes). It is the only per-login record: access and refresh tokens are not stored,
//! they are MACs under a random key kept in the grant, so that
//! - the MCP endpoint validates an access token with one key-value read (the grant),
//!   which also tells it whether the grant was revoked;
//! - refresh rotation needs no compare-and-swap: the next refresh token is a function of
//!   the grant and its generation, so concurrent or retried refreshes of the same token
//!   converge on the same new token instead of racing to store different ones.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::Error;
use crate::lifetimes::REFRESH_GRACE_SECS;

/// Access tokens start with this, so they are recognisable in logs scrubbing and by eye.
const ACCESS_PREFIX: &str = "mcp_at_";
const REFRESH_PREFIX: &str = "mcp_rt_";

/// The grant as stored (`gr:<grant_id>`); see `docs/kv-schema.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRecord {
    pub client_id: String,
    /// The signed-in user (Clerk user id, or `local:<name>` in local development).
    pub user_id: String,
    /// The Clerk session the grant came from, used to mint upstream tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// This grant's entry in its user's index (`store::user_grants`), deleted with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_slot: Option<String>,
    pub resource: String,
    pub scope: String,
    /// BASE64URL of 32 random bytes: the MAC key of every token of this grant.
    pub key: String,
    /// The generation of the one live refresh token.
    pub refresh_generation: u64,
    /// When the current generation was issued (the grace window starts here).
    pub rotated_at: u64,
    pub created_at: u64,
}

/// What a valid access token proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenClaims {
    pub grant_id: String,
    pub expires_at: u64,
}

/// The parts of a presented token, before its grant is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedToken<'a> {
    pub grant_id: &'a str,
    /// Expiry (access tokens) or generation (refresh tokens).
    pub number: u64,
    mac: &'a str,
}

/// The outcome of presenting a refresh token to its grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The current token: rotate to `generation` (store it, then answer).
    Rotate { generation: u64 },
    /// The previous token, retried within the grace window: answer with the current
    /// generation again, changing nothing.
    Retry { generation: u64 },
    /// An older token, or the previous one after the grace window: a replay, which
    /// RFC 9700 §4.14.2 says should revoke the grant.
    Replayed,
}

impl GrantRecord {
    /// The MAC state over one token's claims, keyed by this grant's key.
    fn keyed(&self, label: &str, grant_id: &str, number: u64) -> Result<Hmac<Sha256>, Error> {
        let key = URL_SAFE_NO_PAD
            .decode(&self.key)
            .map_err(|_| Error::CorruptGrant)?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| Error::CorruptGrant)?;
        mac.update(format!("{label}|{grant_id}|{number}").as_bytes());
        Ok(mac)
    }

    fn mac(&self, label: &str, grant_id: &str, number: u64) -> Result<Vec<u8>, Error> {
        Ok(self
            .keyed(label, grant_id, number)?
            .finalize()
            .into_bytes()
            .to_vec())
    }

    fn verify_mac(&self, label: &str, token: &PresentedToken<'_>) -> Result<(), Error> {
        let presented = URL_SAFE_NO_PAD
            .decode(token.mac)
            .map_err(|_| Error::InvalidToken)?;
        // `verify_slice` compares in constant time.
        self.keyed(label, token.grant_id, token.number)?
            .verify_slice(&presented)
            .map_err(|_| Error::InvalidToken)
    }

    /// An access token for this grant expiring at `expires_at`.
    pub fn access_token(&self, grant_id: &str, expires_at: u64) -> Result<String, Error> {
        let mac = self.mac("at", grant_id, expires_at)?;
        Ok(format!(
            "{ACCESS_PREFIX}{grant_id}.{expires_at}.{}",
            URL_SAFE_NO_PAD.encode(mac)
        ))
    }

    /// The refresh token of a generation.
    pub fn refresh_token(&self, grant_id: &str, generation: u64) -> Result<String, Error> {
        let mac = self.mac("rt", grant_id, generation)?;
        Ok(format!(
            "{REFRESH_PREFIX}{grant_id}.{generation}.{}",
            URL_SAFE_NO_PAD.encode(mac)
        ))
    }

    /// Checks an access token against this (live, unrevoked) grant.
    pub fn verify_access_token(
        &self,
        token: &PresentedToken<'_>,
        now: u64,
    ) -> Result<AccessTokenClaims, Error> {
        self.verify_mac("at", token)?;
        if now >= token.number {
            return Err(Error::InvalidToken);
        }
        Ok(AccessTokenClaims {
            grant_id: token.grant_id.to_owned(),
            expires_at: token.number,
        })
    }

    /// Decides what a presented refresh token means for this grant.
    pub fn check_refresh(
        &self,
        token: &PresentedToken<'_>,
        now: u64,
    ) -> Result<RefreshOutcome, Error> {
        self.verify_mac("rt", token)?;
        let current = self.refresh_generation;
        Ok(if token.number == current {
            RefreshOutcome::Rotate {
                generation: current + 1,
            }
        } else if token.number + 1 == current && now < self.rotated_at + REFRESH_GRACE_SECS {
            RefreshOutcome::Retry {
                generation: current,
            }
        } else {
            RefreshOutcome::Replayed
        })
    }

    /// The access token that goes with refresh generation `generation`: its expiry is
    /// fixed by when that generation was issued, so a retried refresh gets the very
    /// same pair.
    pub fn access_token_for_generation(
        &self,
        grant_id: &str,
        lifetime: u64,
    ) -> Result<(String, u64), Error> {
        let expires_at = self.rotated_at + lifetime;
        Ok((self.access_token(grant_id, expires_at)?, expires_at))
    }
}

/// Splits `mcp_at_<grant>.<n>.<mac>` (or the refresh form) without touching the store.
pub fn parse_access_token(token: &str) -> Result<PresentedToken<'_>, Error> {
    parse(token, ACCESS_PREFIX)
}

pub fn parse_refresh_token(token: &str) -> Result<PresentedToken<'_>, Error> {
    parse(token, REFRESH_PREFIX)
}

fn parse<'a>(token: &'a str, prefix: &str) -> Result<PresentedToken<'a>, Error> {
    let rest = token.strip_prefix(prefix).ok_or(Error::InvalidToken)?;
    let mut parts = rest.split('.');
    let (Some(grant_id), Some(number), Some(mac), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::InvalidToken);
    };
    let valid_id = !grant_id.is_empty()
        && grant_id.len() <= 64
        && grant_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let number = number.parse().map_err(|_| Error::InvalidToken)?;
    if !valid_id || mac.is_empty() {
        return Err(Error::InvalidToken);
    }
    Ok(PresentedToken {
        grant_id,
        number,
        mac,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> GrantRecord {
        GrantRecord {
            client_id: "mcp_client".into(),
            user_id: "user_1".into(),
            session_id: Some("sess_1".into()),
            user_slot: None,
            resource: "https://mcp.example.com/mcp".into(),
            scope: "mcp".into(),
            key: URL_SAFE_NO_PAD.encode([42u8; 32]),
            refresh_generation: 0,
            rotated_at: 1_000,
            created_at: 1_000,
        }
    }

    #[test]
    fn access_tokens_verify_until_they_expire() {
        let g = grant();
        let token = g.access_token("g1", 5_000).unwrap();
        assert!(token.starts_with("mcp_at_g1.5000."));
        let presented = parse_access_token(&token).unwrap();
        assert_eq!(presented.grant_id, "g1");
        assert_eq!(
            g.verify_access_token(&presented, 4_999).unwrap().expires_at,
            5_000
        );
        assert_eq!(
            g.verify_access_token(&presented, 5_000),
            Err(Error::InvalidToken)
        );
    }

    #[test]
    fn tampered_or_foreign_tokens_fail() {
        let g = grant();
        let token = g.access_token("g1", 5_000).unwrap();
        // A later expiry with the same MAC.
        let stretched = token.replace(".5000.", ".9999.");
        assert_eq!(
            g.verify_access_token(&parse_access_token(&stretched).unwrap(), 0),
            Err(Error::InvalidToken)
        );
        // The same claims under another grant's key.
        let mut other = grant();
        other.key = URL_SAFE_NO_PAD.encode([7u8; 32]);
        assert_eq!(
            other.verify_access_token(&parse_access_token(&token).unwrap(), 0),
            Err(Error::InvalidToken)
        );
        // A refresh token is not an access token.
        let refresh = g.refresh_token("g1", 0).unwrap();
        assert_eq!(parse_access_token(&refresh), Err(Error::InvalidToken));
    }

    #[test]
    fn malformed_tokens_are_rejected_before_any_lookup() {
        for bad in [
            "",
            "mcp_at_",
            "mcp_at_g1.5000",
            "mcp_at_g1.x.mac",
            "mcp_at_g1.1.mac.extra",
            "mcp_at_g/1.1.mac",
            "Bearer x",
        ] {
            assert_eq!(parse_access_token(bad), Err(Error::InvalidToken), "{bad:?}");
        }
    }

    #[test]
    fn refresh_rotates_converges_and_detects_replay() {
        let mut g = grant();
        let first = g.refresh_token("g1", 0).unwrap();
        let presented = parse_refresh_token(&first).unwrap();
        assert_eq!(
            g.check_refresh(&presented, 1_010).unwrap(),
            RefreshOutcome::Rotate { generation: 1 }
        );
        // Two concurrent refreshes both see generation 0 and both compute the same next token.
        assert_eq!(
            g.refresh_token("g1", 1).unwrap(),
            g.refresh_token("g1", 1).unwrap()
        );

        g.refresh_generation = 1;
        g.rotated_at = 1_010;
        // The old token again, within the grace window: the same pair, nothing changes.
        assert_eq!(
            g.check_refresh(&presented, 1_030).unwrap(),
            RefreshOutcome::Retry { generation: 1 }
        );
        assert_eq!(
            g.access_token_for_generation("g1", 3600).unwrap(),
            g.access_token_for_generation("g1", 3600).unwrap()
        );
        // After the grace window it is a replay.
        assert_eq!(
            g.check_refresh(&presented, 1_010 + REFRESH_GRACE_SECS)
                .unwrap(),
            RefreshOutcome::Replayed
        );
        // An older generation is always a replay.
        g.refresh_generation = 3;
        assert_eq!(
            g.check_refresh(&presented, 1_011).unwrap(),
            RefreshOutcome::Replayed
        );
    }

    #[test]
    fn a_forged_refresh_generation_fails() {
        let g = grant();
        let token = g.refresh_token("g1", 0).unwrap().replace(".0.", ".1.");
        assert_eq!(
            g.check_refresh(&parse_refresh_token(&token).unwrap(), 0),
            Err(Error::InvalidToken)
        );
    }
}
