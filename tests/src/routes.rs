//! HTTP routing from `[[trigger.http]]`, with the `routefinder` crate that Spin itself
//! routes with, so precedence is Spin's: exact routes beat wildcards, and among wildcards
//! the longest prefix wins.

use anyhow::{Context, bail};

use crate::manifest::{Manifest, Route};

#[derive(Debug, Clone)]
struct Handler {
    component: String,
    /// The route as written in the manifest, e.g. `/.well-known/foo/...`.
    raw_route: String,
}

pub struct Router(routefinder::Router<Handler>);

/// The outcome of routing one request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    pub component: String,
    /// `spin-matched-route` and `spin-raw-component-route`: the route as written.
    pub raw_route: String,
    /// `spin-component-route`: the route without its trailing `/...`.
    pub component_route: String,
    /// `spin-path-info`: the part of the path the trailing wildcard matched.
    pub path_info: String,
}

impl Router {
    pub fn build(manifest: &Manifest) -> anyhow::Result<Self> {
        let mut router = routefinder::Router::new();
        let mut seen = std::collections::BTreeSet::new();
        for trigger in &manifest.trigger.http {
            let raw = match &trigger.route {
                Route::Path(p) => p.clone(),
                Route::Private { private: true } => continue,
                Route::Private { private: false } => {
                    bail!(
                        "component {:?}: a route must be a path or `{{ private = true }}`",
                        trigger.component
                    )
                }
            };
            if !seen.insert(raw.clone()) {
                bail!("route {raw:?} is declared twice");
            }
            let spec = match raw.strip_suffix("/...") {
                Some(prefix) => format!("{prefix}/*"),
                None => raw.clone(),
            };
            let handler = Handler {
                component: trigger.component.clone(),
                raw_route: raw.clone(),
            };
            router
                .add(spec.as_str(), handler)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| format!("route {raw:?}"))?;
        }
        Ok(Self(router))
    }

    /// Routes a request path (without query); `None` is a 404.
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let best = self.0.best_match(path)?;
        let handler = best.handler();
        // Spin keeps a trailing slash that routefinder drops (see its `trailing_wildcard`).
        let path_info = match best.captures().wildcard() {
            Some(rest) => match (rest.is_empty(), path.ends_with('/')) {
                (true, false) => String::new(),
                (true, true) => "/".to_owned(),
                (false, false) => format!("/{rest}"),
                (false, true) => format!("/{rest}/"),
            },
            None => String::new(),
        };
        let component_route = handler
            .raw_route
            .strip_suffix("/...")
            .unwrap_or(&handler.raw_route)
            .to_owned();
        Some(RouteMatch {
            component: handler.component.clone(),
            raw_route: handler.raw_route.clone(),
            component_route,
            path_info,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        let mut text = String::from("spin_manifest_version = 2\n[application]\nname = \"a\"\n");
        for (route, component) in routes {
            text.push_str(&format!(
                "[[trigger.http]]\nroute = \"{route}\"\ncomponent = \"{component}\"\n"
            ));
        }
        let mut ids: Vec<_> = routes.iter().map(|(_, c)| *c).collect();
        ids.dedup();
        for id in ids {
            text.push_str(&format!("[component.{id}]\nsource = \"{id}.wasm\"\n"));
        }
        Router::build(&Manifest::parse(&text).unwrap()).unwrap()
    }

    #[test]
    fn exact_beats_wildcard_and_longest_prefix_wins() {
        let r = router(&[
            ("/...", "all"),
            ("/one", "exact"),
            ("/one/...", "one"),
            ("/one/two/...", "two"),
        ]);
        assert_eq!(r.route("/one").unwrap().component, "exact");
        assert_eq!(r.route("/one/x").unwrap().component, "one");
        assert_eq!(r.route("/one/two/three").unwrap().component, "two");
        assert_eq!(r.route("/other").unwrap().component, "all");
    }

    #[test]
    fn unrouted_paths_do_not_match() {
        let r = router(&[("/mcp", "mcp"), ("/a/...", "a")]);
        assert!(r.route("/").is_none());
        assert!(r.route("/mcp/extra").is_none());
        assert!(r.route("/b").is_none());
    }

    #[test]
    fn match_carries_the_values_spin_puts_in_headers() {
        let r = router(&[("/foo/...", "foo")]);
        let m = r.route("/foo/bar/").unwrap();
        assert_eq!(m.raw_route, "/foo/...");
        assert_eq!(m.component_route, "/foo");
        assert_eq!(m.path_info, "/bar/");
        assert_eq!(r.route("/foo").unwrap().path_info, "");
        assert_eq!(r.route("/foo/").unwrap().path_info, "/");
    }
}
