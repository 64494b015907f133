//! `add`: adds two numbers (an example of typed input and structured output).

use protocol::tool::{Annotations, Context, Tool, ToolError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
pub struct Input {
    /// The first addend.
    a: f64,
    /// The second addend.
    b: f64,
}

#[derive(Serialize, JsonSchema)]
pub struct Output {
    sum: f64,
}

pub struct Add;

impl Tool for Add {
    const NAME: &'static str = "add";
    const DESCRIPTION: &'static str = "Adds two numbers.";
    const ANNOTATIONS: Annotations = Annotations::read_only("Add two numbers").closed_world();
    type Input = Input;
    type Output = Output;

    fn call(&self, input: Input, _: &Context) -> Result<Output, ToolError> {
        let sum = input.a + input.b;
        if !sum.is_finite() {
            return Err("the sum is too large to represent".into());
        }
        Ok(Output { sum })
    }
}
