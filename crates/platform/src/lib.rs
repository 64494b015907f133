//! The only crate that touches spin-sdk besides the components' entry points.
//!
//! It turns Spin's view of a request (variables, headers Spin adds) into the typed values
//! the library crates take, and their results back into Spin responses, so that the
//! library crates stay platform-free and test natively.

pub mod app_path;
pub mod audit;
pub mod authorization;
pub mod clerk_keys;
pub mod clock;
pub mod config;
pub mod cookies;
pub mod cors;
pub mod fetch;
pub mod grants;
pub mod html;
pub mod kv;
pub mod random;
pub mod request;
pub mod response;
pub mod stream;

pub use spin_sdk;
