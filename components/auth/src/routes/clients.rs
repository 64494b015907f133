//! The client behind an authorization request: a registered one from the store, or one
//! whose `client_id` is the URL of its Client ID Metadata Document, fetched on demand and
//! cached (`cm:` records, see `docs/kv-schema.md`).

use oauth::Error;
use oauth::client_metadata::{self, FetchedDocument};
use oauth::registration::ClientRecord;
use platform::fetch::{self, FetchError, Limits};
use platform::{config, kv::SpinKv};
use store::{Expiring, keys, record};

use super::authorize::{Failure, internal};

/// The client `client_id` names, or the page-shown error that it has none.
pub fn lookup(kv: &SpinKv, client_id: &str, now: u64) -> Result<ClientRecord, Failure> {
    let key = keys::client(client_id);
    let stored = record::read::<ClientRecord>(kv, &key, now).map_err(Failure::Store)?;
    if !keys::names_metadata_document(client_id) {
        return stored
            .map(|r| r.value)
            .ok_or(Failure::Page(400, Error::UnknownClient));
    }
    match stored {
        Some(cached) if cached.value.refetch_after.is_some_and(|t| now < t) => Ok(cached.value),
        cached => fetch_document(kv, client_id, &key, cached, now),
    }
}

/// Fetches, validates and caches a metadata document. A failure leaves any cached copy
/// as it was (an outage must not erase a client) but is not papered over with it either:
/// the document may have changed for a reason, such as a withdrawn redirect URI.
fn fetch_document(
    kv: &SpinKv,
    client_id: &str,
    key: &str,
    cached: Option<Expiring<ClientRecord>>,
    now: u64,
) -> Result<ClientRecord, Failure> {
    let allow_private = config::allow_private_client_metadata().map_err(internal)?;
    let url = client_metadata::document_url(client_id, allow_private)
        .map_err(|e| Failure::Page(400, e))?;
    let limits = Limits {
        timeout: client_metadata::FETCH_TIMEOUT,
        max_body_bytes: client_metadata::MAX_DOCUMENT_BYTES,
    };
    let fetched = fetch::get(&url, "application/json", limits).map_err(|e| {
        eprintln!("client metadata document {url}: {e}");
        Failure::Page(
            400,
            match e {
                FetchError::TooLarge(limit) => {
                    Error::ClientMetadataInvalid(format!("it is larger than {limit} bytes"))
                }
                _ => Error::ClientMetadataUnavailable,
            },
        )
    })?;
    let registration = client_metadata::parse_document(
        client_id,
        &FetchedDocument {
            status: fetched.status,
            content_type: fetched.content_type.as_deref(),
            body: &fetched.body,
        },
    )
    .map_err(|e| {
        eprintln!(
            "client metadata document {url}: HTTP {}: {e}",
            fetched.status
        );
        Failure::Page(400, e)
    })?;
    let issued_at = cached.as_ref().map_or(now, |c| c.value.issued_at);
    let mut client = registration.into_record(issued_at, None);
    let cache_secs = client_metadata::cache_lifetime(fetched.cache_control.as_deref());
    client.refetch_after = Some(now + cache_secs);
    // Fetching costs the fetcher nothing, so a fetched client lives only as long as a
    // sign-in through it could take; the code exchange renews it for `client_lifetime`
    // like any client in use, and a refetch never shortens what it already had.
    let lifetimes = config::lifetimes().map_err(internal)?;
    let provisional = now + cache_secs.max(lifetimes.provisional_client());
    let previous_expiry = cached.map(|c| c.expires_at);
    let stored = Expiring {
        expires_at: previous_expiry.map_or(provisional, |exp| exp.max(provisional)),
        value: client,
    };
    match previous_expiry {
        Some(exp) => record::renew(kv, key, exp, &stored),
        None => record::create(kv, key, &stored),
    }
    .map_err(Failure::Store)?;
    Ok(stored.value)
}
