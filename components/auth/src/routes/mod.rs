pub mod authorize;
pub mod callback;
mod clerk_keys;
mod clients;
mod grants;
pub mod home;
pub mod metadata;
pub mod register;
pub mod sweep;
