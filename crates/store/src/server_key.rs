//! The server's own signing key (consent tickets, sign-in state) when no
//! `signing_secret` variable is configured: created once, shared by every instance
//! through the store.

use crate::{Error, Kv, keys};

/// Reads the key if it exists: for checking what it signed, which cannot be valid
/// before there is a key (so a refused request never creates one).
pub fn load(kv: &impl Kv) -> Result<Option<Vec<u8>>, Error> {
    kv.get(keys::SERVER_KEY)
}

/// Reads the key, creating it on first use. Two instances racing to create it may both
/// write; both then read back whichever write landed last, so they agree from then on
/// (a form signed in the instant between may need one retry by the user).
pub fn load_or_create(
    kv: &impl Kv,
    generate: impl FnOnce() -> Result<[u8; 32], Error>,
) -> Result<Vec<u8>, Error> {
    if let Some(key) = kv.get(keys::SERVER_KEY)? {
        return Ok(key);
    }
    kv.set(keys::SERVER_KEY, &generate()?)?;
    kv.get(keys::SERVER_KEY)?
        .ok_or_else(|| Error::Backend("server key vanished after being written".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryKv;

    #[test]
    fn the_key_is_created_once_then_reused() {
        let kv = MemoryKv::new();
        let first = load_or_create(&kv, || Ok([1u8; 32])).unwrap();
        let second = load_or_create(&kv, || panic!("must not generate again")).unwrap();
        assert_eq!(first, vec![1u8; 32]);
        assert_eq!(first, second);
    }

    #[test]
    fn loading_never_creates_the_key() {
        let kv = MemoryKv::new();
        assert_eq!(load(&kv).unwrap(), None);
        assert_eq!(kv.get(keys::SERVER_KEY).unwrap(), None);
        load_or_create(&kv, || Ok([2u8; 32])).unwrap();
        assert_eq!(load(&kv).unwrap(), Some(vec![2u8; 32]));
    }
}
