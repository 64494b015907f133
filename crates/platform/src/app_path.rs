//! Paths under the customer's app (`app_url`) that tools may call: only absolute paths
//! that stay beneath it.

use url::Url;

/// `path` ("/api/me") under `app`; `None` for anything that would leave it: relative
/// paths, `..` (also percent-encoded), `//host`, backslashes, full URLs.
pub fn resolve(app: &Url, path: &str) -> Option<Url> {
    let relative = path.strip_prefix('/')?;
    let escapes = relative.starts_with('/')
        || relative.contains('\\')
        || relative.split(['/', '?', '#']).any(|segment| {
            let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
            decoded == ".." || decoded == "."
        });
    if escapes {
        return None;
    }
    let mut base = app.clone();
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    let url = base.join(relative).ok()?;
    (url.origin() == app.origin() && url.path().starts_with(base.path())).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_app_url() {
        let app = Url::parse("https://app.example/base").unwrap();
        let ok = |p: &str| resolve(&app, p).unwrap().to_string();
        assert_eq!(ok("/api/me"), "https://app.example/base/api/me");
        assert_eq!(
            ok("/api/items?q=a/b"),
            "https://app.example/base/api/items?q=a/b"
        );
        let root = Url::parse("http://127.0.0.1:3001").unwrap();
        assert_eq!(
            resolve(&root, "/api/me").unwrap().as_str(),
            "http://127.0.0.1:3001/api/me"
        );
        for bad in [
            "../admin",
            "/../admin",
            "/api/../../admin",
            "/api/%2E%2E/admin",
            "/api/./me",
            "//evil.example/x",
            "https://evil.example/x",
            "api/me",
            "/a\\..\\b",
        ] {
            assert!(resolve(&app, bad).is_none(), "{bad}");
        }
    }
}
