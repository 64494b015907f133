//! The two discovery documents: RFC 8414 authorization-server metadata and RFC 9728
//! protected-resource metadata. Both are derived from one [`BaseUrl`], so they cannot
//! disagree about the issuer or the resource.

use serde::Serialize;

use crate::registration::TokenEndpointAuthMethod;
use crate::{BaseUrl, scope, token::SUPPORTED_GRANT_TYPES};

/// RFC 8414 §2 authorization-server metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthorizationServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    /// RFC 7591 dynamic client registration.
    pub registration_endpoint: String,
    /// RFC 7009 token revocation.
    pub revocation_endpoint: String,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    /// RFC 7636 §4.2 / OAuth 2.1: S256 only; `plain` offers no protection.
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub scopes_supported: Vec<&'static str>,
    /// RFC 9207: authorization responses carry `iss`.
    pub authorization_response_iss_parameter_supported: bool,
    /// A `client_id` may be the https URL of a Client ID Metadata Document.
    pub client_id_metadata_document_supported: bool,
}

impl AuthorizationServerMetadata {
    pub fn new(base: &BaseUrl) -> Self {
        Self {
            issuer: base.issuer().to_owned(),
            authorization_endpoint: base.join("/authorize"),
            token_endpoint: base.join("/token"),
            registration_endpoint: base.join("/register"),
            revocation_endpoint: base.join("/revoke"),
            revocation_endpoint_auth_methods_supported: TokenEndpointAuthMethod::SUPPORTED.to_vec(),
            response_types_supported: vec!["code"],
            response_modes_supported: vec!["query"],
            grant_types_supported: SUPPORTED_GRANT_TYPES.iter().map(|g| g.as_str()).collect(),
            code_challenge_methods_supported: vec!["S256"],
            token_endpoint_auth_methods_supported: TokenEndpointAuthMethod::SUPPORTED.to_vec(),
            scopes_supported: scope::SUPPORTED.to_vec(),
            authorization_response_iss_parameter_supported: true,
            client_id_metadata_document_supported: true,
        }
    }
}

/// RFC 9728 §2 protected-resource metadata for the MCP endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtectedResourceMetadata {
    /// The canonical MCP endpoint URL; tokens are bound to exactly this value.
    pub resource: String,
    /// Our own issuer, byte-identical to `issuer` in the AS metadata.
    pub authorization_servers: Vec<String>,
    pub scopes_supported: Vec<String>,
    /// MCP authorization: tokens only in the `Authorization` header, never the query.
    pub bearer_methods_supported: Vec<&'static str>,
    pub resource_name: &'static str,
}

impl ProtectedResourceMetadata {
    pub fn new(base: &BaseUrl) -> Self {
        Self::at(base, crate::base_url::MCP_PATH)
    }

    /// The document for the resource's address at `path` (`/mcp` or `/sse`): RFC 9728
    /// §3.3 has `resource` be the URL the document's own well-known URL was built from.
    pub fn at(base: &BaseUrl, path: &str) -> Self {
        Self {
            resource: base.join(path),
            authorization_servers: vec![base.issuer().to_owned()],
            scopes_supported: scope::SUPPORTED.iter().map(|s| (*s).to_owned()).collect(),
            bearer_methods_supported: vec!["header"],
            resource_name: "MCP server",
        }
    }

    /// The document when another server (Clerk) is the authorization server: the same
    /// resource, signed in for at `issuer`, with the scopes to ask it for.
    pub fn signed_in_at(base: &BaseUrl, path: &str, issuer: &str, scopes: &[String]) -> Self {
        Self {
            authorization_servers: vec![issuer.to_owned()],
            scopes_supported: scopes.to_vec(),
            ..Self::at(base, path)
        }
    }
}
