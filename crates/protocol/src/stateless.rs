//! The stateless 2026-07-28 revision: every request names its protocol version, client
//! and capabilities in `_meta`, and the HTTP headers repeat what routing needs
//! (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`), which must agree with the body.

use serde_json::{Map, Value, json};

use crate::context::ClientCapabilities;
use crate::jsonrpc::{Error, code};
use crate::logging::Level;
use crate::server::Server;
use crate::version;

const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// How long clients may reuse list results: the tools, resources and prompts offered
/// change only with a new deployment.
pub const LIST_TTL_MS: u64 = 5 * 60 * 1000;

/// Which revision a request speaks, from its version header and `_meta`.
#[derive(Debug, PartialEq, Eq)]
pub enum Revision<'a> {
    /// A 2025-era revision (sessions); no header means 2025-03-26.
    Sessions,
    /// 2026-07-28, or a request shaped like one (a version in `_meta`), which
    /// [`check`] then holds to the revision's rules.
    Stateless,
    /// A header naming a version nobody here speaks, on a request without `_meta`.
    Unsupported(&'a str),
}

pub fn revision<'a>(header_version: Option<&'a str>, params: &Map<String, Value>) -> Revision<'a> {
    match header_version {
        Some(v) if version::is_supported(v) => Revision::Sessions,
        Some(v) if v == version::STATELESS || names_version(params) => Revision::Stateless,
        Some(v) => Revision::Unsupported(v),
        None if names_version(params) => Revision::Stateless,
        None => Revision::Sessions,
    }
}

/// What the request's `_meta` says about the client.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestMeta {
    pub capabilities: ClientCapabilities,
    pub log_level: Option<Level>,
    pub progress_token: Option<Value>,
}

/// The HTTP headers of a request, by case-insensitive name.
pub trait Headers {
    fn get(&self, name: &str) -> Option<&str>;
}

/// A refusal: the HTTP status and the JSON-RPC error.
pub type Refusal = (u16, Error);

/// Checks a stateless request in the order the specification gives: `_meta`, the
/// version header against it, the version itself, then `Mcp-Method` and `Mcp-Name`.
pub fn check(
    headers: &impl Headers,
    method: &str,
    params: &Map<String, Value>,
) -> Result<RequestMeta, Refusal> {
    let invalid_meta = || {
        (
            400,
            Error::new(
                code::INVALID_PARAMS,
                "params._meta must name io.modelcontextprotocol/protocolVersion and io.modelcontextprotocol/clientCapabilities",
            ),
        )
    };
    let meta = meta(params).ok_or_else(invalid_meta)?;
    let requested = meta
        .get(META_VERSION)
        .and_then(Value::as_str)
        .ok_or_else(invalid_meta)?;
    let capabilities = meta
        .get(META_CAPABILITIES)
        .filter(|c| c.is_object())
        .ok_or_else(invalid_meta)?;
    let mismatch = |message: String| (400, Error::new(code::HEADER_MISMATCH, message));
    let header = headers.get("mcp-protocol-version").map(trim);
    if header != Some(requested) {
        return Err(mismatch(format!(
            "MCP-Protocol-Version must be present and equal _meta's {requested:?}"
        )));
    }
    if requested != version::STATELESS {
        return Err((400, unsupported_version(requested)));
    }
    if headers.get("mcp-method").map(trim) != Some(method) {
        return Err(mismatch(format!(
            "Mcp-Method must be present and equal {method:?}"
        )));
    }
    let named = match method {
        "tools/call" | "prompts/get" => params.get("name"),
        "resources/read" => params.get("uri"),
        _ => None,
    };
    if let Some(name) = named.and_then(Value::as_str)
        && headers.get("mcp-name").map(trim) != Some(name)
    {
        return Err(mismatch(format!(
            "Mcp-Name must be present and equal {name:?}"
        )));
    }
    let log_level = match meta.get(META_LOG_LEVEL) {
        None => None,
        Some(level) => Some(level.as_str().and_then(Level::parse).ok_or_else(|| {
            (
                400,
                Error::new(code::INVALID_PARAMS, "_meta logLevel is not a log level"),
            )
        })?),
    };
    Ok(RequestMeta {
        capabilities: ClientCapabilities::from_json(Some(capabilities)),
        log_level,
        progress_token: meta.get("progressToken").cloned(),
    })
}

