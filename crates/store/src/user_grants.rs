//! Each user's grants, so that a Clerk webhook can end them all without listing keys.
//!
//! The index is written the way the expiry index is: `increment(un:<user hash>, 1)` numbers
//! a slot no other writer on any instance gets, and `ug:<user hash>:<n>` names the grant.
//! No read-modify-write of a shared list, so two sign-ins of one user on two instances at
//! once both land. The grant records its slot, and whoever ends the grant (a revocation,
//! a replay, the sweep) deletes the slot with it; a slot whose grant is already gone is
//! deleted by the next walk. Walking a user costs one read per slot ever numbered and one
//! per live grant: it grows with that user's sign-ins, never with the store.

use crate::{Error, Kv, keys};

/// One entry of a user's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub key: String,
    pub grant_id: String,
}

/// Adds `grant_id` to `user_id`'s index (before the grant is written, so that no grant
/// is missing from it); returns the slot's key for the grant to keep.
pub fn add(kv: &impl Kv, user_id: &str, grant_id: &str) -> Result<String, Error> {
    let user = keys::user_hash(user_id);
    let slot = kv.increment(&keys::user_grant_count(&user), 1)?;
    let key = keys::user_grant_slot(&user, slot);
    kv.set(&key, grant_id.as_bytes())?;
    Ok(key)
}

/// How many slots `user_id`'s index has numbered (0 if none).
fn count(kv: &impl Kv, counter: &str) -> Result<i64, Error> {
    // `exists` first: reading an absent counter through `increment` would create it.
    if kv.exists(counter)? {
        kv.increment(counter, 0)
    } else {
        Ok(0)
    }
}

/// Every slot of `user_id`'s index still present, in order.
pub fn walk(kv: &impl Kv, user_id: &str) -> Result<Vec<Slot>, Error> {
    let user = keys::user_hash(user_id);
    let mut slots = Vec::new();
    for n in 1..=count(kv, &keys::user_grant_count(&user))? {
        let key = keys::user_grant_slot(&user, n);
        if let Some(grant_id) = kv.get(&key)? {
            slots.push(Slot {
                key,
                grant_id: String::from_utf8_lossy(&grant_id).into_owned(),
            });
        }
    }
    Ok(slots)
}

/// The user's counter, deleted with the user: Clerk never reuses a user id.
pub fn counter_key(user_id: &str) -> String {
    keys::user_grant_count(&keys::user_hash(user_id))
}

/// What ends with a grant: the grant, what is kept under its id, and its index slot.
pub fn grant_and_companions(grant_id: &str, user_slot: Option<&str>) -> Vec<String> {
    let grant = keys::grant(grant_id);
    let mut doomed = keys::companions(&grant);
    doomed.push(grant);
    doomed.extend(user_slot.map(str::to_owned));
    doomed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryKv;

    #[test]
    fn each_grant_gets_its_own_slot_and_a_walk_finds_them_in_order() {
        let kv = MemoryKv::new();
        let first = add(&kv, "user_1", "g1").unwrap();
        let second = add(&kv, "user_1", "g2").unwrap();
        add(&kv, "user_2", "g3").unwrap();
        assert_ne!(first, second);
        let walked = walk(&kv, "user_1").unwrap();
        assert_eq!(
            walked,
            vec![
                Slot {
                    key: first.clone(),
                    grant_id: "g1".into()
                },
                Slot {
                    key: second,
                    grant_id: "g2".into()
                },
            ]
        );
        // A slot deleted with its grant leaves a hole the walk steps over.
        kv.delete(&first).unwrap();
        assert_eq!(walk(&kv, "user_1").unwrap().len(), 1);
    }

    #[test]
    fn walking_a_user_without_grants_reads_one_key_and_writes_nothing() {
        let kv = MemoryKv::new();
        assert_eq!(walk(&kv, "user_9").unwrap(), vec![]);
        assert_eq!(kv.calls(), 1);
        assert!(kv.snapshot().is_empty());
    }

    #[test]
    fn ending_a_grant_names_its_companions_and_slot() {
        let doomed = grant_and_companions("g1", Some("ug:h:1"));
        assert!(doomed.contains(&"gr:g1".to_owned()));
        assert!(doomed.contains(&"ut:g1".to_owned()));
        assert!(doomed.contains(&"ul:g1".to_owned()));
        assert!(doomed.contains(&"ug:h:1".to_owned()));
    }
}
