//! The discovery documents, compared with committed JSON so any change to what clients
//! see is a reviewed change.

use oauth::{
    BaseUrl,
    metadata::{AuthorizationServerMetadata, ProtectedResourceMetadata},
};

fn fixture(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn base() -> BaseUrl {
    BaseUrl::parse("https://mcp.example.com").unwrap()
}

#[test]
fn authorization_server_metadata_matches_committed_document() {
    let actual = serde_json::to_value(AuthorizationServerMetadata::new(&base())).unwrap();
    assert_eq!(actual, fixture("authorization-server.json"));
}

#[test]
fn protected_resource_metadata_matches_committed_document() {
    let actual = serde_json::to_value(ProtectedResourceMetadata::new(&base())).unwrap();
    assert_eq!(actual, fixture("protected-resource.json"));
}

#[test]
fn resource_metadata_names_the_issuer_of_the_server_metadata() {
    let base = base();
    let asm = AuthorizationServerMetadata::new(&base);
    let prm = ProtectedResourceMetadata::new(&base);
    assert_eq!(prm.authorization_servers, vec![asm.issuer.clone()]);
    assert_eq!(prm.scopes_supported, asm.scopes_supported);
    assert!(asm.code_challenge_methods_supported == ["S256"]);
}
