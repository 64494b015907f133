//! Resources: fixed ones addressed by URI, and templates (`{name}` segments, RFC 6570
//! level 1) whose variables the reader receives.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::context::Context;
use crate::jsonrpc::Error;

/// MCP's "resource not found" error code.
pub const NOT_FOUND: i64 = -32002;

/// The contents a read returns (`resources/read` `contents`).
pub type Contents = Vec<Value>;

type Reader = Box<dyn Fn(&str, &Context) -> Contents>;
type TemplateReader = Box<dyn Fn(&str, &BTreeMap<String, String>, &Context) -> Contents>;

struct Fixed {
    uri: &'static str,
    name: &'static str,
    description: &'static str,
    mime_type: &'static str,
    read: Reader,
}

struct Template {
    uri_template: &'static str,
    name: &'static str,
    description: &'static str,
    mime_type: &'static str,
    read: TemplateReader,
}

#[derive(Default)]
pub struct Resources {
    fixed: Vec<Fixed>,
    templates: Vec<Template>,
}

/// Text contents of `uri`.
pub fn text(uri: &str, mime_type: &str, text: &str) -> Value {
    json!({ "uri": uri, "mimeType": mime_type, "text": text })
}

/// Binary contents of `uri`, base64-encoded.
pub fn blob(uri: &str, mime_type: &str, base64: &str) -> Value {
    json!({ "uri": uri, "mimeType": mime_type, "blob": base64 })
}

impl Resources {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.fixed.is_empty() && self.templates.is_empty()
    }

    pub fn add(
        mut self,
        uri: &'static str,
        name: &'static str,
        description: &'static str,
        mime_type: &'static str,
        read: impl Fn(&str, &Context) -> Contents + 'static,
    ) -> Self {
        self.fixed.push(Fixed {
            uri,
            name,
            description,
            mime_type,
            read: Box::new(read),
        });
        self
    }

    pub fn add_template(
        mut self,
        uri_template: &'static str,
        name: &'static str,
        description: &'static str,
        mime_type: &'static str,
        read: impl Fn(&str, &BTreeMap<String, String>, &Context) -> Contents + 'static,
    ) -> Self {
        self.templates.push(Template {
            uri_template,
            name,
            description,
            mime_type,
            read: Box::new(read),
        });
        self
    }

    pub fn list(&self) -> Vec<Value> {
        self.fixed
            .iter()
            .map(|r| {
                json!({ "uri": r.uri, "name": r.name, "description": r.description, "mimeType": r.mime_type })
            })
            .collect()
    }

    pub fn list_templates(&self) -> Vec<Value> {
        self.templates
            .iter()
            .map(|t| {
                json!({ "uriTemplate": t.uri_template, "name": t.name, "description": t.description, "mimeType": t.mime_type })
            })
            .collect()
    }

    /// Whether `uri` names a resource (fixed, or matching a template).
    pub fn exists(&self, uri: &str) -> bool {
        self.fixed.iter().any(|r| r.uri == uri)
            || self
                .templates
                .iter()
                .any(|t| match_template(t.uri_template, uri).is_some())
    }

    pub fn read(&self, uri: &str, context: &Context) -> Result<Contents, Error> {
        if let Some(fixed) = self.fixed.iter().find(|r| r.uri == uri) {
            return Ok((fixed.read)(uri, context));
        }
        for template in &self.templates {
            if let Some(variables) = match_template(template.uri_template, uri) {
                return Ok((template.read)(uri, &variables, context));
            }
        }
        Err(not_found(uri))
    }
}

pub fn not_found(uri: &str) -> Error {
    let mut error = Error::new(NOT_FOUND, "resource not found");
    error.data = Some(json!({ "uri": uri }));
    error
}

/// The variables of `uri` if it matches `template`. A variable matches one or more
/// characters up to the next literal part, never a `/`.
pub fn match_template(template: &str, uri: &str) -> Option<BTreeMap<String, String>> {
    let mut variables = BTreeMap::new();
    let mut rest_template = template;
    let mut rest_uri = uri;
    while let Some(open) = rest_template.find('{') {
        let literal = &rest_template[..open];
        rest_uri = rest_uri.strip_prefix(literal)?;
        let close = open + rest_template[open..].find('}')?;
        let name = &rest_template[open + 1..close];
        rest_template = &rest_template[close + 1..];
        let next_literal = &rest_template[..rest_template.find('{').unwrap_or(rest_template.len())];
        let end = if next_literal.is_empty() {
            rest_uri.len()
        } else {
            rest_uri.find(next_literal)?
        };
        let value = &rest_uri[..end];
        if value.is_empty() || value.contains('/') {
            return None;
        }
        variables.insert(name.to_owned(), value.to_owned());
        rest_uri = &rest_uri[end..];
    }
    (rest_uri == rest_template).then_some(variables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whole_segments() {
        let vars = match_template("test://template/{id}/data", "test://template/123/data").unwrap();
        assert_eq!(vars["id"], "123");
        assert!(match_template("test://template/{id}/data", "test://template//data").is_none());
        assert!(match_template("test://template/{id}/data", "test://template/1/2/data").is_none());
        assert!(match_template("test://template/{id}/data", "test://template/1/other").is_none());
        assert!(match_template("a://{x}", "a://y").is_some());
        assert!(match_template("a://fixed", "a://fixed").unwrap().is_empty());
    }

    #[test]
    fn reads_find_fixed_resources_then_templates() {
        let resources = Resources::new()
            .add("test://a", "a", "A", "text/plain", |uri, _| {
                vec![text(uri, "text/plain", "A")]
            })
            .add_template("test://t/{id}", "t", "T", "text/plain", |uri, vars, _| {
                vec![text(uri, "text/plain", &vars["id"])]
            });
        let silent = crate::context::Silent;
        let cx = crate::context::testing::context(&silent);
        assert_eq!(resources.read("test://a", &cx).unwrap()[0]["text"], "A");
        assert_eq!(resources.read("test://t/9", &cx).unwrap()[0]["text"], "9");
        assert_eq!(resources.read("test://b", &cx).unwrap_err().code, NOT_FOUND);
        assert!(resources.exists("test://t/9") && !resources.exists("test://b"));
        assert_eq!(
            resources.list_templates()[0]["uriTemplate"],
            "test://t/{id}"
        );
    }
}
