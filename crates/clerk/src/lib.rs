//! Clerk: verifying the session token the customer's app hands back after sign-in, and
//! the contract with that app (`/auth/mcp?state&callback_url&client_name`, answered with
//! `/callback?clerk_token&state`), and minting fresh session tokens for the
//! customer's API ([`backend`]), or M2M tokens naming the user when Clerk is the
//! authorization server ([`machine_token`]).
//!
//! Nothing here fetches or reads a clock: callers pass the JWKS (or PEM key) and `now`.

pub mod access_token;
pub mod backend;
mod crypto;
pub mod development;
pub mod error;
pub mod machine_token;
pub mod opaque_token;
mod rs256;
pub mod session;
pub mod sign_in;
pub mod webhook;

pub use error::Error;
