//! The Model Context Protocol as this server speaks it, kept apart from HTTP and Spin:
//! JSON-RPC messages ([`jsonrpc`]), protocol versions ([`version`]), the tool API that
//! template users implement ([`tool`]) with what a handler knows and may send back
//! ([`context`], [`logging`], [`input`]), resources and prompts ([`resource`], [`prompt`]), and the
//! dispatch of one message ([`server`]).

pub mod context;
pub mod input;
pub mod jsonrpc;
pub mod logging;
pub mod prompt;
pub mod resource;
pub mod schema;
pub mod server;
pub mod stateless;
pub mod tool;
pub mod version;
