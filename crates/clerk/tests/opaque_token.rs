//! Clerk's answers about opaque access tokens, read into verdicts: what each answer the
//! verify call can give means, and that no body or status makes the reader panic or
//! pass a token it should not.

use clerk::access_token::{Expectations, Refusal};
use clerk::opaque_token::{Verdict, read_answer};
use proptest::prelude::*;
use serde_json::{Value, json};

const NOW: u64 = 1_800_000_000;
const RESOURCE: &str = "https://mcp.example.com/mcp";

fn expectations(accept_without_audience: bool) -> Expectations {
    Expectations {
        issuer: "https://clerk.app.example".into(),
        resources: vec![RESOURCE.into(), "https://mcp.example.com/sse".into()],
        accept_without_audience,
    }
}

/// A live token's answer, as Clerk's Backend API documents it (milliseconds).
fn live() -> Value {
    json!({
        "object": "clerk_idp_oauth_access_token",
        "id": "oat_id_1",
        "client_id": "oauth_client_1",
        "subject": "user_2abc",
        "scopes": ["openid", "profile"],
        "revoked": false,
        "revocation_reason": null,
        "expired": false,
        "expiration": (NOW + 3600) * 1000,
        "created_at": NOW * 1000,
        "updated_at": NOW * 1000,
    })
}

fn with(change: impl FnOnce(&mut Value)) -> Value {
    let mut answer = live();
    change(&mut answer);
    answer
}

fn read(status: u16, body: &Value, accept_without_audience: bool) -> Verdict {
    read_answer(
        status,
        body.to_string().as_bytes(),
        &expectations(accept_without_audience),
        NOW,
    )
}

#[test]
fn a_live_answer_names_the_user_client_scopes_and_expiry() {
    let Verdict::Valid(token) = read(200, &with(|a| a["aud"] = json!([RESOURCE])), false) else {
        panic!("refused");
    };
    assert_eq!(token.user_id, "user_2abc");
    assert_eq!(token.client_id, "oauth_client_1");
    assert_eq!(token.scopes, ["openid", "profile"]);
    assert_eq!(token.expires_at, NOW + 3600, "milliseconds read as seconds");
    assert!(!token.without_audience);
    // In seconds too, and with the scopes space-separated.
    let seconds = with(|a| {
        a["expiration"] = json!(NOW + 60);
        a["scopes"] = json!("openid email");
    });
    let Verdict::Valid(token) = read(200, &seconds, true) else {
        panic!("refused");
    };
    assert_eq!(token.expires_at, NOW + 60);
    assert_eq!(token.scopes, ["openid", "email"]);
    assert!(token.without_audience);
}

#[test]
fn each_answer_that_is_not_a_live_token_for_this_resource_is_refused() {
    let rows: Vec<(&str, u16, Value, Refusal)> = vec![
        (
            "no audience (refused by default)",
            200,
            live(),
            Refusal::NoAudience,
        ),
        (
            "another audience",
            200,
            with(|a| a["aud"] = json!(["https://other.example/mcp"])),
            Refusal::WrongAudience,
        ),
        (
            "revoked",
            200,
            with(|a| a["revoked"] = json!(true)),
            Refusal::Revoked,
        ),
        (
            "expired flag",
            200,
            with(|a| a["expired"] = json!(true)),
            Refusal::Expired,
        ),
        (
            "expiration passed",
            200,
            with(|a| a["expiration"] = json!((NOW - 1) * 1000)),
            Refusal::Expired,
        ),
        (
            "inactive (an expired JWT sent there)",
            200,
            json!({"active": false}),
            Refusal::Expired,
        ),
        (
            "no expiration",
            200,
            with(|a| {
                a.as_object_mut().unwrap().remove("expiration");
            }),
            Refusal::NoExpiry,
        ),
        (
            "no subject",
            200,
            with(|a| {
                a["aud"] = json!(RESOURCE);
                a.as_object_mut().unwrap().remove("subject");
            }),
            Refusal::MissingSubject,
        ),
        (
            "empty client",
            200,
            with(|a| {
                a["aud"] = json!(RESOURCE);
                a["client_id"] = json!("");
            }),
            Refusal::MissingSubject,
        ),
        (
            "unknown",
            404,
            json!({"errors": [{"code": "resource_not_found"}]}),
            Refusal::Unknown,
        ),
        ("malformed", 400, json!({"errors": []}), Refusal::Unknown),
    ];
    for (case, status, body, refusal) in rows {
        assert_eq!(
            read(status, &body, false),
            Verdict::Refused(refusal),
            "{case}"
        );
    }
    // The audience rule applies even where audience-less tokens are accepted.
    assert_eq!(
        read(
            200,
            &with(|a| a["aud"] = json!(["https://other.example/mcp"])),
            true
        ),
        Verdict::Refused(Refusal::WrongAudience)
    );
}

#[test]
fn answers_that_say_nothing_about_the_token_are_no_verdict() {
    for (case, status, body) in [
        ("server error", 503, json!({})),
        ("our secret key refused", 401, json!({"errors": []})),
        ("forbidden", 403, json!({})),
        ("rate limited", 429, json!({})),
        (
            "another object",
            200,
            with(|a| a["object"] = json!("m2m_token")),
        ),
        ("not JSON", 200, json!("<html>")),
    ] {
        assert!(
            matches!(read(status, &body, true), Verdict::NoVerdict(_)),
            "{case}"
        );
    }
}

proptest! {
    /// No status or body panics the reader, and only a 200 naming a live OAuth access
    /// token, with a subject, a client and a future expiry, is ever valid.
    #[test]
    fn no_answer_panics_and_only_live_tokens_pass(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Verdict::Valid(token) = read_answer(status, &body, &expectations(true), NOW) {
            prop_assert_eq!(status, 200);
            prop_assert!(token.expires_at > NOW);
            prop_assert!(!token.user_id.is_empty() && !token.client_id.is_empty());
        }
    }

    /// Any JSON object shaped like an answer: valid exactly when every condition holds.
    #[test]
    fn structured_answers_pass_exactly_when_live(
        revoked in any::<bool>(),
        expired in any::<bool>(),
        expiration in proptest::option::of(0u64..4_000_000_000_000),
        subject in proptest::option::of("[a-z_0-9]{0,8}"),
        aud in proptest::option::of(prop_oneof![Just(RESOURCE.to_owned()), "https://[a-z]{1,8}\\.example/mcp"]),
        accept_without_audience in any::<bool>(),
    ) {
        let mut answer = live();
        answer["revoked"] = json!(revoked);
        answer["expired"] = json!(expired);
        answer["expiration"] = json!(expiration);
        answer["subject"] = json!(subject);
        if let Some(aud) = &aud {
            answer["aud"] = json!(aud);
        }
        let verdict = read(200, &answer, accept_without_audience);
        let seconds = expiration.map(|e| if e > 100_000_000_000 { e / 1000 } else { e });
        let live = !revoked
            && !expired
            && seconds.is_some_and(|s| s > NOW)
            && subject.as_deref().is_some_and(|s| !s.is_empty())
            && match &aud {
                Some(aud) => aud == RESOURCE,
                None => accept_without_audience,
            };
        prop_assert_eq!(matches!(verdict, Verdict::Valid(_)), live, "{:?}", verdict);
    }
}
