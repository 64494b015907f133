//! The deployment files are valid for their tools: `deploy/spinkube/spinapp.yaml` passes
//! the SpinApp CRD's schema (`deploy/spinkube/spinapp.schema.json`, checked with Ajv by
//! `clients/check-manifest.mjs` as kubectl's strict validation would), the check refuses
//! what kubectl refuses, and the manifest's variables, secrets and store are the app's
//! own (`spin.toml`). `runtime-config/redis.toml` is read by the test host as Spin reads
//! it in `instances.rs`.

#[path = "../support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{Value, json};

fn deploy_file(name: &str) -> PathBuf {
    support::project_root().join("deploy/spinkube").join(name)
}

/// Runs the schema check on `manifest`: the document as JSON if it passes, else what
/// the check reported.
async fn check(manifest: &std::path::Path) -> Result<Value, String> {
    let schema = deploy_file("spinapp.schema.json");
    let (ok, stdout, stderr) = support::node(
        "check-manifest.mjs",
        &[schema.to_str().unwrap(), manifest.to_str().unwrap()],
    )
    .await;
    if ok {
        Ok(serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}")))
    } else {
        Err(format!("{stdout}{stderr}"))
    }
}

async fn shipped_manifest() -> Value {
    check(&deploy_file("spinapp.yaml"))
        .await
        .unwrap_or_else(|findings| panic!("spinapp.yaml fails the CRD's schema:\n{findings}"))
}

