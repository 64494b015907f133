//! The tool API: a tool is a Rust type whose input and output schemas are derived from
//! its types (`schemars`), registered once in a [`Registry`].
//!
//! ```
//! use protocol::tool::{Context, Tool, ToolError};
//! use schemars::JsonSchema;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize, JsonSchema)]
//! pub struct Input {
//!     a: f64,
//!     b: f64,
//! }
//!
//! #[derive(Serialize, JsonSchema)]
//! pub struct Output {
//!     sum: f64,
//! }
//!
//! pub struct Add;
//!
//! impl Tool for Add {
//!     const NAME: &'static str = "add";
//!     const DESCRIPTION: &'static str = "Adds two numbers.";
//!     type Input = Input;
//!     type Output = Output;
//!     fn call(&self, input: Input, _: &Context) -> Result<Output, ToolError> {
//!         Ok(Output { sum: input.a + input.b })
//!     }
//! }
//!
//! let tools = protocol::tool::Registry::new().register(Add);
//! assert_eq!(tools.list()[0]["name"], "add");
//! ```

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

pub use crate::context::Context;

/// A failure the model should see (`isError: true`), not a protocol error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError(pub String);

impl<T: Into<String>> From<T> for ToolError {
    fn from(message: T) -> Self {
        ToolError(message.into())
    }
}

/// How clients may present and treat a tool (MCP `ToolAnnotations`). Hints, never
/// guarantees; clients apply the spec's defaults to whatever is left out (not read-only,
/// destructive, not idempotent, open-world), so every tool should say what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Annotations {
    /// A human-readable name for the tool's list.
    pub title: Option<&'static str>,
    /// It changes nothing.
    pub read_only: bool,
    /// When it does change something, it may destroy or overwrite data.
    pub destructive: bool,
    /// Calling it again with the same arguments has no further effect.
    pub idempotent: bool,
    /// It reaches outside this server (the customer's app, the web).
    pub open_world: bool,
}

impl Annotations {
    /// The spec's defaults: assume the worst.
    pub const DEFAULT: Self = Self {
        title: None,
        read_only: false,
        destructive: true,
        idempotent: false,
        open_world: true,
    };

    /// A tool that only reads: not destructive and idempotent by nature, still
    /// open-world until said otherwise.
    pub const fn read_only(title: &'static str) -> Self {
        Self {
            title: Some(title),
            read_only: true,
            destructive: false,
            idempotent: true,
            open_world: true,
        }
    }

    /// The same, touching nothing outside this server.
    pub const fn closed_world(self) -> Self {
        Self {
            open_world: false,
            ..self
        }
    }

    fn to_json(self) -> Value {
        let mut hints = json!({
            "readOnlyHint": self.read_only,
            "destructiveHint": self.destructive,
            "idempotentHint": self.idempotent,
            "openWorldHint": self.open_world,
        });
        if let Some(title) = self.title {
            hints["title"] = json!(title);
        }
        hints
    }
}

pub trait Tool {
    const NAME: &'static str;
    const DESCRIPTION: &'static str;
    /// What the tool does to the world, for clients that ask before calling it.
    const ANNOTATIONS: Annotations = Annotations::DEFAULT;
    type Input: DeserializeOwned + JsonSchema;
    type Output: Serialize + JsonSchema;
    /// Arguments that 2026-07-28 clients also send as `Mcp-Param-<Header>` headers, so
    /// that proxies can route on them without reading the body: `(property, Header)`.
    /// Each becomes an `x-mcp-header` in the input schema, and the server refuses a call
    /// whose header disagrees with its argument.
    const PARAM_HEADERS: &'static [(&'static str, &'static str)] = &[];

    fn call(&self, input: Self::Input, context: &Context) -> Result<Self::Output, ToolError>;
}

/// The outcome of `tools/call` for a known tool.
pub type CallResult = Value;

type Handler = Box<dyn Fn(Value, &Context) -> CallResult>;

struct Entry {
    name: &'static str,
    description: &'static str,
    annotations: Option<Annotations>,
    input_schema: Schema,
    /// `(property, Header)` pairs a derived schema gets as `x-mcp-header`; a given
    /// schema carries its own.
    param_headers: &'static [(&'static str, &'static str)],
    output_schema: Option<Schema>,
    call: Handler,
}

/// A tool's schema. Derived ones are generated only when `tools/list` asks: the
/// registry is built for every request, and most requests are calls.
enum Schema {
    Derived(fn() -> Value),
    Given(Value),
}

impl Schema {
    fn to_value(&self) -> Value {
        match self {
            Schema::Derived(generate) => generate(),
            Schema::Given(schema) => schema.clone(),
        }
    }
}

