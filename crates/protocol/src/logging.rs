//! Log levels (RFC 5424 severities, as MCP's `logging/setLevel` names them).

use serde_json::{Map, Value};

use crate::jsonrpc::{Error, code};

/// Ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Notice,
    Warning,
    Error,
    Critical,
    Alert,
    Emergency,
}

const NAMES: [(&str, Level); 8] = [
    ("debug", Level::Debug),
    ("info", Level::Info),
    ("notice", Level::Notice),
    ("warning", Level::Warning),
    ("error", Level::Error),
    ("critical", Level::Critical),
    ("alert", Level::Alert),
    ("emergency", Level::Emergency),
];

impl Level {
    pub fn parse(name: &str) -> Option<Level> {
        NAMES.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
    }

    pub fn as_str(self) -> &'static str {
        NAMES
            .iter()
            .find(|(_, l)| *l == self)
            .map_or("info", |(n, _)| n)
    }
}

/// The level of a `logging/setLevel` request.
pub fn requested_level(params: &Map<String, Value>) -> Result<Level, Error> {
    params
        .get("level")
        .and_then(Value::as_str)
        .and_then(Level::parse)
        .ok_or_else(|| {
            Error::new(
                code::INVALID_PARAMS,
                "params.level must be one of debug, info, notice, warning, error, critical, alert, emergency",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn levels_parse_and_order() {
        assert!(Level::Debug < Level::Emergency);
        assert_eq!(Level::parse("warning"), Some(Level::Warning));
        assert_eq!(Level::Warning.as_str(), "warning");
        assert_eq!(Level::parse("WARN"), None);
        let params = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(
            requested_level(&params(json!({"level": "info"}))),
            Ok(Level::Info)
        );
        assert_eq!(
            requested_level(&params(json!({"level": 3})))
                .unwrap_err()
                .code,
            code::INVALID_PARAMS
        );
    }
}
