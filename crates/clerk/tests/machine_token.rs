//! Clerk's answers to a request for an M2M token, read into a token and its expiry or
//! the reason there is none: what each answer means, and that no body or status makes
//! the reader panic or hand out a token that could not go in a header.

use clerk::machine_token::{MachineMintError, read_minted};
use proptest::prelude::*;
use serde_json::{Value, json};

const NOW: u64 = 1_800_000_000;

/// A created token, as the Backend API answers (timestamps in milliseconds).
fn created() -> Value {
    json!({
        "object": "machine_to_machine_token",
        "id": "mt_1",
        "subject": "mch_mcp_server",
        "scopes": [],
        "claims": {"user_id": "user_2abc"},
        "token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtY2hfMSJ9.c2lnbmF0dXJl",
        "revoked": false,
        "revocation_reason": null,
        "expired": false,
        "expiration": (NOW + 300) * 1000,
        "created_at": NOW * 1000,
        "updated_at": NOW * 1000,
    })
}

fn read(status: u16, answer: &Value) -> Result<(String, u64), MachineMintError> {
    read_minted(status, answer.to_string().as_bytes(), NOW)
}

#[test]
fn a_created_token_comes_back_with_its_expiry_in_seconds() {
    let (token, expires_at) = read(201, &created()).unwrap();
    assert_eq!(token, created()["token"]);
    assert_eq!(expires_at, NOW + 300);
    // Seconds are read as seconds too, and 200 is as good as 201.
    let mut answer = created();
    answer["expiration"] = json!(NOW + 60);
    assert_eq!(read(200, &answer).unwrap().1, NOW + 60);
}

#[test]
fn every_answer_that_is_not_a_usable_token_says_why() {
    let with = |change: fn(&mut Value)| {
        let mut answer = created();
        change(&mut answer);
        answer
    };
    let errors = json!({"errors": [{"code": "authentication_invalid"}]});
    let table: Vec<(u16, Value, MachineMintError)> = vec![
        (401, errors.clone(), MachineMintError::Refused(401)),
        (403, errors.clone(), MachineMintError::Refused(403)),
        (422, errors.clone(), MachineMintError::Refused(422)),
        (429, errors.clone(), MachineMintError::Unavailable(429)),
        (500, errors.clone(), MachineMintError::Unavailable(500)),
        (
            503,
            json!("unavailable"),
            MachineMintError::Unavailable(503),
        ),
        (302, json!({}), MachineMintError::Unavailable(302)),
        (201, json!({}), MachineMintError::Malformed),
        (
            201,
            with(|a| a["token"] = json!("")),
            MachineMintError::Malformed,
        ),
        (
            201,
            with(|a| a["token"] = json!(42)),
            MachineMintError::Malformed,
        ),
        (
            201,
            with(|a| a["token"] = json!("ey.J\r\nx-injected: 1")),
            MachineMintError::Malformed,
        ),
        (
            201,
            with(|a| a["token"] = json!("ey J")),
            MachineMintError::Malformed,
        ),
        (
            201,
            with(|a| a["expiration"] = Value::Null),
            MachineMintError::Malformed,
        ),
        (
            201,
            with(|a| {
                a.as_object_mut().unwrap().remove("expiration");
            }),
            MachineMintError::Malformed,
        ),
        (
            201,
            with(|a| a["expiration"] = json!(NOW)),
            MachineMintError::Malformed,
        ),
        (
            201,
            with(|a| a["expiration"] = json!((NOW - 1) * 1000)),
            MachineMintError::Malformed,
        ),
        (
            201,
            with(|a| a["expiration"] = json!(-5)),
            MachineMintError::Malformed,
        ),
    ];
    for (status, answer, expected) in table {
        assert_eq!(
            read(status, &answer),
            Err(expected.clone()),
            "{status} {answer}"
        );
    }
    assert_eq!(
        read_minted(201, b"not json", NOW),
        Err(MachineMintError::Malformed)
    );
}

#[test]
fn the_refusal_names_the_setting_to_check_and_no_secret() {
    let text = MachineMintError::Refused(401).to_string();
    assert!(text.contains("clerk_machine_secret_key"), "{text}");
    assert!(!text.contains("ak_"), "{text}");
}

proptest! {
    #[test]
    fn no_answer_panics_the_reader(status in 0u16..1000, body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = read_minted(status, &body, NOW);
    }

    #[test]
    fn whatever_comes_back_can_go_in_a_header_and_is_still_live(
        status in prop_oneof![Just(200u16), Just(201u16)],
        token in ".{0,40}",
        expiration in prop_oneof![any::<u64>().prop_map(Some), Just(None)],
    ) {
        let answer = json!({ "token": token, "expiration": expiration });
        if let Ok((token, expires_at)) = read(status, &answer) {
            prop_assert!(!token.is_empty());
            prop_assert!(token.bytes().all(|b| b.is_ascii_graphic()));
            prop_assert!(expires_at > NOW);
        }
    }
}