/// Checks the `Mcp-Param-<Header>` headers of a `tools/call` against its arguments:
/// each argument the tool declares with `x-mcp-header` (`declared`, as
/// `(property, Header)`) must be repeated in its header when the call gives it, as the
/// value itself or base64-encoded as `=?base64?…?=`.
pub fn check_param_headers(
    headers: &impl Headers,
    declared: &[(String, String)],
    arguments: &Value,
) -> Result<(), Refusal> {
    for (property, header) in declared {
        let argument = match arguments.get(property) {
            None | Some(Value::Null) => continue,
            Some(argument) => argument,
        };
        let name = format!("mcp-param-{}", header.to_ascii_lowercase());
        let matches = headers
            .get(&name)
            .and_then(param_value)
            .is_some_and(|value| same_value(&value, argument));
        if !matches {
            return Err((
                400,
                Error::new(
                    code::HEADER_MISMATCH,
                    format!(
                        "Mcp-Param-{header} must be present and equal the argument {property:?}"
                    ),
                ),
            ));
        }
    }
    Ok(())
}

/// A header value as sent: literal, or `=?base64?…?=` holding UTF-8 in padded base64.
/// `None` when the encoded form does not decode.
fn param_value(raw: &str) -> Option<String> {
    use base64::Engine as _;
    let raw = trim(raw);
    match raw
        .strip_prefix("=?base64?")
        .and_then(|rest| rest.strip_suffix("?="))
    {
        Some(encoded) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()?;
            String::from_utf8(bytes).ok()
        }
        None => Some(raw.to_owned()),
    }
}

/// Whether a header value stands for `argument`: the same text, number or boolean.
fn same_value(value: &str, argument: &Value) -> bool {
    match argument {
        Value::String(text) => value == text,
        Value::Number(number) => value
            .parse::<f64>()
            .is_ok_and(|parsed| Some(parsed) == number.as_f64()),
        Value::Bool(flag) => value == if *flag { "true" } else { "false" },
        // Only primitives can be repeated in a header.
        Value::Array(_) | Value::Object(_) | Value::Null => false,
    }
}

/// The HTTP status of an error answer on this revision: a missing client capability
/// is the client's mistake (400); other errors ride on a 200 like results.
pub fn status(error: &Error) -> u16 {
    if error.code == code::MISSING_CAPABILITY {
        400
    } else {
        200
    }
}

/// The error for a protocol version this server does not speak, listing those it does.
pub fn unsupported_version(requested: &str) -> Error {
    let mut error = Error::new(code::UNSUPPORTED_VERSION, "Unsupported protocol version");
    error.data = Some(json!({ "supported": version::ALL, "requested": requested }));
    error
}

/// Whether `params._meta` names a protocol version (the mark of a 2026-07-28 request).
fn names_version(params: &Map<String, Value>) -> bool {
    meta(params).is_some_and(|m| m.contains_key(META_VERSION))
}

/// Methods of the stateless revision. Everything else, the 2025-era lifecycle methods
/// included, is 404 `-32601`.
pub fn is_method(method: &str) -> bool {
    matches!(
        method,
        "server/discover"
            | "tools/list"
            | "tools/call"
            | "resources/list"
            | "resources/templates/list"
            | "resources/read"
            | "prompts/list"
            | "prompts/get"
            | "completion/complete"
    )
}

/// The `server/discover` result.
pub fn discover(server: &Server) -> Value {
    let mut capabilities = json!({ "tools": {}, "completions": {} });
    if !server.resources.is_empty() {
        capabilities["resources"] = json!({});
    }
    if !server.prompts.is_empty() {
        capabilities["prompts"] = json!({});
    }
    json!({
        "supportedVersions": version::ALL,
        "capabilities": capabilities,
        "ttlMs": LIST_TTL_MS,
        "cacheScope": "private",
        "_meta": { META_SERVER_INFO: { "name": server.info.name, "version": server.info.version } },
    })
}

