//! Clerk session-token verification against real RS256 signatures, one row per way a
//! token can be wrong.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clerk::Error;
use clerk::session::{self, Expectations, Keys, SessionUser};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

mod common;

use common::{fixture, rust_crypto};

const NOW: u64 = 1_800_000_000;

fn expectations() -> Expectations {
    Expectations {
        issuer: "https://clerk.app.example".into(),
        authorized_parties: vec!["https://app.example".into()],
    }
}

fn claims() -> Value {
    json!({
        "iss": "https://clerk.app.example",
        "sub": "user_2abc",
        "sid": "sess_2xyz",
        "azp": "https://app.example",
        "iat": NOW - 10,
        "nbf": NOW - 10,
        "exp": NOW + 50,
    })
}

fn sign(claims: &Value, key_file: &str, kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(Into::into);
    let key = EncodingKey::from_rsa_pem(fixture(key_file).as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn instance_token(claims: &Value) -> String {
    sign(claims, "instance-private.pem", Some("ins_key_1"))
}

fn with(field: &str, value: Value) -> Value {
    let mut c = claims();
    c[field] = value;
    c
}

fn without(field: &str) -> Value {
    let mut c = claims();
    c.as_object_mut().unwrap().remove(field);
    c
}

fn verify_jwks(token: &str) -> Result<SessionUser, Error> {
    let jwks = session::parse_jwks(fixture("jwks.json").as_bytes()).unwrap();
    session::verify(token, Keys::Jwks(&jwks), &expectations(), NOW)
}

#[test]
fn a_valid_token_names_the_user_and_session() {
    rust_crypto();
    let user = verify_jwks(&instance_token(&claims())).unwrap();
    assert_eq!(
        user,
        SessionUser {
            user_id: "user_2abc".into(),
            session_id: "sess_2xyz".into()
        }
    );
    // The same token verifies against the instance's PEM key, with no JWKS at all.
    let pem = fixture("instance-public.pem");
    assert!(
        session::verify(
            &instance_token(&claims()),
            Keys::Pem(&pem),
            &expectations(),
            NOW
        )
        .is_ok()
    );
}

#[test]
fn small_clock_skew_is_tolerated() {
    rust_crypto();
    assert!(verify_jwks(&instance_token(&with("exp", json!(NOW - 2)))).is_ok());
    assert!(verify_jwks(&instance_token(&with("nbf", json!(NOW + 3)))).is_ok());
}

#[test]
fn every_wrong_token_is_refused_for_its_reason() {
    rust_crypto();
    let unsigned = {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"ins_key_1"}"#);
        let body = URL_SAFE_NO_PAD.encode(claims().to_string());
        format!("{header}.{body}.")
    };
    let hs256_with_public_key = {
        // Algorithm confusion: HMAC keyed with the public key's PEM text.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("ins_key_1".into());
        let key = EncodingKey::from_secret(fixture("instance-public.pem").as_bytes());
        jsonwebtoken::encode(&header, &claims(), &key).unwrap()
    };
    let cases: Vec<(&str, String, Error)> = vec![
        (
            "expired",
            instance_token(&with("exp", json!(NOW - 6))),
            Error::Expired,
        ),
        (
            "not yet valid",
            instance_token(&with("nbf", json!(NOW + 60))),
            Error::NotYetValid,
        ),
        (
            "wrong issuer",
            instance_token(&with("iss", json!("https://clerk.evil.example"))),
            Error::WrongIssuer("https://clerk.evil.example".into()),
        ),
        (
            "wrong azp",
            instance_token(&with("azp", json!("https://evil.example"))),
            Error::WrongAuthorizedParty("https://evil.example".into()),
        ),
        (
            "no azp",
            instance_token(&without("azp")),
            Error::WrongAuthorizedParty(String::new()),
        ),
        (
            "no session",
            instance_token(&without("sid")),
            Error::MissingSession,
        ),
        (
            "no user",
            instance_token(&without("sub")),
            Error::MissingSession,
        ),
        (
            "no expiry",
            instance_token(&without("exp")),
            Error::Malformed,
        ),
        // `none` is not an algorithm the JWT library knows: refused before any key is used.
        ("alg none", unsigned, Error::Malformed),
        (
            "HS256 keyed with the public key",
            hs256_with_public_key,
            Error::AlgorithmNotAllowed("HS256".into()),
        ),
        (
            "signed by another key",
            sign(&claims(), "attacker-private.pem", Some("ins_key_1")),
            Error::BadSignature,
        ),
        (
            "unknown kid",
            sign(&claims(), "attacker-private.pem", Some("attacker")),
            Error::UnknownKey("attacker".into()),
        ),
        ("garbage", "not.a.jwt".into(), Error::Malformed),
    ];
    for (case, token, expected) in cases {
        assert_eq!(verify_jwks(&token), Err(expected), "{case}");
    }
}

#[test]
fn key_id_is_read_without_verifying() {
    rust_crypto();
    assert_eq!(
        session::key_id(&instance_token(&claims())),
        Ok(Some("ins_key_1".into()))
    );
    assert_eq!(session::key_id("junk"), Err(Error::Malformed));
}
