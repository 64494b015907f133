pub mod authorize;
pub mod metadata;
pub mod register;
