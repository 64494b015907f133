//! Store failures. None of them is the client's fault: callers map them to a generic
//! server error and log the detail.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The store itself failed (I/O, access denied, unknown label).
    #[error("key-value store: {0}")]
    Backend(String),
    /// The request waited so long for the store that its client has likely given up;
    /// nothing was written (see [`crate::deadline`]).
    #[error(
        "{waited_ms} ms passed before the first write, longer than a client waits: nothing was written"
    )]
    Late { waited_ms: u64 },
    /// A record could not be encoded or decoded.
    #[error("record {key:?} is unreadable: {reason}")]
    Corrupt { key: String, reason: String },
}
