//! Spin's runtime-config file (`spin up --runtime-config-file`), the part this project
//! uses: `[key_value_store.<label>]` tables, `type = "spin"` (SQLite, with an optional
//! `path`, relative to the file's directory) or `type = "redis"` (with a `url`). Any
//! other table or store type is refused rather than ignored, so a config the host cannot
//! honour never runs differently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    Spin { path: Option<PathBuf> },
    Redis { url: String },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    pub key_value_stores: BTreeMap<String, StoreConfig>,
}

impl RuntimeConfig {
    /// Parses `text`; relative paths are taken from `dir` (the file's directory).
    pub fn parse(text: &str, dir: &Path) -> anyhow::Result<Self> {
        let table: toml::Table = toml::from_str(text).context("runtime config is not TOML")?;
        let mut config = Self::default();
        for (section, value) in table {
            if section != "key_value_store" {
                bail!("runtime config: [{section}] is not supported by the test host");
            }
            let stores = value
                .as_table()
                .context("runtime config: key_value_store must be a table of stores")?;
            for (label, store) in stores {
                let store = store.as_table().with_context(|| {
                    format!("runtime config: key_value_store.{label} must be a table")
                })?;
                config
                    .key_value_stores
                    .insert(label.clone(), store_config(label, store, dir)?);
            }
        }
        Ok(config)
    }

    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, dir).with_context(|| format!("in {}", path.display()))
    }
}

fn store_config(label: &str, store: &toml::Table, dir: &Path) -> anyhow::Result<StoreConfig> {
    let field = |name: &str| store.get(name).and_then(toml::Value::as_str);
    let allowed: &[&str] = match field("type") {
        Some("spin") => &["type", "path"],
        Some("redis") => &["type", "url"],
        Some(other) => bail!(
            "key_value_store.{label}: type {other:?} is not supported by the test host (spin, redis)"
        ),
        None => bail!("key_value_store.{label}: `type` is required"),
    };
    if let Some(unknown) = store.keys().find(|k| !allowed.contains(&k.as_str())) {
        bail!("key_value_store.{label}: `{unknown}` is not supported by the test host");
    }
    Ok(match field("type") {
        Some("redis") => StoreConfig::Redis {
            url: field("url")
                .with_context(|| format!("key_value_store.{label}: `url` is required"))?
                .to_owned(),
        },
        _ => StoreConfig::Spin {
            path: field("path").map(|p| dir.join(p)),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_and_sqlite_stores_are_read_and_anything_else_refused() {
        let config = RuntimeConfig::parse(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n\
             [key_value_store.cache]\ntype = \"spin\"\npath = \"cache.db\"\n",
            Path::new("/app"),
        )
        .unwrap();
        assert_eq!(
            config.key_value_stores["default"],
            StoreConfig::Redis {
                url: "redis://127.0.0.1:6379".into()
            }
        );
        assert_eq!(
            config.key_value_stores["cache"],
            StoreConfig::Spin {
                path: Some("/app/cache.db".into())
            }
        );
        for refused in [
            "[sqlite_database.default]\ntype = \"spin\"\n",
            "[key_value_store.default]\ntype = \"azure_cosmos\"\n",
            "[key_value_store.default]\ntype = \"redis\"\n",
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://x\"\ntls = true\n",
            "[key_value_store.default]\nurl = \"redis://x\"\n",
            "not toml [",
        ] {
            assert!(
                RuntimeConfig::parse(refused, Path::new("/")).is_err(),
                "{refused}"
            );
        }
    }
}
