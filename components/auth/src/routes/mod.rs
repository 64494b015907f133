pub mod metadata;
pub mod register;
