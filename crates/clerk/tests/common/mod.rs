//! What the token suites share: the RustCrypto provider (they sign fixtures, which the
//! components never do) and the key fixtures.

#![allow(dead_code)] // each suite uses a different subset

/// The components verify with the crate's own provider (RS256 verification only); these
/// tests also sign, so each installs the full RustCrypto provider before anything else.
pub fn rust_crypto() {
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
}

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}
