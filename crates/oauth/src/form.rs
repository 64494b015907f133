//! The one parser for `application/x-www-form-urlencoded` request bodies.

use std::collections::BTreeMap;

use crate::Error;

/// Form parameters with each name present at most once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FormParams(BTreeMap<String, String>);

impl FormParams {
    /// Parses a form body given its `Content-Type` header value.
    ///
    /// RFC 6749 §3.2 requires `application/x-www-form-urlencoded` at the token endpoint,
    /// and §3.1/§3.2: parameters MUST NOT be included more than once, so a repeat is an
    /// error rather than first- or last-wins (which would let a proxy and this server
    /// disagree about the request).
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Self, Error> {
        if !is_media_type(content_type, "application/x-www-form-urlencoded") {
            return Err(Error::WrongContentType);
        }
        Self::decode(body)
    }

    /// Parses a URL query string (`/authorize`, `/callback`) by the same rules.
    pub fn parse_query(query: &str) -> Result<Self, Error> {
        Self::decode(query.as_bytes())
    }

    fn decode(encoded: &[u8]) -> Result<Self, Error> {
        // Percent-decoding below is lossy on invalid UTF-8; refuse it instead.
        if std::str::from_utf8(encoded).is_err() {
            return Err(Error::MalformedForm);
        }
        let mut params = BTreeMap::new();
        for (name, value) in form_urlencoded::parse(encoded) {
            if params
                .insert(name.to_string(), value.into_owned())
                .is_some()
            {
                return Err(Error::RepeatedParameter(name.into_owned()));
            }
        }
        Ok(Self(params))
    }

    /// Replaces a parameter, for tests that vary one field of a valid request.
    #[cfg(test)]
    pub(crate) fn set(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_owned(), value.to_owned());
    }

    /// The value of a parameter. RFC 6749 §3.1: a parameter sent without a value is
    /// treated as omitted.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn require(&self, name: &'static str) -> Result<&str, Error> {
        self.get(name).ok_or(Error::MissingParameter(name))
    }
}

/// Whether a `Content-Type` value names `media_type`. Media types compare
/// case-insensitively and may carry parameters (`; charset=UTF-8`).
pub fn is_media_type(content_type: Option<&str>, media_type: &str) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case(media_type))
}

/// Whether an `Accept` value allows `media_type` (directly or through a wildcard).
pub fn accepts(accept: &str, media_type: &str) -> bool {
    let (kind, _) = media_type.split_once('/').unwrap_or((media_type, ""));
    accept.split(',').any(|range| {
        let range = range.split(';').next().unwrap_or_default().trim();
        range.eq_ignore_ascii_case(media_type)
            || range == "*/*"
            || range
                .strip_suffix("/*")
                .is_some_and(|k| k.eq_ignore_ascii_case(kind))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_ranges_and_wildcards() {
        assert!(accepts(
            "application/json, text/event-stream",
            "text/event-stream"
        ));
        assert!(accepts("text/event-stream;q=0.9", "text/event-stream"));
        assert!(accepts("*/*", "application/json"));
        assert!(accepts("application/*", "application/json"));
        assert!(!accepts("application/json", "text/event-stream"));
        assert!(!accepts("text/html", "application/json"));
    }

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    #[test]
    fn decodes_percent_and_plus() {
        let p = FormParams::parse(FORM, b"a=x%20y&b=1+2&c=").unwrap();
        assert_eq!(p.get("a"), Some("x y"));
        assert_eq!(p.get("b"), Some("1 2"));
        assert_eq!(p.get("c"), None, "an empty value counts as omitted");
        assert_eq!(p.require("c"), Err(Error::MissingParameter("c")));
    }

    #[test]
    fn content_type_may_carry_a_charset_and_any_case() {
        assert!(
            FormParams::parse(
                Some("Application/X-WWW-Form-Urlencoded; charset=UTF-8"),
                b""
            )
            .is_ok()
        );
    }

    #[test]
    fn rejects_other_content_types() {
        for ct in [
            None,
            Some("application/json"),
            Some("text/plain"),
            Some("application/x-www-form-urlencodedX"),
        ] {
            assert_eq!(
                FormParams::parse(ct, b"a=1"),
                Err(Error::WrongContentType),
                "{ct:?}"
            );
        }
    }

    #[test]
    fn rejects_repeated_parameters() {
        assert_eq!(
            FormParams::parse(FORM, b"grant_type=a&grant_type=b"),
            Err(Error::RepeatedParameter("grant_type".into()))
        );
    }

    #[test]
    fn queries_follow_the_same_rules() {
        let q = FormParams::parse_query("a=1&b=&c=x%2By").unwrap();
        assert_eq!(
            (q.get("a"), q.get("b"), q.get("c")),
            (Some("1"), None, Some("x+y"))
        );
        assert_eq!(
            FormParams::parse_query("a=1&a=2"),
            Err(Error::RepeatedParameter("a".into()))
        );
    }

    #[test]
    fn rejects_invalid_utf8() {
        assert_eq!(
            FormParams::parse(FORM, b"a=\xff"),
            Err(Error::MalformedForm)
        );
    }
}
