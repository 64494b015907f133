//! Prompts: named message templates with string arguments, and completion of those
//! arguments' values.

use serde_json::{Map, Value, json};

use crate::context::Context;
use crate::jsonrpc::{Error, code};

/// One declared argument of a prompt.
pub struct Argument {
    pub name: &'static str,
    pub description: &'static str,
    pub required: bool,
}

/// The arguments a `prompts/get` supplied, by name.
pub type Arguments = Map<String, Value>;

type Getter = Box<dyn Fn(&Arguments, &Context) -> Vec<Value>>;
type Completer = Box<dyn Fn(&str, &str) -> Vec<String>>;

struct Entry {
    name: &'static str,
    description: &'static str,
    arguments: Vec<Argument>,
    get: Getter,
    complete: Option<Completer>,
}

#[derive(Default)]
pub struct Prompts {
    prompts: Vec<Entry>,
}

/// A message of `role` holding `content` (a content block).
pub fn message(role: &str, content: Value) -> Value {
    json!({ "role": role, "content": content })
}

impl Prompts {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.prompts.is_empty()
    }

    pub fn add(
        mut self,
        name: &'static str,
        description: &'static str,
        arguments: Vec<Argument>,
        get: impl Fn(&Arguments, &Context) -> Vec<Value> + 'static,
    ) -> Self {
        self.prompts.push(Entry {
            name,
            description,
            arguments,
            get: Box::new(get),
            complete: None,
        });
        self
    }

    /// Completes the values of the last added prompt's arguments:
    /// `complete(argument, prefix)` returns candidates.
    pub fn completing(mut self, complete: impl Fn(&str, &str) -> Vec<String> + 'static) -> Self {
        if let Some(last) = self.prompts.last_mut() {
            last.complete = Some(Box::new(complete));
        }
        self
    }

    pub fn list(&self) -> Vec<Value> {
        self.prompts
            .iter()
            .map(|p| {
                let arguments: Vec<Value> = p
                    .arguments
                    .iter()
                    .map(|a| json!({ "name": a.name, "description": a.description, "required": a.required }))
                    .collect();
                json!({ "name": p.name, "description": p.description, "arguments": arguments })
            })
            .collect()
    }

    pub fn get(&self, params: &Map<String, Value>, context: &Context) -> Result<Value, Error> {
        let invalid = |message: String| Error::new(code::INVALID_PARAMS, message);
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("params.name must be a prompt name".into()))?;
        let prompt = self
            .prompts
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| invalid(format!("unknown prompt {name:?}")))?;
        let arguments = match params.get("arguments") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(arguments)) => arguments.clone(),
            Some(_) => return Err(invalid("params.arguments must be an object".into())),
        };
        for declared in &prompt.arguments {
            match arguments.get(declared.name) {
                Some(Value::String(_)) => {}
                None if !declared.required => {}
                None => {
                    return Err(invalid(format!(
                        "missing required argument {:?}",
                        declared.name
                    )));
                }
                Some(_) => {
                    return Err(invalid(format!(
                        "argument {:?} must be a string",
                        declared.name
                    )));
                }
            }
        }
        Ok(json!({
            "description": prompt.description,
            "messages": (prompt.get)(&arguments, context),
        }))
    }

    /// Candidate values for `argument` of prompt `name` starting from `value`; `None`
    /// for an unknown prompt.
    pub fn complete(&self, name: &str, argument: &str, value: &str) -> Option<Vec<String>> {
        let prompt = self.prompts.iter().find(|p| p.name == name)?;
        Some(
            prompt
                .complete
                .as_ref()
                .map(|complete| complete(argument, value))
                .unwrap_or_default(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompts() -> Prompts {
        Prompts::new()
            .add(
                "greet",
                "Greets someone.",
                vec![Argument {
                    name: "who",
                    description: "Whom to greet",
                    required: true,
                }],
                |args, _| {
                    let who = args["who"].as_str().unwrap_or_default();
                    vec![message(
                        "user",
                        json!({"type": "text", "text": format!("Hello {who}")}),
                    )]
                },
            )
            .completing(|_, prefix| {
                ["world", "wasm"]
                    .iter()
                    .filter(|v| v.starts_with(prefix))
                    .map(|v| v.to_string())
                    .collect()
            })
    }

    #[test]
    fn get_checks_arguments() {
        let silent = crate::context::Silent;
        let cx = crate::context::testing::context(&silent);
        let params = |v: Value| v.as_object().cloned().unwrap();
        let ok = prompts()
            .get(
                &params(json!({"name": "greet", "arguments": {"who": "you"}})),
                &cx,
            )
            .unwrap();
        assert_eq!(ok["messages"][0]["content"]["text"], "Hello you");
        for bad in [
            json!({"name": "greet"}),
            json!({"name": "greet", "arguments": {"who": 3}}),
            json!({"name": "nope"}),
            json!({"name": "greet", "arguments": []}),
        ] {
            assert_eq!(
                prompts().get(&params(bad), &cx).unwrap_err().code,
                code::INVALID_PARAMS
            );
        }
    }

    #[test]
    fn completion_filters_by_prefix() {
        assert_eq!(
            prompts().complete("greet", "who", "wa"),
            Some(vec!["wasm".into()])
        );
        assert_eq!(prompts().complete("nope", "who", ""), None);
        assert_eq!(prompts().list()[0]["arguments"][0]["required"], true);
    }
}