fn spin_toml_variables() -> toml::Table {
    let manifest = std::fs::read_to_string(support::project_root().join("spin.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&manifest).unwrap();
    manifest["variables"].as_table().unwrap().clone()
}

#[tokio::test]
async fn the_spinapp_manifest_passes_the_crds_schema_and_sets_the_apps_own_variables() {
    let manifest = shipped_manifest().await;
    let spec = &manifest["spec"];
    assert!(spec["replicas"].as_i64().unwrap() >= 2, "several replicas");

    let declared = spin_toml_variables();
    let mut set = BTreeSet::new();
    for variable in spec["variables"].as_array().unwrap() {
        let name = variable["name"].as_str().unwrap();
        assert!(set.insert(name), "{name} is set twice");
        let Some(declaration) = declared.get(name) else {
            panic!("{name} is not a variable of spin.toml");
        };
        let from_secret = variable["valueFrom"]["secretKeyRef"].is_object();
        assert!(
            variable["value"].is_string() != variable["valueFrom"].is_object(),
            "{name}: exactly one of value and valueFrom"
        );
        if declaration.get("secret").and_then(toml::Value::as_bool) == Some(true) {
            assert!(from_secret, "{name} is secret: it must come from a Secret");
        }
    }
    // Every replica must publish one origin and sign with one key.
    for needed in ["base_url", "signing_secret"] {
        assert!(
            set.contains(needed),
            "{needed} must be set for several replicas"
        );
    }
    let base_url = spec["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "base_url")
        .unwrap()["value"]
        .as_str()
        .unwrap();
    assert!(base_url.starts_with("https://"), "{base_url}");

    // The store the components open (`default`), on Redis, its URL from the Secret.
    let stores = spec["runtimeConfig"]["keyValueStores"].as_array().unwrap();
    assert_eq!(stores.len(), 1);
    assert_eq!(stores[0]["name"], "default");
    assert_eq!(stores[0]["type"], "redis");
    assert_eq!(stores[0]["options"][0]["name"], "url");
    assert!(stores[0]["options"][0]["valueFrom"]["secretKeyRef"].is_object());
}

#[tokio::test]
async fn the_secret_the_manifest_reads_is_the_one_its_header_tells_you_to_create() {
    let manifest = shipped_manifest().await;
    let text = std::fs::read_to_string(deploy_file("spinapp.yaml")).unwrap();
    let created: BTreeSet<&str> = text
        .split("--from-literal=")
        .skip(1)
        .map(|rest| rest.split('=').next().unwrap())
        .collect();
    let mut referenced = BTreeSet::new();
    let spec = &manifest["spec"];
    let options = spec["runtimeConfig"]["keyValueStores"][0]["options"]
        .as_array()
        .unwrap();
    for source in spec["variables"].as_array().unwrap().iter().chain(options) {
        let secret = &source["valueFrom"]["secretKeyRef"];
        if secret.is_object() {
            assert_eq!(secret["name"], manifest["metadata"]["name"]);
            referenced.insert(secret["key"].as_str().unwrap());
        }
    }
    assert_eq!(referenced, created, "kubectl create secret in the header");
}

/// A manifest file for the check: JSON is YAML.
fn manifest_file(text: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), text).unwrap();
    file
}

#[tokio::test]
async fn the_schema_check_refuses_what_kubectl_would_refuse() {
    let shipped = shipped_manifest().await;
    type Change = fn(&mut Value);
    // What is changed, what the finding must name, the change.
    let changes: [(&str, &str, Change); 12] = [
        ("no image", "image", |m| {
            m["spec"].as_object_mut().unwrap().remove("image");
        }),
        ("no executor", "executor", |m| {
            m["spec"].as_object_mut().unwrap().remove("executor");
        }),
        ("a misspelled field", "replica", |m| {
            m["spec"]["replica"] = json!(3)
        }),
        ("replicas as a string", "/spec/replicas", |m| {
            m["spec"]["replicas"] = json!("3")
        }),
        ("replicas beyond int32", "/spec/replicas", |m| {
            m["spec"]["replicas"] = json!(2_147_483_648_i64)
        }),
        ("another kind", "/kind", |m| m["kind"] = json!("SpinApps")),
        ("another API version", "/apiVersion", |m| {
            m["apiVersion"] = json!("core.spinoperator.dev/v1")
        }),
        ("a name Kubernetes refuses", "/metadata/name", |m| {
            m["metadata"]["name"] = json!("Clerk_MCP")
        }),
        ("a variable without a name", "/spec/variables/0", |m| {
            m["spec"]["variables"][0]
                .as_object_mut()
                .unwrap()
                .remove("name");
        }),
        ("a secret reference without a key", "secretKeyRef", |m| {
            let option = &mut m["spec"]["runtimeConfig"]["keyValueStores"][0]["options"][0];
            option["valueFrom"]["secretKeyRef"]
                .as_object_mut()
                .unwrap()
                .remove("key");
        }),
        (
            "a store without a type",
            "/spec/runtimeConfig/keyValueStores/0",
            |m| {
                m["spec"]["runtimeConfig"]["keyValueStores"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("type");
            },
        ),
        (
            "a variable value that is not a string",
            "/spec/variables/0/value",
            |m| m["spec"]["variables"][0]["value"] = json!(true),
        ),
    ];
    let mut files = Vec::new();
    for (what, names, change) in changes {
        let mut manifest = shipped.clone();
        change(&mut manifest);
        files.push((what, names, manifest_file(&manifest.to_string())));
    }
    // YAML the parser must refuse before any schema: a repeated key, two documents.
    let text = std::fs::read_to_string(deploy_file("spinapp.yaml")).unwrap();
    let repeated = text.replacen("  replicas: 3\n", "  replicas: 3\n  replicas: 1\n", 1);
    assert_ne!(repeated, text);
    files.push(("a repeated key", "unique", manifest_file(&repeated)));
    files.push((
        "two documents",
        "one YAML document",
        manifest_file(&format!("{text}\n---\n{text}")),
    ));

    let results =
        futures::future::join_all(files.iter().map(|(_, _, file)| check(file.path()))).await;
    for ((what, names, _), result) in files.iter().zip(results) {
        let findings = result.err().unwrap_or_else(|| panic!("{what}: accepted"));
        assert!(
            findings.contains(names),
            "{what}: refused for another reason:\n{findings}"
        );
    }
}
