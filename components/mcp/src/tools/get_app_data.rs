//! `get_app_data`: what the customer's app knows about the signed-in user
//! (`GET {app_url}/api/me`), called with a fresh Clerk token for that user.

use protocol::tool::{Annotations, Context, Tool, ToolError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::upstream::{Method, app_request};

#[derive(Deserialize, JsonSchema)]
pub struct Input {}

#[derive(Serialize, JsonSchema)]
pub struct Output {
    /// The app's answer (a JSON object), as it sent it.
    data: Map<String, Value>,
}

pub struct GetAppData;

impl Tool for GetAppData {
    const NAME: &'static str = "get_app_data";
    const DESCRIPTION: &'static str =
        "Fetches the signed-in user's data from the app (GET /api/me), as that user.";
    // It reads, but from the customer's app: what it returns is not ours to promise.
    const ANNOTATIONS: Annotations = Annotations::read_only("Get my data from the app");
    type Input = Input;
    type Output = Output;

    fn call(&self, _: Input, cx: &Context) -> Result<Output, ToolError> {
        match app_request(cx, Method::Get, "/api/me", None)? {
            Value::Object(data) => Ok(Output { data }),
            _ => Err("the app's /api/me answered JSON that is not an object".into()),
        }
    }
}