/// Adds what the revision requires of results: `resultType`, and caching hints on
/// lists and reads. Results are per user (behind the token), so never `public`.
pub fn finish(method: &str, mut result: Value) -> Value {
    if let Value::Object(fields) = &mut result {
        if fields.contains_key("resultType") {
            // An `input_required` result: nothing in it may be cached.
            return result;
        }
        fields.insert("resultType".into(), json!("complete"));
        let ttl = match method {
            "tools/list"
            | "resources/list"
            | "resources/templates/list"
            | "prompts/list"
            | "server/discover" => Some(LIST_TTL_MS),
            "resources/read" => Some(0),
            _ => None,
        };
        if let Some(ttl) = ttl {
            fields.entry("ttlMs").or_insert_with(|| json!(ttl));
            fields
                .entry("cacheScope")
                .or_insert_with(|| json!("private"));
        }
    }
    result
}

/// Errors as the revision words them: an unknown resource is invalid params (SEP-2164),
/// where the 2025-era revisions had a code of its own.
pub fn finish_error(mut error: Error) -> Error {
    if error.code == crate::resource::NOT_FOUND {
        error.code = code::INVALID_PARAMS;
    }
    error
}

fn meta(params: &Map<String, Value>) -> Option<&Map<String, Value>> {
    params.get("_meta").and_then(Value::as_object)
}

