//! A grant's Clerk token, cached until shortly before it expires, and the lock that lets
//! one caller mint a new one while concurrent callers wait for it.
//!
//! Spin's store has no compare-and-swap, so the lock is claimed by writing it, letting
//! concurrent claims land, and reading it back: the last writer mints, the others wait
//! for its token. A claim that loses the race only because it was slow to land mints
//! too, which costs one extra mint and never an error.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::record::{self, Expiring};
use crate::{Error, Kv, keys};

/// A cached token is not handed out this close to its expiry: the request that uses it
/// must still reach the app in time.
pub const EXPIRY_MARGIN_SECS: u64 = 10;

/// A claim older than this is presumed lost (its holder died mid-mint).
pub const LOCK_SECS: u64 = 10;

/// Time for concurrent claims to land before the claim is read back.
const SETTLE: Duration = Duration::from_millis(30);

/// Between looks at the cache while another caller mints.
const POLL: Duration = Duration::from_millis(25);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedToken {
    pub jwt: String,
    /// The token's own expiry (the record expires [`EXPIRY_MARGIN_SECS`] earlier).
    pub token_expires_at: u64,
}

#[derive(Serialize, Deserialize)]
struct Claim {
    owner: String,
}

/// Why no token came back.
#[derive(Debug)]
pub enum Failure<E> {
    /// The minting itself failed.
    Mint(E),
    Store(Error),
}

impl<E> From<Error> for Failure<E> {
    fn from(e: Error) -> Self {
        Failure::Store(e)
    }
}

/// The waiting and the clock, supplied by the platform.
pub struct Timing<'a> {
    /// Unix seconds.
    pub now: &'a dyn Fn() -> u64,
    pub sleep: &'a dyn Fn(Duration),
    /// How long to wait for another caller's mint before minting anyway.
    pub wait: Duration,
}

/// The grant's cached token, or one `mint` makes (returning the JWT and its expiry),
/// minted by one of any number of concurrent callers. `owner` must be unique to this
/// caller (a random value).
pub fn get_or_mint<E>(
    kv: &impl Kv,
    grant_id: &str,
    owner: &str,
    timing: &Timing,
    mint: impl FnOnce() -> Result<(String, u64), E>,
) -> Result<CachedToken, Failure<E>> {
    let token_key = keys::upstream_token(grant_id);
    let lock_key = keys::upstream_lock(grant_id);
    let mut waited = Duration::ZERO;
    loop {
        if let Some(cached) = record::read::<CachedToken>(kv, &token_key, (timing.now)())? {
            return Ok(cached.value);
        }
        if waited >= timing.wait {
            break;
        }
        let holder = record::read::<Claim>(kv, &lock_key, (timing.now)())?;
        if holder.is_some_and(|c| c.value.owner != owner) {
            (timing.sleep)(POLL);
            waited += POLL;
            continue;
        }
        let claim = Expiring {
            expires_at: (timing.now)() + LOCK_SECS,
            value: Claim {
                owner: owner.to_owned(),
            },
        };
        record::write(kv, &lock_key, &claim)?;
        (timing.sleep)(SETTLE);
        waited += SETTLE;
        let holder = record::read::<Claim>(kv, &lock_key, (timing.now)())?;
        if holder.is_none_or(|c| c.value.owner == owner) {
            break;
        }
    }
    let minted = mint();
    // Release the claim either way, so that waiters stop waiting.
    let released = kv.delete(&lock_key);
    let (jwt, token_expires_at) = minted.map_err(Failure::Mint)?;
    released?;
    let token = CachedToken {
        jwt,
        token_expires_at,
    };
    let cache_until = token_expires_at.saturating_sub(EXPIRY_MARGIN_SECS);
    if cache_until > (timing.now)() {
        let cached = Expiring {
            expires_at: cache_until,
            value: token.clone(),
        };
        record::write(kv, &token_key, &cached)?;
    }
    Ok(token)
}

