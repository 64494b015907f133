//! The cryptography `jsonwebtoken` runs here, and nothing more: RS256 verification
//! (Clerk's session tokens) and HS256 (local development tokens), from RustCrypto's
//! `rsa`, `hmac` and `sha2`. Its built-in `rust_crypto` provider would also link RSA
//! signing, ECDSA and EdDSA into every component, which none of them uses.

use std::sync::Once;

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

/// Installs the provider before the first use of `jsonwebtoken`. A process that has
/// installed another (a test signing RS256 fixtures) keeps its own.
pub(crate) fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let _ = PROVIDER.install_default();
    });
}

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    match algorithm {
        Algorithm::HS256 if key.family() == AlgorithmFamily::Hmac => Ok(Box::new(Hs256(
            HmacSha256::new_from_slice(key.as_bytes()).map_err(|_| ErrorKind::InvalidKeyFormat)?,
        ))),
        Algorithm::HS256 => Err(ErrorKind::InvalidKeyFormat.into()),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    }
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    match (algorithm, key.family()) {
        (Algorithm::RS256, AlgorithmFamily::Rsa) => Ok(Box::new(Rs256(rsa_key(key)?))),
        (Algorithm::HS256, AlgorithmFamily::Hmac) => Ok(Box::new(Hs256(
            HmacSha256::new_from_slice(key.try_get_as_bytes()?)
                .map_err(|_| ErrorKind::InvalidKeyFormat)?,
        ))),
        (Algorithm::RS256 | Algorithm::HS256, _) => Err(ErrorKind::InvalidKeyFormat.into()),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    }
}

fn rsa_key(key: &DecodingKey) -> Result<RsaPublicKey, Error> {
    let invalid = |e: &dyn std::fmt::Display| Error::from(ErrorKind::InvalidRsaKey(e.to_string()));
    match key.kind() {
        DecodingKeyKind::SecretOrDer(der) => {
            RsaPublicKey::from_pkcs1_der(der).map_err(|e| invalid(&e))
        }
        DecodingKeyKind::RsaModulusExponent { n, e } => {
            RsaPublicKey::new(BigUint::from_bytes_be(n), BigUint::from_bytes_be(e))
                .map_err(|e| invalid(&e))
        }
    }
}

struct Rs256(RsaPublicKey);

impl Verifier<Vec<u8>> for Rs256 {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        self.0
            .verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(message),
                signature,
            )
            .map_err(signature::Error::from_source)
    }
}

impl JwtVerifier for Rs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}

struct Hs256(HmacSha256);

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        // `verify_slice` compares in constant time.
        mac.verify_slice(signature)
            .map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_algorithms_in_use_are_provided() {
        let secret = EncodingKey::from_secret(b"k");
        assert!(new_signer(&Algorithm::HS256, &secret).is_ok());
        for alg in [
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::EdDSA,
            Algorithm::HS512,
        ] {
            assert!(new_signer(&alg, &secret).is_err(), "{alg:?} signs");
        }
        let hmac = DecodingKey::from_secret(b"k");
        assert!(new_verifier(&Algorithm::HS256, &hmac).is_ok());
        // An HMAC key never verifies as RSA: no algorithm confusion through the provider.
        assert!(new_verifier(&Algorithm::RS256, &hmac).is_err());
        for alg in [Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA] {
            assert!(new_verifier(&alg, &hmac).is_err(), "{alg:?} verifies");
        }
    }
}
