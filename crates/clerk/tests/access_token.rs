//! Clerk OAuth access tokens checked for this resource, against real RS256 signatures:
//! one row per way a token can be wrong, the other token classes the instance's key
//! signs among them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clerk::access_token::{self, AccessToken, Expectations, Refusal};
use clerk::session;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

mod common;

use common::{fixture, rust_crypto};

const NOW: u64 = 1_800_000_000;
const ISSUER: &str = "https://clerk.app.example";
const RESOURCE: &str = "https://mcp.example.com/mcp";

fn expectations(accept_without_audience: bool) -> Expectations {
    Expectations {
        issuer: ISSUER.into(),
        resources: vec![RESOURCE.into(), "https://mcp.example.com/sse".into()],
        accept_without_audience,
    }
}

/// An access token as Clerk's OAuth server issues one.
fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "sub": "user_2abc",
        "client_id": "oauth_client_1",
        "azp": "oauth_client_1",
        "sid": "sess_2xyz",
        "aud": [RESOURCE],
        "scope": "openid profile email",
        "jti": "oat_123",
        "iat": NOW - 10,
        "nbf": NOW - 20,
        "exp": NOW + 86_400,
    })
}

fn sign_as(
    algorithm: Algorithm,
    typ: Option<&str>,
    claims: &Value,
    key_file: &str,
    kid: &str,
) -> String {
    let mut header = Header::new(algorithm);
    header.typ = typ.map(Into::into);
    header.kid = Some(kid.into());
    let key = EncodingKey::from_rsa_pem(fixture(key_file).as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn token(claims: &Value) -> String {
    sign_as(
        Algorithm::RS256,
        Some("at+jwt"),
        claims,
        "instance-private.pem",
        "ins_key_1",
    )
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

fn verify(token: &str, accept_without_audience: bool) -> Result<AccessToken, Refusal> {
    let jwks = session::parse_jwks(fixture("jwks.json").as_bytes()).unwrap();
    access_token::verify(
        token,
        session::Keys::Jwks(&jwks),
        &expectations(accept_without_audience),
        NOW,
    )
}

/// A token whose header is `header` (its signature is never reached).
fn with_header(header: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(header);
    let body = URL_SAFE_NO_PAD.encode(claims().to_string());
    format!("{header}.{body}.c2lnbmF0dXJl")
}

#[test]
fn an_access_token_for_this_resource_names_user_client_and_scopes() {
    rust_crypto();
    let verified = verify(&token(&claims()), false).unwrap();
    assert_eq!(
        verified,
        AccessToken {
            user_id: "user_2abc".into(),
            client_id: "oauth_client_1".into(),
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
            session_id: Some("sess_2xyz".into()),
            expires_at: NOW + 86_400,
            without_audience: false,
        }
    );
    // Both spellings of the type; `aud` as a string; the SSE address of the resource.
    let spelled = sign_as(
        Algorithm::RS256,
        Some("application/at+jwt"),
        &claims(),
        "instance-private.pem",
        "ins_key_1",
    );
    assert!(verify(&spelled, false).is_ok());
    assert!(verify(&token(&with("aud", json!(RESOURCE))), false).is_ok());
    assert!(
        verify(
            &token(&with("aud", json!(["https://mcp.example.com/sse"]))),
            false
        )
        .is_ok()
    );
    assert!(
        verify(
            &token(&with("aud", json!(["https://other.example", RESOURCE]))),
            false
        )
        .is_ok()
    );
    // Within the leeway on both ends.
    assert!(verify(&token(&with("exp", json!(NOW - 4))), false).is_ok());
    assert!(verify(&token(&with("nbf", json!(NOW + 4))), false).is_ok());
}

#[test]
fn a_token_without_audience_passes_only_where_allowed() {
    rust_crypto();
    for claims in [without("aud"), with("aud", json!([]))] {
        assert_eq!(verify(&token(&claims), false), Err(Refusal::NoAudience));
        let accepted = verify(&token(&claims), true).unwrap();
        assert!(accepted.without_audience);
    }
    // An audience naming another server is refused even where audience-less ones pass.
    assert_eq!(
        verify(
            &token(&with("aud", json!("https://other.example/mcp"))),
            true
        ),
        Err(Refusal::WrongAudience)
    );
}

#[test]
fn every_wrong_token_is_refused_for_its_reason() {
    rust_crypto();
    let hs256_with_public_key = {
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("at+jwt".into());
        header.kid = Some("ins_key_1".into());
        let key = EncodingKey::from_secret(fixture("instance-public.pem").as_bytes());
        jsonwebtoken::encode(&header, &claims(), &key).unwrap()
    };
    // The other classes the instance's key signs, as Clerk shapes them.
    let session_token = sign_as(
        Algorithm::RS256,
        Some("JWT"),
        &json!({"iss": ISSUER, "sub": "user_2abc", "sid": "sess_2xyz", "azp": "https://app.example",
                "exp": NOW + 60, "nbf": NOW - 10, "iat": NOW - 10}),
        "instance-private.pem",
        "ins_key_1",
    );
    let template_token = sign_as(
        Algorithm::RS256,
        Some("JWT"),
        &with("aud", json!(RESOURCE)),
        "instance-private.pem",
        "ins_key_1",
    );
    let m2m_token = sign_as(
        Algorithm::RS256,
        Some("JWT"),
        &json!({"iss": ISSUER, "sub": "mch_1", "aud": [RESOURCE], "exp": NOW + 60, "jti": "mt_1"}),
        "instance-private.pem",
        "ins_key_1",
    );
    let id_token = sign_as(
        Algorithm::RS256,
        None,
        &with("aud", json!("oauth_client_1")),
        "instance-private.pem",
        "ins_key_1",
    );
    let cases: Vec<(&str, String, Refusal)> = vec![
        (
            "wrong issuer",
            token(&with("iss", json!("https://clerk.evil.example"))),
            Refusal::WrongIssuer("https://clerk.evil.example".into()),
        ),
        (
            "another resource's audience",
            token(&with("aud", json!(["https://other.example/mcp"]))),
            Refusal::WrongAudience,
        ),
        ("no audience", token(&without("aud")), Refusal::NoAudience),
        ("no expiry", token(&without("exp")), Refusal::NoExpiry),
        (
            "expired",
            token(&with("exp", json!(NOW - 6))),
            Refusal::Expired,
        ),
        (
            "nbf ahead",
            token(&with("nbf", json!(NOW + 60))),
            Refusal::NotYetValid,
        ),
        ("no user", token(&without("sub")), Refusal::MissingSubject),
        (
            "no client",
            token(&{
                let mut c = without("client_id");
                c.as_object_mut().unwrap().remove("azp");
                c
            }),
            Refusal::MissingSubject,
        ),
        (
            "no typ",
            sign_as(
                Algorithm::RS256,
                None,
                &claims(),
                "instance-private.pem",
                "ins_key_1",
            ),
            Refusal::NotAnAccessToken(None),
        ),
        (
            "a session token",
            session_token,
            Refusal::NotAnAccessToken(Some("JWT".into())),
        ),
        (
            "a JWT-template token",
            template_token,
            Refusal::NotAnAccessToken(Some("JWT".into())),
        ),
        (
            "an M2M token",
            m2m_token,
            Refusal::NotAnAccessToken(Some("JWT".into())),
        ),
        ("an id_token", id_token, Refusal::NotAnAccessToken(None)),
        (
            "alg none",
            with_header(r#"{"alg":"none","typ":"at+jwt","kid":"ins_key_1"}"#),
            Refusal::Malformed,
        ),
        (
            "HS256 keyed with the public key",
            hs256_with_public_key,
            Refusal::Algorithm("HS256".into()),
        ),
        (
            "ES256",
            with_header(r#"{"alg":"ES256","typ":"at+jwt","kid":"ins_key_1"}"#),
            Refusal::Algorithm("ES256".into()),
        ),
        (
            "RS384",
            sign_as(
                Algorithm::RS384,
                Some("at+jwt"),
                &claims(),
                "instance-private.pem",
                "ins_key_1",
            ),
            Refusal::Algorithm("RS384".into()),
        ),
        (
            "unknown kid",
            sign_as(
                Algorithm::RS256,
                Some("at+jwt"),
                &claims(),
                "attacker-private.pem",
                "attacker",
            ),
            Refusal::UnknownKey("attacker".into()),
        ),
        (
            "a foreign key under a known kid",
            sign_as(
                Algorithm::RS256,
                Some("at+jwt"),
                &claims(),
                "attacker-private.pem",
                "ins_key_1",
            ),
            Refusal::BadSignature,
        ),
        ("garbage", "not.a.jwt".into(), Refusal::Malformed),
    ];
    for (case, token, expected) in cases {
        assert_eq!(verify(&token, false), Err(expected), "{case}");
    }
}

#[test]
fn key_id_is_read_without_verifying() {
    rust_crypto();
    assert_eq!(
        access_token::key_id(&token(&claims())),
        Ok(Some("ins_key_1".into()))
    );
    assert_eq!(access_token::key_id("junk"), Err(Refusal::Malformed));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// One generated token: each claim present or not, right or wrong.
    fn generated() -> impl Strategy<Value = (Value, Option<&'static str>)> {
        (
            proptest::option::of(prop_oneof![
                Just(ISSUER),
                Just("https://clerk.evil.example")
            ]),
            proptest::option::of(prop_oneof![
                Just(json!(RESOURCE)),
                Just(json!([RESOURCE])),
                Just(json!(["https://other.example"])),
                Just(json!([])),
            ]),
            proptest::option::of(NOW - 100..NOW + 100),
            proptest::option::of(NOW - 100..NOW + 100),
            proptest::option::of(prop_oneof![Just("user_1"), Just("")]),
            proptest::option::of(Just("client_1")),
            proptest::option::of(prop_oneof![
                Just("at+jwt"),
                Just("AT+JWT"),
                Just("JWT"),
                Just("jwt")
            ]),
        )
            .prop_map(|(iss, aud, exp, nbf, sub, client, typ)| {
                let mut claims = serde_json::Map::new();
                let mut put = |name: &str, value: Option<Value>| {
                    if let Some(value) = value {
                        claims.insert(name.into(), value);
                    }
                };
                put("iss", iss.map(|v| json!(v)));
                put("aud", aud);
                put("exp", exp.map(|v| json!(v)));
                put("nbf", nbf.map(|v| json!(v)));
                put("sub", sub.map(|v| json!(v)));
                put("client_id", client.map(|v| json!(v)));
                (Value::Object(claims), typ)
            })
    }

    /// What the rules say about `claims` and `typ`, written out independently.
    fn acceptable(claims: &Value, typ: Option<&str>) -> bool {
        let typ_ok = typ.is_some_and(|t| t.eq_ignore_ascii_case("at+jwt"));
        let exp_ok = claims["exp"].as_u64().is_some_and(|exp| NOW < exp + 5);
        let nbf_ok = claims["nbf"].as_u64().is_none_or(|nbf| nbf <= NOW + 5);
        let iss_ok = claims["iss"] == ISSUER;
        let aud_ok = claims["aud"] == json!(RESOURCE) || claims["aud"] == json!([RESOURCE]);
        let sub_ok = claims["sub"].as_str().is_some_and(|s| !s.is_empty());
        let client_ok = claims["client_id"].is_string();
        typ_ok && exp_ok && nbf_ok && iss_ok && aud_ok && sub_ok && client_ok
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn a_signed_token_passes_exactly_when_every_rule_holds((claims, typ) in generated()) {
            rust_crypto();
            let token = sign_as(Algorithm::RS256, typ, &claims, "instance-private.pem", "ins_key_1");
            prop_assert_eq!(verify(&token, false).is_ok(), acceptable(&claims, typ), "{}", claims);
        }

        #[test]
        fn any_text_is_refused_without_panicking(text in ".{0,300}") {
            rust_crypto();
            prop_assert!(verify(&text, true).is_err());
        }
    }
}
