//! `get_app_data`: what the customer's app knows about the signed-in user
//! (`GET {app_url}/api/me`), called with a fresh Clerk token for that user.

use protocol::tool::{Context, Tool, ToolError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::upstream::{Method, app_request};

#[derive(Deserialize, JsonSchema)]
pub struct Input {}

#[derive(Serialize, JsonSchema)]
pub struct Output {
    /// The app's answer, as it sent it.
    data: Value,
}

pub struct GetAppData;

impl Tool for GetAppData {
    const NAME: &'static str = "get_app_data";
    const DESCRIPTION: &'static str =
        "Fetches the signed-in user's data from the app (GET /api/me), as that user.";
    type Input = Input;
    type Output = Output;

    fn call(&self, _: Input, cx: &Context) -> Result<Output, ToolError> {
        let data = app_request(cx, Method::Get, "/api/me", None)?;
        Ok(Output { data })
    }
}
