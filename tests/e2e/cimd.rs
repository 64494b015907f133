//! Client ID Metadata Documents: a client whose `client_id` is a URL signs in without
//! registering; its document is fetched (within limits), validated, cached, and refused
//! with a clear page when unusable; private and non-https URLs are never fetched.

#[path = "../support/mod.rs"]
mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::oauth::{self, Client, Pkce, REDIRECT_URI};
use support::{App, Page, Site};

const DOCUMENT: &str = "/oauth/client.json";

/// The app with document fetches allowed on loopback, as for local development.
async fn app_fetching_locally() -> App {
    App::start_with(
        support::project_manifest(),
        &[
            ("client_metadata_hosts", "http://127.0.0.1:*"),
            ("allow_private_client_metadata", "true"),
        ],
    )
    .await
}

fn document(site: &Site) -> Value {
    json!({
        "client_id": site.url(DOCUMENT),
        "client_name": "Document <Client>",
        "client_uri": "https://client.example.com",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    })
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn authorize(app: &App, client_id: &str, overrides: &[(&str, &str)]) -> (u16, String) {
    let client = Client {
        id: client_id.to_owned(),
        secret: None,
    };
    let query = oauth::authorize_query(app, &client, &Pkce::new(71), overrides);
    let resp = app.get(&format!("/authorize?{query}")).await;
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_client_signs_in_refreshes_and_is_fetched_once() {
    let site = Site::start().await;
    site.put(
        DOCUMENT,
        Page::json(&document(&site)).header("cache-control", "public, max-age=600"),
    );
    let app = app_fetching_locally().await;
    let client = Client {
        id: site.url(DOCUMENT),
        secret: None,
    };
    let pkce = Pkce::new(72);
    let started = now();
    let form = oauth::open_consent(&app, &oauth::authorize_query(&app, &client, &pkce, &[])).await;
    assert!(
        form.html.contains("Document &lt;Client&gt;"),
        "{}",
        form.html
    );
    assert!(
        form.html
            .contains("published by <strong>127.0.0.1</strong>"),
        "{}",
        form.html
    );
    assert!(
        form.html
            .contains("receives your approval on this computer"),
        "a loopback redirect is pointed out: {}",
        form.html
    );

    let (key, stored) = app
        .host
        .kv_snapshot()
        .into_iter()
        .find(|(k, _)| k.starts_with("cm:"))
        .expect("the document's client is cached");
    assert!(!app.host.kv_snapshot().keys().any(|k| k.starts_with("cl:")));
    let stored: Value = serde_json::from_slice(&stored).unwrap();
    let refetch_after = stored["refetch_after"].as_u64().unwrap();
    assert!(
        (started + 600..=now() + 600).contains(&refetch_after),
        "{stored}"
    );
    // Until it signs someone in, a fetched client lasts only as long as a sign-in can.
    assert!(stored["exp"].as_u64().unwrap() <= now() + 1200, "{stored}");
    assert_eq!(stored["auth_method"], "none");

    let code = oauth::authorize_locally(&app, &client, &pkce, "ada").await;
    let (status, tokens) = oauth::exchange(&app, &client, &code, &pkce).await;
    assert_eq!(status, 200, "{tokens}");
    let renewed: Value = serde_json::from_slice(&app.host.kv_snapshot()[&key]).unwrap();
    assert!(
        renewed["exp"].as_u64().unwrap() >= started + 90 * 86_400,
        "a client in use lives for client_lifetime: {renewed}"
    );
    let (status, refreshed) =
        oauth::refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{refreshed}");
    let mcp = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(refreshed["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_ne!(mcp.status(), 401);
    assert_eq!(site.hits(DOCUMENT), 1, "two consent pages, one fetch");
    assert!(app.host.kv_snapshot().contains_key(&key));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_document_is_fetched_again_and_its_changes_apply() {
    let site = Site::start().await;
    site.put(
        DOCUMENT,
        Page::json(&document(&site)).header("cache-control", "no-store"),
    );
    let app = app_fetching_locally().await;
    let id = site.url(DOCUMENT);
    assert_eq!(authorize(&app, &id, &[]).await.0, 200);

    // no-store keeps the copy for the minimum minute (for the token endpoint); age it
    // past its refetch time rather than wait.
    let store =
        test_host::kv::KvBackend::open(&app.dir.path().join("kv.db"), &Default::default()).unwrap();
    let key = app
        .host
        .kv_snapshot()
        .into_keys()
        .find(|k| k.starts_with("cm:"))
        .unwrap();
    let mut cached: Value =
        serde_json::from_slice(&store.get("default", &key).unwrap().unwrap()).unwrap();
    cached["refetch_after"] = 1.into();
    store
        .set("default", &key, &serde_json::to_vec(&cached).unwrap())
        .unwrap();
    let mut changed = document(&site);
    changed["redirect_uris"] = json!(["http://127.0.0.1:7777/elsewhere"]);
    site.put(DOCUMENT, Page::json(&changed));

    let (status, page) = authorize(&app, &id, &[]).await;
    assert_eq!(status, 400, "the withdrawn redirect URI no longer matches");
    assert!(page.contains("redirect_uri does not match"), "{page}");
    assert_eq!(site.hits(DOCUMENT), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_documents_are_refused_on_a_page_and_store_nothing() {
    let site = Site::start().await;
    let app = app_fetching_locally().await;
    let id = site.url(DOCUMENT);
    let with = |key: &str, value: Value| {
        let mut doc = document(&site);
        doc[key] = value;
        Page::json(&doc)
    };
    let mut oversized = document(&site);
    oversized["padding"] = "x".repeat(6 * 1024).into();
    let slow = Page {
        delay: Some(Duration::from_secs(7)),
        ..Page::json(&document(&site))
    };
    let cases: Vec<(&str, Option<Page>, &str)> = vec![
        ("no document", None, "could not be fetched"),
        (
            "server error",
            Some(Page {
                status: 500,
                ..Page::json(&document(&site))
            }),
            "could not be fetched",
        ),
        (
            "a redirect",
            Some(Page {
                status: 302,
                ..Page::json(&document(&site)).header("location", "/elsewhere.json")
            }),
            "could not be fetched",
        ),
        (
            "not JSON",
            Some(Page::json(&document(&site)).header("content-type", "text/html")),
            "application/json",
        ),
        (
            "another client_id",
            Some(with("client_id", site.url("/other.json").into())),
            "client_id must be the URL",
        ),
        (
            "a secret",
            Some(with("client_secret", "s3cret".into())),
            "client secret",
        ),
        (
            "a confidential method",
            Some(with(
                "token_endpoint_auth_method",
                "client_secret_basic".into(),
            )),
            "must be &quot;none&quot;",
        ),
        (
            "no client_name",
            Some(with("client_name", Value::Null)),
            "client_name",
        ),
        (
            "no redirect URIs",
            Some(with("redirect_uris", json!([]))),
            "redirect_uris",
        ),
        (
            "a redirect URI that is not in canonical form",
            Some(with(
                "redirect_uris",
                json!(["http://127.1:7777/x/../callback"]),
            )),
            "canonical form",
        ),
        (
            "too large",
            Some(Page::json(&oversized)),
            "larger than 5120 bytes",
        ),
        ("too slow", Some(slow), "could not be fetched"),
    ];
    let before = app.host.kv_snapshot();
    for (case, page, expected) in cases {
        match page {
            Some(page) => site.put(DOCUMENT, page),
            None => site.put(
                DOCUMENT,
                Page {
                    status: 404,
                    ..Page::json(&json!({}))
                },
            ),
        }
        let started = std::time::Instant::now();
        let (status, body) = authorize(&app, &id, &[]).await;
        assert_eq!(status, 400, "{case}");
        assert!(body.contains(expected), "{case}: {body}");
        assert!(
            started.elapsed() < Duration::from_secs(7),
            "{case}: answered within the fetch timeout"
        );
        assert_eq!(app.host.kv_snapshot(), before, "{case} changed the store");
    }
    // A valid document, but the request's redirect URI is not in it: shown, not followed.
    site.put(DOCUMENT, Page::json(&document(&site)));
    let (status, body) = authorize(&app, &id, &[("redirect_uri", "https://evil.example/cb")]).await;
    assert_eq!(status, 400);
    assert!(body.contains("redirect_uri does not match"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_and_plain_http_client_ids_are_never_fetched() {
    let site = Site::start().await;
    site.put(DOCUMENT, Page::json(&document(&site)));
    let app = App::start().await;
    let port = site.addr.port();
    let before = app.host.kv_snapshot();
    for (client_id, expected) in [
        (site.url(DOCUMENT), "must use https"),
        (format!("https://127.0.0.1:{port}{DOCUMENT}"), "private"),
        ("https://localhost/client.json".to_owned(), "private"),
        (
            "https://169.254.169.254/latest/meta-data".to_owned(),
            "private",
        ),
        ("https://[::1]/client.json".to_owned(), "private"),
        ("https://10.0.0.8/client.json".to_owned(), "private"),
        ("https://client.example.com".to_owned(), "canonical"),
        ("https://client.example.com/".to_owned(), "must have a path"),
        (
            "https://user:pw@client.example.com/c.json".to_owned(),
            "credentials",
        ),
        (
            "https://client.example.com/a/../c.json".to_owned(),
            "canonical",
        ),
    ] {
        let (status, body) = authorize(&app, &client_id, &[]).await;
        assert_eq!(status, 400, "{client_id}");
        assert!(body.contains(expected), "{client_id}: {body}");
    }
    assert_eq!(site.hits(DOCUMENT), 0);
    assert_eq!(app.host.kv_snapshot(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_fetches_obey_allowed_outbound_hosts() {
    let site = Site::start().await;
    site.put(DOCUMENT, Page::json(&document(&site)));
    // The component would fetch from loopback, but the manifest allows only https:443.
    let app = App::start_with(
        support::project_manifest(),
        &[("allow_private_client_metadata", "true")],
    )
    .await;
    let (status, body) = authorize(&app, &site.url(DOCUMENT), &[]).await;
    assert_eq!(status, 400);
    assert!(body.contains("could not be fetched"), "{body}");
    assert_eq!(site.hits(DOCUMENT), 0, "the host denied the request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_endpoint_knows_no_document_client_before_its_consent_page() {
    let app = App::start().await;
    let (status, body) = oauth::token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", "whatever"),
            ("code_verifier", &Pkce::new(73).verifier),
            ("client_id", "https://client.example.com/client.json"),
        ],
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client");
}
