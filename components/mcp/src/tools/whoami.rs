//! `whoami`: the signed-in user, as the access token's grant records them.

use protocol::tool::{Annotations, Context, Tool, ToolError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
pub struct Input {}

#[derive(Serialize, JsonSchema)]
pub struct Output {
    /// The Clerk user id (`local:<name>` in local development).
    user_id: String,
    /// The Clerk session the sign-in came from, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
    /// The OAuth client the user approved.
    client_id: String,
    /// The scopes granted, space-separated.
    scope: String,
}

pub struct WhoAmI;

impl Tool for WhoAmI {
    const NAME: &'static str = "whoami";
    const DESCRIPTION: &'static str = "Returns the signed-in user's id and the grant's details.";
    const ANNOTATIONS: Annotations = Annotations::read_only("Who am I").closed_world();
    type Input = Input;
    type Output = Output;

    fn call(&self, _: Input, context: &Context) -> Result<Output, ToolError> {
        Ok(Output {
            user_id: context.user_id.clone(),
            session_id: context.session_id.clone(),
            client_id: context.client_id.clone(),
            scope: context.scope.clone(),
        })
    }
}
