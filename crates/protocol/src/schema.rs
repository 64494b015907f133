//! Tool schemas in the form that strict clients accept.
//!
//! A derived schema is valid JSON Schema 2020-12, but clients constrain what they take:
//! OpenAI's strict function schemas need `additionalProperties: false` on every object
//! and every property in `required` (optional ones as nullable), the OpenAI Agents SDK
//! falls back to non-strict for an object without `properties`, Gemini's schema subset
//! has a single `type` per node and no `const`, and the MCP Inspector's `--strict` lint
//! warns about `type` arrays. So derived schemas are rewritten here into the subset they
//! all share:
//! - every object has `properties` and, unless it says otherwise, `additionalProperties: false`;
//! - nullable values are `anyOf: [{…}, {"type": "null"}]`, never a `type` array;
//! - `const` is a one-value `enum`;
//! - `format` is kept only where JSON Schema 2020-12 defines it and OpenAI accepts it
//!   (schemars adds `double`, `uint32` and the like, which are neither);
//! - input objects list every property in `required`; a property the type lets be
//!   absent becomes nullable instead (serde reads `null` as `None`).

use serde_json::{Map, Value, json};

/// Which side of a call a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contract {
    /// Arguments, which models fill in: held to the strict subset.
    Input,
    /// Results, which clients validate: an optional field may simply be absent.
    Output,
}

/// `format` values of JSON Schema 2020-12 (Validation §7.3) that OpenAI's strict mode
/// also accepts.
const PORTABLE_FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];

/// Keywords that describe a value rather than constrain it: they stay on the outer
/// schema when a nullable value is split into `anyOf` branches.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "default",
    "examples",
    "x-mcp-header",
];

/// Rewrites `schema` in place into the portable subset described above.
pub fn make_portable(schema: &mut Value, contract: Contract) {
    let Value::Object(node) = schema else {
        return;
    };
    if let Some(format) = node.get("format").and_then(Value::as_str)
        && !PORTABLE_FORMATS.contains(&format)
    {
        node.remove("format");
    }
    if let Some(value) = node.remove("const") {
        node.insert("enum".into(), json!([value]));
    }
    if let Some(Value::Array(types)) = node.get("type") {
        let types = types.clone();
        split_type_union(node, &types);
    }
    if is_object(node) {
        node.entry("properties").or_insert_with(|| json!({}));
        node.entry("additionalProperties")
            .or_insert(Value::Bool(false));
        if contract == Contract::Input {
            require_every_property(node);
        }
    }
    for keyword in ["anyOf", "oneOf", "allOf", "prefixItems"] {
        if let Some(Value::Array(branches)) = node.get_mut(keyword) {
            branches
                .iter_mut()
                .for_each(|branch| make_portable(branch, contract));
        }
    }
    for keyword in ["items", "additionalProperties"] {
        if let Some(child) = node.get_mut(keyword) {
            make_portable(child, contract);
        }
    }
    if let Some(Value::Object(properties)) = node.get_mut("properties") {
        properties
            .values_mut()
            .for_each(|property| make_portable(property, contract));
    }
}

fn is_object(node: &Map<String, Value>) -> bool {
    node.get("type").and_then(Value::as_str) == Some("object") || node.contains_key("properties")
}

/// `{"type": ["string", "null"], …}` becomes `{"anyOf": [{"type": "string", …}, {"type": "null"}]}`,
/// annotations kept outside. Each non-null branch keeps every constraint: JSON Schema
/// ignores those that do not apply to its type.
fn split_type_union(node: &mut Map<String, Value>, types: &[Value]) {
    let mut constraints = Map::new();
    for (keyword, value) in std::mem::take(node) {
        if ANNOTATIONS.contains(&keyword.as_str()) {
            node.insert(keyword, value);
        } else if keyword != "type" {
            constraints.insert(keyword, value);
        }
    }
    let branches: Vec<Value> = types
        .iter()
        .map(|kind| {
            let mut branch = if kind == "null" {
                Map::new()
            } else {
                constraints.clone()
            };
            branch.insert("type".into(), kind.clone());
            Value::Object(branch)
        })
        .collect();
    if let [only] = branches.as_slice() {
        // A one-element union is just that type.
        if let Value::Object(branch) = only.clone() {
            node.extend(branch);
        }
        return;
    }
    node.insert("anyOf".into(), Value::Array(branches));
}

