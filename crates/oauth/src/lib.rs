//! The OAuth 2.1 authorization-server side of the product, kept apart from HTTP and Spin.
//!
//! Components parse raw requests with this crate, act on the typed values it returns, and
//! map its [`Error`] to the wire with [`Error::status`] and [`Error::body`]. Nothing here
//! reads a clock, a store or a variable: those are passed in.

pub mod authorize;
pub mod base_url;
pub mod bearer;
pub mod challenge;
pub mod client_metadata;
pub mod code;
pub mod connections;
pub mod consent;
pub mod error;
pub mod form;
pub mod grant;
pub mod lifetimes;
pub mod local_sign_in;
pub mod metadata;
pub mod pkce;
pub mod redirect_uri;
pub mod registration;
pub mod scope;
pub mod secret;
pub mod token;

pub use base_url::BaseUrl;
pub use error::{Error, ErrorCode};