/// Every tool the server offers, in registration order.
#[derive(Default)]
pub struct Registry {
    tools: Vec<Entry>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register<T: Tool + 'static>(mut self, tool: T) -> Self {
        let call = move |arguments: Value, context: &Context| -> CallResult {
            let input = match serde_json::from_value::<T::Input>(arguments) {
                Ok(input) => input,
                Err(e) => return error_result(&format!("invalid arguments: {e}")),
            };
            match tool.call(input, context) {
                Ok(output) => match serde_json::to_value(&output) {
                    Ok(structured) => json!({
                        "content": [{ "type": "text", "text": structured.to_string() }],
                        "structuredContent": structured,
                        "isError": false,
                    }),
                    Err(e) => error_result(&format!("the result could not be encoded: {e}")),
                },
                Err(ToolError(message)) => error_result(&message),
            }
        };
        self.tools.push(Entry {
            name: T::NAME,
            description: T::DESCRIPTION,
            annotations: Some(T::ANNOTATIONS),
            input_schema: Schema::Derived(input_schema::<T::Input>),
            param_headers: T::PARAM_HEADERS,
            output_schema: Some(Schema::Derived(output_schema::<T::Output>)),
            call: Box::new(call),
        });
        self
    }

    /// Registers a tool that builds its whole result itself (any content blocks, no
    /// structured output): for tools whose answers are images, audio or resources.
    pub fn register_raw(
        mut self,
        name: &'static str,
        description: &'static str,
        input_schema: Value,
        call: impl Fn(Value, &Context) -> Result<Value, ToolError> + 'static,
    ) -> Self {
        self.tools.push(Entry {
            name,
            description,
            annotations: None,
            input_schema: Schema::Given(input_schema),
            param_headers: &[],
            output_schema: None,
            call: Box::new(move |arguments, context| {
                call(arguments, context).unwrap_or_else(|ToolError(message)| error_result(&message))
            }),
        });
        self
    }

    /// The `tools/list` entries.
    pub fn list(&self) -> Vec<Value> {
        self.page(0, self.tools.len())
    }

    pub fn len(&self) -> usize {
        self.tools.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// The `tools/list` entries from `start`, at most `count` of them.
    pub fn page(&self, start: usize, count: usize) -> Vec<Value> {
        self.tools
            .iter()
            .skip(start)
            .take(count)
            .map(Entry::describe)
            .collect()
    }

    /// The arguments of tool `name` that must be repeated in headers, as
    /// `(property, header)`; `None` when there is no such tool.
    pub fn param_headers(&self, name: &str) -> Option<Vec<(String, String)>> {
        let tool = self.tools.iter().find(|t| t.name == name)?;
        Some(match &tool.input_schema {
            Schema::Derived(_) => tool
                .param_headers
                .iter()
                .map(|(property, header)| ((*property).to_owned(), (*header).to_owned()))
                .collect(),
            Schema::Given(schema) => headers_in(schema),
        })
    }

    /// Calls the tool `name`; `None` when there is no such tool.
    pub fn call(&self, name: &str, arguments: Value, context: &Context) -> Option<CallResult> {
        let tool = self.tools.iter().find(|t| t.name == name)?;
        Some((tool.call)(arguments, context))
    }
}

impl Entry {
    fn describe(&self) -> Value {
        let mut input_schema = self.input_schema.to_value();
        for (property, header) in self.param_headers {
            if let Some(declared) = input_schema["properties"].get_mut(*property) {
                declared["x-mcp-header"] = json!(header);
            }
        }
        let mut tool = json!({
            "name": self.name,
            "description": self.description,
            "inputSchema": input_schema,
        });
        if let Some(annotations) = self.annotations {
            if let Some(title) = annotations.title {
                tool["title"] = json!(title);
            }
            tool["annotations"] = annotations.to_json();
        }
        if let Some(output) = &self.output_schema {
            tool["outputSchema"] = output.to_value();
        }
        tool
    }
}

/// The `x-mcp-header` declarations among a schema's top-level properties.
fn headers_in(schema: &Value) -> Vec<(String, String)> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    properties
        .iter()
        .filter_map(|(property, declared)| {
            let header = declared.get("x-mcp-header")?.as_str()?;
            Some((property.clone(), header.to_owned()))
        })
        .collect()
}

/// A tool result holding one text block.
pub fn text_result(text: &str) -> Value {
    json!({ "content": [{ "type": "text", "text": text }] })
}

fn error_result(message: &str) -> CallResult {
    json!({ "content": [{ "type": "text", "text": message }], "isError": true })
}

