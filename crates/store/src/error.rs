//! Store failures. None of them is the client's fault: callers map them to a generic
//! server error and log the detail.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The store itself failed (I/O, access denied, unknown label).
    #[error("key-value store: {0}")]
    Backend(String),
    /// A record could not be encoded or decoded.
    #[error("record {key:?} is unreadable: {reason}")]
    Corrupt { key: String, reason: String },
}
