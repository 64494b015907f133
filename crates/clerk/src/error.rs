//! Why a Clerk session token or sign-in state was refused. Each is logged; the user sees
//! one plain message, since detail would only help a forger.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the session token is not a well-formed JWT")]
    Malformed,
    #[error("the session token uses algorithm {0}, not RS256")]
    AlgorithmNotAllowed(String),
    #[error("no key {0:?} in Clerk's JWKS")]
    UnknownKey(String),
    #[error("the session token's signature is invalid")]
    BadSignature,
    #[error("the session token has expired")]
    Expired,
    #[error("the session token is not valid yet")]
    NotYetValid,
    #[error("the session token was issued by {0:?}")]
    WrongIssuer(String),
    #[error("the session token was issued for {0:?}, not an authorized party")]
    WrongAuthorizedParty(String),
    #[error("the session token names no user or session")]
    MissingSession,
    #[error("the sign-in state is forged or malformed")]
    BadState,
    #[error("Clerk's key set cannot be used: {0}")]
    BadKeySet(String),
}
