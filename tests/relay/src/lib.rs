//! A fixture component for the test host's composition tests: `GET /...?name=x` answers
//! with what the imported `test:probe/greet` says, so a test sees whether the host wired
//! the dependency as Spin does. Never deployed.

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

wit_bindgen::generate!({ path: "../probe/wit", world: "relay-imports", generate_all });

#[http_component]
fn handle(req: Request) -> Response {
    let name = req
        .query()
        .strip_prefix("name=")
        .unwrap_or("nobody")
        .to_owned();
    match test::probe::greet::greet(&name) {
        Ok(text) => Response::new(200, text),
        Err(e) => Response::new(500, e),
    }
}
