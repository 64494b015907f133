//! How long each kind of record lives, with the defaults and the bounds an operator may
//! set through variables (`code_lifetime = "5m"`, `grant_lifetime = "90d"`, …).

/// The lifetimes in force, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Authorization codes: exchanged at once by real clients (RFC 6749 §4.1.2 advises at
    /// most 10 minutes). A grant that was never exchanged expires with its code.
    pub code: u64,
    /// A consent page and the sign-in at the customer's app that follows it.
    pub sign_in: u64,
    /// Access tokens: short, so a leaked one is useful briefly.
    pub access_token: u64,
    /// A grant (and so its refresh token) lives this long after its last refresh.
    pub grant: u64,
    /// A registered client lives this long after registration or its last sign-in, so
    /// that dynamic registration cannot fill the store with clients nobody uses.
    pub client: u64,
}

/// A client that lost a refresh response may retry with the old refresh token this long
/// after the rotation and get the same new pair, rather than being logged out.
pub const REFRESH_GRACE_SECS: u64 = 60;

/// A client is renewed on use at most this often, so that use does not mean a write.
pub const CLIENT_RENEWAL_INTERVAL_SECS: u64 = 24 * 60 * 60;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// One configurable lifetime: its variable, default and sane range.
pub struct Setting {
    pub variable: &'static str,
    pub default: u64,
    pub min: u64,
    pub max: u64,
    field: fn(&mut Lifetimes) -> &mut u64,
}

/// Every lifetime an operator may change, in the order `spin.toml` lists them.
pub const SETTINGS: [Setting; 5] = [
    Setting {
        variable: "code_lifetime",
        default: 10 * MINUTE,
        min: MINUTE,
        max: HOUR,
        field: |l| &mut l.code,
    },
    Setting {
        variable: "sign_in_lifetime",
        default: 10 * MINUTE,
        min: MINUTE,
        max: HOUR,
        field: |l| &mut l.sign_in,
    },
    Setting {
        variable: "access_token_lifetime",
        default: HOUR,
        min: MINUTE,
        max: DAY,
        field: |l| &mut l.access_token,
    },
    Setting {
        variable: "grant_lifetime",
        default: 30 * DAY,
        min: HOUR,
        max: 365 * DAY,
        field: |l| &mut l.grant,
    },
    Setting {
        variable: "client_lifetime",
        // A renewal a day must stay well inside the lifetime.
        default: 90 * DAY,
        min: 7 * DAY,
        max: 10 * 365 * DAY,
        field: |l| &mut l.client,
    },
];

impl Default for Lifetimes {
    fn default() -> Self {
        let mut lifetimes = Lifetimes {
            code: 0,
            sign_in: 0,
            access_token: 0,
            grant: 0,
            client: 0,
        };
        for setting in &SETTINGS {
            *(setting.field)(&mut lifetimes) = setting.default;
        }
        lifetimes
    }
}

/// A lifetime variable that cannot be used; the message says which and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("variable `{variable}`: {reason}")]
pub struct LifetimeError {
    pub variable: &'static str,
    pub reason: String,
}

impl Lifetimes {
    /// Reads each lifetime with `get` (a variable's value, `None` or empty when unset).
    pub fn from_variables(
        mut get: impl FnMut(&'static str) -> Option<String>,
    ) -> Result<Self, LifetimeError> {
        let mut lifetimes = Lifetimes::default();
        for setting in &SETTINGS {
            let Some(value) = get(setting.variable).filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            *(setting.field)(&mut lifetimes) = setting.parse(&value)?;
        }
        Ok(lifetimes)
    }

    /// How long a client lives before its first code exchange: a sign-in, then its code.
    pub fn provisional_client(&self) -> u64 {
        self.sign_in + self.code
    }

    /// Whether a client record expiring at `expires_at` should be renewed when used at
    /// `now`: only once a renewal interval has passed since it was last set.
    pub fn client_needs_renewal(&self, expires_at: u64, now: u64) -> bool {
        expires_at < (now + self.client).saturating_sub(CLIENT_RENEWAL_INTERVAL_SECS)
    }
}

impl Setting {
    /// A duration such as `600`, `90s`, `10m`, `1h`, `30d` or `1h 30m` (a bare number is
    /// seconds), within this setting's range.
    pub fn parse(&self, value: &str) -> Result<u64, LifetimeError> {
        let value = value.trim();
        let secs = match value.parse::<u64>() {
            Ok(secs) => secs,
            Err(_) => humantime::parse_duration(value)
                .map_err(|e| self.error(format!("{value:?} is not a duration ({e})")))?
                .as_secs(),
        };
        if secs < self.min || secs > self.max {
            return Err(self.error(format!(
                "{value:?} is outside {} to {}",
                short(self.min),
                short(self.max)
            )));
        }
        Ok(secs)
    }

    fn error(&self, reason: String) -> LifetimeError {
        LifetimeError {
            variable: self.variable,
            reason,
        }
    }
}

/// `600` as `10m`, `864000` as `10d`: the largest whole unit.
fn short(secs: u64) -> String {
    match secs {
        s if s % DAY == 0 => format!("{}d", s / DAY),
        s if s % HOUR == 0 => format!("{}h", s / HOUR),
        s if s % MINUTE == 0 => format!("{}m", s / MINUTE),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<Lifetimes, LifetimeError> {
        Lifetimes::from_variables(|name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        assert_eq!(
            from(&[]).unwrap(),
            Lifetimes {
                code: 600,
                sign_in: 600,
                access_token: 3600,
                grant: 30 * 86_400,
                client: 90 * 86_400,
            }
        );
    }

    #[test]
    fn variables_accept_seconds_and_human_durations() {
        let lifetimes = from(&[
            ("code_lifetime", "120"),
            ("sign_in_lifetime", "5m"),
            ("access_token_lifetime", "15m"),
            ("grant_lifetime", "7days"),
            ("client_lifetime", " 30d "),
        ])
        .unwrap();
        assert_eq!(lifetimes.code, 120);
        assert_eq!(lifetimes.sign_in, 300);
        assert_eq!(lifetimes.access_token, 900);
        assert_eq!(lifetimes.grant, 7 * 86_400);
        assert_eq!(lifetimes.client, 30 * 86_400);
        // Empty means unset.
        assert_eq!(from(&[("grant_lifetime", "")]).unwrap().grant, 30 * 86_400);
    }

    #[test]
    fn bad_or_out_of_range_values_name_the_variable() {
        for (name, value) in [
            ("code_lifetime", "soon"),
            ("code_lifetime", "2h"),
            ("access_token_lifetime", "10s"),
            ("grant_lifetime", "-5"),
            ("client_lifetime", "1d"),
        ] {
            let error = from(&[(name, value)]).unwrap_err();
            assert_eq!(error.variable, name, "{value}");
        }
        let error = from(&[("client_lifetime", "1d")]).unwrap_err();
        assert_eq!(error.reason, r#""1d" is outside 7d to 3650d"#);
    }

    #[test]
    fn clients_renew_at_most_once_a_day() {
        let lifetimes = Lifetimes::default();
        let now = 1_000_000_000;
        assert!(!lifetimes.client_needs_renewal(now + lifetimes.client, now));
        assert!(
            !lifetimes
                .client_needs_renewal(now + lifetimes.client - CLIENT_RENEWAL_INTERVAL_SECS, now)
        );
        assert!(lifetimes.client_needs_renewal(
            now + lifetimes.client - CLIENT_RENEWAL_INTERVAL_SECS - 1,
            now
        ));
    }
}
