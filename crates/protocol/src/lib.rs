//! The Model Context Protocol as this server speaks it, kept apart from HTTP and Spin:
//! JSON-RPC messages ([`jsonrpc`]), protocol versions ([`version`]), the tool API that
//! template users implement ([`tool`]), and the dispatch of one message ([`server`]).

pub mod jsonrpc;
pub mod server;
pub mod tool;
pub mod version;