/// Forgets a grant's token (when the grant is revoked).
pub fn forget(kv: &impl Kv, grant_id: &str) -> Result<(), Error> {
    kv.delete(&keys::upstream_token(grant_id))?;
    kv.delete(&keys::upstream_lock(grant_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryKv;
    use std::cell::Cell;

    fn timing<'a>(now: &'a dyn Fn() -> u64, sleep: &'a dyn Fn(Duration)) -> Timing<'a> {
        Timing {
            now,
            sleep,
            wait: Duration::from_secs(5),
        }
    }

    #[test]
    fn a_token_is_minted_once_and_reused_until_near_its_expiry() {
        let kv = MemoryKv::default();
        let clock = Cell::new(1_000);
        let now = || clock.get();
        let sleep = |_: Duration| {};
        let mints = Cell::new(0);
        let mint = || -> Result<(String, u64), ()> {
            mints.set(mints.get() + 1);
            Ok((format!("jwt{}", mints.get()), clock.get() + 60))
        };
        let t = timing(&now, &sleep);
        assert_eq!(get_or_mint(&kv, "g1", "a", &t, mint).unwrap().jwt, "jwt1");
        assert_eq!(get_or_mint(&kv, "g1", "b", &t, mint).unwrap().jwt, "jwt1");
        assert_eq!(mints.get(), 1);
        assert!(kv.get(&keys::upstream_lock("g1")).unwrap().is_none());
        clock.set(1_000 + 60 - EXPIRY_MARGIN_SECS);
        assert_eq!(get_or_mint(&kv, "g1", "c", &t, mint).unwrap().jwt, "jwt2");
        assert_eq!(get_or_mint(&kv, "g2", "c", &t, mint).unwrap().jwt, "jwt3");
    }

    #[test]
    fn a_caller_waits_for_anothers_mint_and_takes_over_a_lost_claim() {
        let kv = MemoryKv::default();
        let now = || 1_000;
        // Another caller holds the claim; its token lands while this one waits.
        let claim = Expiring {
            expires_at: 1_000 + LOCK_SECS,
            value: Claim {
                owner: "other".into(),
            },
        };
        record::write(&kv, &keys::upstream_lock("g"), &claim).unwrap();
        let polls = Cell::new(0);
        let sleep = |_: Duration| {
            polls.set(polls.get() + 1);
            if polls.get() == 3 {
                let token = Expiring {
                    expires_at: 1_050,
                    value: CachedToken {
                        jwt: "theirs".into(),
                        token_expires_at: 1_060,
                    },
                };
                record::write(&kv, &keys::upstream_token("g"), &token).unwrap();
            }
        };
        let never = || -> Result<(String, u64), ()> { panic!("must not mint") };
        let got = get_or_mint(&kv, "g", "me", &timing(&now, &sleep), never).unwrap();
        assert_eq!(got.jwt, "theirs");

        // A claim whose holder never finishes: after the wait, mint anyway.
        kv.delete(&keys::upstream_token("g")).unwrap();
        let sleep = |_: Duration| {};
        let t = Timing {
            wait: Duration::from_millis(100),
            ..timing(&now, &sleep)
        };
        let mine = || -> Result<(String, u64), ()> { Ok(("mine".into(), 1_060)) };
        assert_eq!(get_or_mint(&kv, "g", "me", &t, mine).unwrap().jwt, "mine");
    }

    #[test]
    fn a_failed_mint_releases_the_claim_and_caches_nothing() {
        let kv = MemoryKv::default();
        let now = || 1_000;
        let sleep = |_: Duration| {};
        let failing = || -> Result<(String, u64), &str> { Err("clerk is down") };
        let outcome = get_or_mint(&kv, "g", "me", &timing(&now, &sleep), failing);
        assert!(matches!(outcome, Err(Failure::Mint("clerk is down"))));
        assert!(kv.get(&keys::upstream_lock("g")).unwrap().is_none());
        assert!(kv.get(&keys::upstream_token("g")).unwrap().is_none());
        forget(&kv, "g").unwrap();
    }
}