/// Header values may carry optional whitespace around them (RFC 9110 §5.5).
fn trim(value: &str) -> &str {
    value.trim_matches([' ', '\t'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct H(HashMap<&'static str, &'static str>);

    impl Headers for H {
        fn get(&self, name: &str) -> Option<&str> {
            self.0.get(name).copied()
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> H {
        H(pairs.iter().copied().collect())
    }

    fn params(meta: Value, extra: Value) -> Map<String, Value> {
        let mut params = extra.as_object().cloned().unwrap_or_default();
        params.insert("_meta".into(), meta);
        params
    }

    fn full_meta() -> Value {
        json!({ META_VERSION: "2026-07-28", META_CAPABILITIES: { "sampling": {} }, "progressToken": 5 })
    }

    fn good() -> H {
        headers(&[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "  add "),
        ])
    }

    #[test]
    fn a_well_formed_request_passes_and_yields_its_meta() {
        let meta = check(
            &good(),
            "tools/call",
            &params(full_meta(), json!({"name": "add"})),
        )
        .unwrap();
        assert!(meta.capabilities.sampling && !meta.capabilities.elicitation);
        assert_eq!(meta.progress_token, Some(json!(5)));
        assert_eq!(meta.log_level, None);
    }

    #[test]
    fn each_problem_gets_its_status_and_code_in_order() {
        let call = json!({"name": "add"});
        let code_of = |h: &H, meta: Value| {
            let (status, error) = check(h, "tools/call", &params(meta, call.clone())).unwrap_err();
            (status, error.code)
        };
        // _meta first, even when a header is wrong too.
        assert_eq!(
            code_of(&headers(&[]), json!({})),
            (400, code::INVALID_PARAMS)
        );
        assert_eq!(
            code_of(&good(), json!({ META_VERSION: "2026-07-28" })),
            (400, code::INVALID_PARAMS)
        );
        // The header must match _meta before the version itself is judged.
        let v999 = json!({ META_VERSION: "v999", META_CAPABILITIES: {} });
        assert_eq!(code_of(&good(), v999.clone()), (400, code::HEADER_MISMATCH));
        let (status, error) = check(
            &headers(&[("mcp-protocol-version", "v999")]),
            "tools/call",
            &params(v999, call.clone()),
        )
        .unwrap_err();
        assert_eq!((status, error.code), (400, code::UNSUPPORTED_VERSION));
        assert_eq!(error.data.as_ref().unwrap()["requested"], "v999");
        assert_eq!(error.data.unwrap()["supported"][0], version::STATELESS);
        // Then Mcp-Method (case-sensitive) and Mcp-Name.
        for bad in [
            headers(&[("mcp-protocol-version", "2026-07-28"), ("mcp-name", "add")]),
            headers(&[
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "TOOLS/CALL"),
                ("mcp-name", "add"),
            ]),
            headers(&[
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/call"),
            ]),
            headers(&[
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/call"),
                ("mcp-name", "other"),
            ]),
        ] {
            assert_eq!(code_of(&bad, full_meta()), (400, code::HEADER_MISMATCH));
        }
        let mut bad_level = full_meta();
        bad_level[META_LOG_LEVEL] = json!("loud");
        assert_eq!(code_of(&good(), bad_level), (400, code::INVALID_PARAMS));
    }

    #[test]
    fn param_headers_repeat_their_arguments_literally_or_in_base64() {
        let declared = vec![("region".to_owned(), "Region".to_owned())];
        let check_with = |header: Option<&'static str>, argument: Value| {
            let h = match header {
                Some(value) => headers(&[("mcp-param-region", value)]),
                None => headers(&[]),
            };
            check_param_headers(&h, &declared, &json!({ "region": argument }))
                .map_err(|(status, error)| (status, error.code))
        };
        let refused = Err((400, code::HEADER_MISMATCH));
        assert_eq!(
            check_with(Some("=?base64?SGVsbG8=?="), json!("Hello")),
            Ok(())
        );
        assert_eq!(check_with(Some(" Hello "), json!("Hello")), Ok(()));
        assert_eq!(check_with(Some("SGVsbG8="), json!("SGVsbG8=")), Ok(()));
        assert_eq!(
            check_with(Some("=?base64?SGVsbG8="), json!("=?base64?SGVsbG8=")),
            Ok(())
        );
        assert_eq!(check_with(Some("42"), json!(42)), Ok(()));
        assert_eq!(check_with(Some("true"), json!(true)), Ok(()));
        assert_eq!(check_with(None, Value::Null), Ok(()));
        assert_eq!(
            check_with(Some("=?base64?SGVsbG8?=?="), json!("Hello")),
            refused
        );
        assert_eq!(
            check_with(Some("=?base64?SGVsbG8?="), json!("Hello")),
            refused
        );
        assert_eq!(
            check_with(Some("=?base64?SGVs!!!bG8=?="), json!("Hello")),
            refused
        );
        assert_eq!(
            check_with(Some("=?base64?/w==?="), json!("\u{ff}")),
            refused
        );
        assert_eq!(check_with(Some("Hello"), json!("hello")), refused);
        assert_eq!(check_with(None, json!("test-value")), refused);
        assert_eq!(status(&Error::new(code::MISSING_CAPABILITY, "")), 400);
        assert_eq!(status(&Error::new(code::INVALID_PARAMS, "")), 200);
    }

    #[test]
    fn the_revision_is_told_by_header_or_meta() {
        let with_meta = params(full_meta(), json!({}));
        let none = Map::new();
        assert_eq!(revision(None, &with_meta), Revision::Stateless);
        assert_eq!(revision(Some("2026-07-28"), &none), Revision::Stateless);
        assert_eq!(revision(Some("v999"), &with_meta), Revision::Stateless);
        assert_eq!(revision(Some("v999"), &none), Revision::Unsupported("v999"));
        assert_eq!(revision(Some("2025-06-18"), &with_meta), Revision::Sessions);
        assert_eq!(revision(None, &none), Revision::Sessions);
    }

    #[test]
    fn results_get_their_type_and_caching_hints() {
        let listed = finish("tools/list", json!({"tools": []}));
        assert_eq!(listed["resultType"], "complete");
        assert_eq!(listed["ttlMs"], LIST_TTL_MS);
        assert_eq!(listed["cacheScope"], "private");
        let read = finish("resources/read", json!({"contents": []}));
        assert_eq!(read["ttlMs"], 0);
        let called = finish("tools/call", json!({"content": []}));
        assert!(called.get("ttlMs").is_none());
        assert!(is_method("server/discover") && !is_method("initialize") && !is_method("ping"));
        let missing = finish_error(crate::resource::not_found("test://x"));
        assert_eq!(missing.code, code::INVALID_PARAMS);
        assert_eq!(missing.data.unwrap()["uri"], "test://x");
    }
}