/// OpenAI strict: every property is required. One the type may omit is made nullable
/// instead, which serde reads back as `None`.
fn require_every_property(node: &mut Map<String, Value>) {
    let required: Vec<String> = node
        .get("required")
        .and_then(Value::as_array)
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let Some(Value::Object(properties)) = node.get_mut("properties") else {
        return;
    };
    for (name, property) in properties.iter_mut() {
        if !required.contains(name) && !is_nullable(property) {
            let mut outer = Map::new();
            if let Value::Object(inner) = property {
                for keyword in ANNOTATIONS {
                    if let Some(value) = inner.remove(*keyword) {
                        outer.insert((*keyword).to_owned(), value);
                    }
                }
            }
            outer.insert("anyOf".into(), json!([property.take(), { "type": "null" }]));
            *property = Value::Object(outer);
        }
    }
    let all: Vec<Value> = properties.keys().map(|name| json!(name)).collect();
    if all.is_empty() {
        node.remove("required");
    } else {
        node.insert("required".into(), Value::Array(all));
    }
}

fn is_nullable(schema: &Value) -> bool {
    let null = |s: &Value| s.get("type") == Some(&json!("null"));
    match schema.get("type") {
        Some(Value::Array(types)) => types.iter().any(|t| t == "null"),
        Some(kind) => kind == "null",
        None => schema
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|branches| branches.iter().any(null)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn portable(mut schema: Value, contract: Contract) -> Value {
        make_portable(&mut schema, contract);
        schema
    }

    #[test]
    fn an_object_without_arguments_is_closed_and_has_properties() {
        assert_eq!(
            portable(json!({"type": "object"}), Contract::Input),
            json!({"type": "object", "properties": {}, "additionalProperties": false})
        );
    }

    #[test]
    fn numbers_lose_formats_strict_clients_refuse() {
        let schema = portable(
            json!({"type": "object", "properties": {
                "a": {"type": "number", "format": "double"},
                "n": {"type": "integer", "format": "uint32", "minimum": 0},
                "when": {"type": "string", "format": "date-time"}},
                "required": ["a", "n", "when"]}),
            Contract::Input,
        );
        assert_eq!(schema["properties"]["a"], json!({"type": "number"}));
        assert_eq!(
            schema["properties"]["n"],
            json!({"type": "integer", "minimum": 0})
        );
        assert_eq!(schema["properties"]["when"]["format"], "date-time");
    }

    #[test]
    fn nullable_types_become_any_of_with_annotations_outside() {
        let schema = portable(
            json!({"type": "object", "properties": {
                "note": {"type": ["string", "null"], "description": "A note.", "maxLength": 9}}}),
            Contract::Output,
        );
        assert_eq!(
            schema["properties"]["note"],
            json!({"description": "A note.", "anyOf": [
                {"type": "string", "maxLength": 9}, {"type": "null"}]})
        );
        assert!(
            schema.get("required").is_none(),
            "outputs keep optional fields optional"
        );
    }

    #[test]
    fn optional_inputs_are_required_and_nullable() {
        let schema = portable(
            json!({"type": "object", "properties": {
                "a": {"type": "number"},
                "b": {"type": "string", "description": "Maybe."},
                "c": {"type": ["integer", "null"]}},
                "required": ["a"]}),
            Contract::Input,
        );
        assert_eq!(schema["required"], json!(["a", "b", "c"]));
        assert_eq!(
            schema["properties"]["b"],
            json!({"description": "Maybe.", "anyOf": [{"type": "string"}, {"type": "null"}]})
        );
        assert_eq!(
            schema["properties"]["c"],
            json!({"anyOf": [{"type": "integer"}, {"type": "null"}]})
        );
    }

    #[test]
    fn nested_objects_consts_and_explicit_open_maps() {
        let schema = portable(
            json!({"type": "object", "properties": {
                "inner": {"type": "object", "properties": {"k": {"const": "x"}}, "required": ["k"]},
                "free": {"type": "object", "additionalProperties": true},
                "list": {"type": "array", "items": {"type": "object"}}},
                "required": ["inner", "free", "list"]}),
            Contract::Output,
        );
        assert_eq!(schema["properties"]["inner"]["additionalProperties"], false);
        assert_eq!(
            schema["properties"]["inner"]["properties"]["k"],
            json!({"enum": ["x"]})
        );
        assert_eq!(schema["properties"]["free"]["additionalProperties"], true);
        assert_eq!(
            schema["properties"]["list"]["items"]["additionalProperties"],
            false
        );
    }
}
