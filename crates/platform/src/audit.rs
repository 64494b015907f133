//! The audit trail: one JSON line per security event on stderr, which Spin collects in
//! its logs (`spin up` prints it; hosted platforms keep it per component).
//!
//! A line names the event, the time and whichever of user, client, grant and Clerk
//! session are known, plus a short reason or actor. It never carries a token, code,
//! secret or cookie: every field is an identifier this server or Clerk assigned, or a
//! word from a fixed list. Fields are documented in the README ("Audit trail").

use oauth::grant::GrantRecord;
use serde::Serialize;

/// One event, built with its known identifiers and then `emit`ted.
#[derive(Debug, Default, Serialize)]
pub struct Audit<'a> {
    audit: &'static str,
    at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grant: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<&'a str>,
    /// Who ended something (`client`, `replay`, `reused_code`, `webhook`), or why a
    /// request was refused (a class, never the presented value).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

/// Starts the line for `event` (a fixed name such as `sign_in`).
pub fn event(event: &'static str) -> Audit<'static> {
    Audit {
        audit: event,
        at: crate::clock::now(),
        ..Audit::default()
    }
}

/// Starts the line for `event` about `grant`: its user, client and id.
pub fn for_grant<'a>(event: &'static str, grant_id: &'a str, grant: &'a GrantRecord) -> Audit<'a> {
    Audit {
        user: Some(&grant.user_id),
        client: Some(&grant.client_id),
        grant: Some(grant_id),
        ..self::event(event)
    }
}

impl<'a> Audit<'a> {
    pub fn user(self, user: &'a str) -> Self {
        Self {
            user: Some(user),
            ..self
        }
    }

    pub fn client(self, client: &'a str) -> Self {
        Self {
            client: Some(client),
            ..self
        }
    }

    pub fn grant(self, grant: &'a str) -> Self {
        Self {
            grant: Some(grant),
            ..self
        }
    }

    pub fn session(self, session: Option<&'a str>) -> Self {
        Self { session, ..self }
    }

    pub fn reason(self, reason: &'a str) -> Self {
        Self {
            reason: Some(reason),
            ..self
        }
    }

    /// Writes the line.
    pub fn emit(self) {
        if let Ok(line) = serde_json::to_string(&self) {
            eprintln!("{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_the_event_and_only_the_fields_known() {
        let line = serde_json::to_value(event("refresh").user("user_1").grant("g1")).unwrap();
        assert_eq!(line["audit"], "refresh");
        assert_eq!(line["user"], "user_1");
        assert_eq!(line["grant"], "g1");
        assert!(line["at"].as_u64().unwrap() > 0);
        assert!(line.get("client").is_none());
        assert!(line.get("reason").is_none());
    }
}
