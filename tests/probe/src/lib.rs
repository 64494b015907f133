//! A fixture component for the test host's own tests: it exposes the Spin interfaces
//! (key-value, variables, outbound HTTP, the request as Spin delivers it, streaming) over
//! HTTP so that tests can check the host implements them as Spin does. Never deployed.

use futures::SinkExt;

wit_bindgen::generate!({ path: "wit", world: "probe-exports", generate_all });

/// The `greet` export: when composed into another component with inherited
/// configuration, it reads that component's variables.
struct Greeter;

impl exports::test::probe::greet::Guest for Greeter {
    fn greet(name: String) -> Result<String, String> {
        let greeting = variables::get("greeting").map_err(|e| format!("{e:?}"))?;
        Ok(format!("{greeting}, {name}"))
    }
}

export!(Greeter);
use spin_sdk::http::{self, Fields, IncomingRequest, OutgoingResponse, ResponseOutparam};
use spin_sdk::{http_component, key_value::Store, variables};

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    let path = req.path_with_query().unwrap_or_default();
    let (path, query) = path.split_once('?').unwrap_or((&path, ""));
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = req.method();
    let (status, body) = match (method, segments.as_slice()) {
        (http::Method::Get, [_, "headers"]) => {
            let headers: Vec<(String, String)> = req
                .headers()
                .entries()
                .into_iter()
                .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
                .collect();
            (200, serde_json::to_string(&headers).unwrap())
        }
        (http::Method::Get, [_, "kv", store, key]) => match Store::open(store) {
            Ok(s) => match s.get(key) {
                Ok(Some(v)) => (200, String::from_utf8_lossy(&v).into_owned()),
                Ok(None) => (404, "absent".into()),
                Err(e) => (500, format!("{e:?}")),
            },
            Err(e) => (403, format!("{e:?}")),
        },
        (http::Method::Put, [_, "kv", store, key]) => {
            let value = req.into_body().await.unwrap_or_default();
            match Store::open(store) {
                Ok(s) => match s.set(key, &value) {
                    Ok(()) => (204, String::new()),
                    Err(e) => (500, format!("{e:?}")),
                },
                Err(e) => (403, format!("{e:?}")),
            }
        }
        (http::Method::Get, [_, "var", name]) => match variables::get(name) {
            Ok(v) => (200, v),
            Err(e) => (404, format!("{e:?}")),
        },
        (http::Method::Get, [_, "outbound"]) => outbound(query_value(query, "url")).await,
        (http::Method::Get, [_, "stream"]) => {
            return stream(query_value(query, "gate"), out).await;
        }
        _ => (404, "no such probe".into()),
    };
    respond(out, status, body.into_bytes()).await;
}

/// Fetches `url` and reports its status and body, or the error Spin's outbound HTTP
/// gave (e.g. `HttpRequestDenied` for a host not in `allowed_outbound_hosts`).
async fn outbound(url: String) -> (u16, String) {
    let request = http::Request::get(url).build();
    match http::send::<_, http::Response>(request).await {
        Ok(resp) => (
            200,
            format!("{} {}", resp.status(), String::from_utf8_lossy(resp.body())),
        ),
        Err(e) => (502, format!("{e:?}")),
    }
}

/// Writes `first`, then waits on an outbound request to `gate` (which the test answers
/// only once it has read `first`), then writes `second`: a host that buffered the body
/// would deadlock instead of delivering `first` early.
async fn stream(gate: String, out: ResponseOutparam) {
    let headers =
        Fields::from_list(&[("content-type".to_owned(), b"text/event-stream".to_vec())]).unwrap();
    let response = OutgoingResponse::new(headers);
    let mut body = response.take_body();
    out.set(response);
    let _ = body.send(b"data: first\n\n".to_vec()).await;
    let gate_result = outbound(gate).await;
    let _ = body
        .send(format!("data: second {}\n\n", gate_result.0).into_bytes())
        .await;
}

async fn respond(out: ResponseOutparam, status: u16, body: Vec<u8>) {
    let headers =
        Fields::from_list(&[("content-type".to_owned(), b"text/plain".to_vec())]).unwrap();
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(status);
    let mut sink = response.take_body();
    out.set(response);
    let _ = sink.send(body).await;
}

fn query_value(query: &str, name: &str) -> String {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.replace("%3A", ":").replace("%2F", "/"))
        .unwrap_or_default()
}