/// The input schema of `T`, in the form strict clients accept (see [`crate::schema`]):
/// every argument listed in `required`, optional ones as nullable.
fn input_schema<T: JsonSchema>() -> Value {
    let mut schema = derived_schema::<T>(schemars::generate::SchemaSettings::draft2020_12());
    crate::schema::make_portable(&mut schema, crate::schema::Contract::Input);
    schema
}

/// The output schema of `T`, as `T` serialises (a field skipped when empty is optional).
fn output_schema<T: JsonSchema>() -> Value {
    let settings = schemars::generate::SchemaSettings::draft2020_12().for_serialize();
    let mut schema = derived_schema::<T>(settings);
    crate::schema::make_portable(&mut schema, crate::schema::Contract::Output);
    schema
}

/// The JSON Schema of `T`, inlined (MCP schemas must be self-contained objects).
fn derived_schema<T: JsonSchema>(settings: schemars::generate::SchemaSettings) -> Value {
    let generator = settings
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    if let Value::Object(fields) = &mut schema {
        fields.remove("$schema");
        fields.remove("title");
        fields.entry("type").or_insert_with(|| json!("object"));
    }
    schema
}

/// `params.arguments`, defaulting to an empty object.
pub fn arguments(params: &Map<String, Value>) -> Value {
    params
        .get("arguments")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, JsonSchema)]
    struct Pair {
        /// The first number.
        a: f64,
        b: f64,
    }

    #[derive(Serialize, JsonSchema)]
    struct Sum {
        sum: f64,
    }

    struct Add;

    impl Tool for Add {
        const NAME: &'static str = "add";
        const DESCRIPTION: &'static str = "Adds.";
        type Input = Pair;
        type Output = Sum;
        fn call(&self, input: Pair, _: &Context) -> Result<Sum, ToolError> {
            if input.a.is_nan() {
                return Err("not a number".into());
            }
            Ok(Sum {
                sum: input.a + input.b,
            })
        }
    }

    #[test]
    fn schemas_come_from_the_types() {
        let list = Registry::new().register(Add).list();
        assert_eq!(list[0]["name"], "add");
        let input = &list[0]["inputSchema"];
        assert_eq!(input["type"], "object");
        assert_eq!(input["properties"]["a"]["type"], "number");
        assert_eq!(input["properties"]["a"]["description"], "The first number.");
        assert_eq!(input["required"], json!(["a", "b"]));
        assert!(input.get("$schema").is_none());
        assert_eq!(
            list[0]["outputSchema"]["properties"]["sum"]["type"],
            "number"
        );
    }

    #[test]
    fn calls_return_structured_content_or_tool_errors() {
        let tools = Registry::new().register(Add);
        let silent = crate::context::Silent;
        let context = || crate::context::testing::context(&silent);
        let ok = tools
            .call("add", json!({"a": 2, "b": 3}), &context())
            .unwrap();
        assert_eq!(ok["structuredContent"], json!({"sum": 5.0}));
        assert_eq!(ok["content"][0]["text"], r#"{"sum":5.0}"#);
        assert_eq!(ok["isError"], false);
        let bad = tools.call("add", json!({"a": "x"}), &context()).unwrap();
        assert_eq!(bad["isError"], true);
        assert!(
            bad["content"][0]["text"]
                .as_str()
                .unwrap()
                .starts_with("invalid arguments")
        );
        assert!(tools.call("nope", json!({}), &context()).is_none());
    }

    struct Routed;

    impl Tool for Routed {
        const NAME: &'static str = "routed";
        const DESCRIPTION: &'static str = "Has a header.";
        const PARAM_HEADERS: &'static [(&'static str, &'static str)] = &[("a", "First")];
        type Input = Pair;
        type Output = Sum;
        fn call(&self, input: Pair, _: &Context) -> Result<Sum, ToolError> {
            Ok(Sum { sum: input.a })
        }
    }

    #[test]
    fn header_parameters_are_declared_in_the_schema_and_known_at_call_time() {
        let tools = Registry::new().register(Routed).register_raw(
            "raw",
            "Given schema.",
            json!({"type": "object", "properties": {"r": {"type": "string", "x-mcp-header": "Region"}, "s": {"type": "string"}}}),
            |_, _| Ok(text_result("ok")),
        );
        let list = tools.list();
        assert_eq!(
            list[0]["inputSchema"]["properties"]["a"]["x-mcp-header"],
            "First"
        );
        assert!(
            list[0]["inputSchema"]["properties"]["b"]
                .get("x-mcp-header")
                .is_none()
        );
        let pair = |p: &str, h: &str| vec![(p.to_owned(), h.to_owned())];
        assert_eq!(tools.param_headers("routed"), Some(pair("a", "First")));
        assert_eq!(tools.param_headers("raw"), Some(pair("r", "Region")));
        assert_eq!(tools.param_headers("nope"), None);
    }
}
