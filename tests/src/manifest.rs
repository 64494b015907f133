//! `spin.toml`, manifest version 2, as Spin documents it.
//!
//! Parsing is strict in the way Spin's own is (unknown fields are errors), so a field the
//! project invents, or a typo, fails here rather than in front of a user running
//! `spin up`. Fields Spin accepts but this host has no use for are still modelled, so a
//! valid manifest is never refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub spin_manifest_version: u32,
    pub application: Application,
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    #[serde(default)]
    pub trigger: Triggers,
    #[serde(default)]
    pub component: BTreeMap<String, Component>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default)]
    pub tool: Option<toml::Table>,
}

/// An application variable (`[variables]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Triggers {
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
    /// Other trigger types; this host serves HTTP only and ignores them.
    #[serde(flatten)]
    pub other: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTrigger {
    #[serde(default)]
    pub id: Option<String>,
    pub component: String,
    pub route: Route,
    #[serde(default)]
    pub executor: Option<toml::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Route {
    Path(String),
    Private { private: bool },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub source: Source,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub files: Vec<toml::Value>,
    #[serde(default)]
    pub exclude_files: Vec<String>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    #[serde(default)]
    pub ai_models: Vec<String>,
    #[serde(default)]
    pub targets: Option<Vec<String>>,
    #[serde(default)]
    pub build: Option<Build>,
    #[serde(default)]
    pub tool: Option<toml::Table>,
    #[serde(default)]
    pub dependencies_inherit_configuration: bool,
    #[serde(default)]
    pub dependencies: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Source {
    Local(String),
    Remote(toml::Table),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    pub command: Command,
    #[serde(default)]
    pub workdir: Option<String>,
    #[serde(default)]
    pub watch: Vec<String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Command {
    One(String),
    Many(Vec<String>),
}

impl Manifest {
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let manifest: Manifest =
            toml::from_str(text).context("spin.toml is not a valid Spin manifest")?;
        manifest.validate()?;
        Ok(manifest)
    }

    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    /// The checks Spin makes when it loads an application.
    fn validate(&self) -> anyhow::Result<()> {
        ensure!(
            self.spin_manifest_version == 2,
            "spin_manifest_version must be 2, found {}",
            self.spin_manifest_version
        );
        for name in self.variables.keys() {
            ensure!(
                is_valid_variable_name(name),
                "invalid variable name {name:?}"
            );
        }
        for (name, variable) in &self.variables {
            ensure!(
                !(variable.required && variable.default.is_some()),
                "variable {name:?} cannot be both required and have a default"
            );
        }
        for (id, component) in &self.component {
            ensure!(is_valid_component_id(id), "invalid component id {id:?}");
            for name in component.variables.keys() {
                ensure!(
                    is_valid_variable_name(name),
                    "component {id:?}: invalid variable name {name:?}"
                );
            }
        }
        for trigger in &self.trigger.http {
            if !self.component.contains_key(&trigger.component) {
                bail!(
                    "trigger route {:?} names unknown component {:?}",
                    trigger.route,
                    trigger.component
                );
            }
        }
        Ok(())
    }

    /// The local `.wasm` path of a component, relative paths taken from `app_root`.
    pub fn component_source(&self, id: &str, app_root: &Path) -> anyhow::Result<PathBuf> {
        let component = self
            .component
            .get(id)
            .with_context(|| format!("no component {id:?}"))?;
        match &component.source {
            Source::Local(path) => Ok(app_root.join(path)),
            Source::Remote(_) => {
                bail!("component {id:?}: only local `source` paths can be run by the test host")
            }
        }
    }
}

/// Spin: variable names are lower-case letters, digits and underscores, starting with a letter.
pub fn is_valid_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Spin: component ids are kebab-case words of lower-case letters and digits.
fn is_valid_component_id(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|word| {
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        spin_manifest_version = 2
        [application]
        name = "app"
        [variables]
        greeting = { default = "hi" }
        [[trigger.http]]
        route = "/..."
        component = "web"
        [component.web]
        source = "web.wasm"
    "#;

    #[test]
    fn parses_a_minimal_manifest() {
        let m = Manifest::parse(MINIMAL).unwrap();
        assert_eq!(m.trigger.http.len(), 1);
        assert_eq!(m.variables["greeting"].default.as_deref(), Some("hi"));
    }

    #[test]
    fn rejects_invented_fields() {
        let bad = MINIMAL.replace(
            "source = \"web.wasm\"",
            "source = \"web.wasm\"\nroutes = []",
        );
        assert!(Manifest::parse(&bad).is_err());
        let bad = MINIMAL.replace("name = \"app\"", "name = \"app\"\nflavour = \"x\"");
        assert!(Manifest::parse(&bad).is_err());
    }

    #[test]
    fn rejects_unknown_component_and_version() {
        assert!(
            Manifest::parse(&MINIMAL.replace("component = \"web\"", "component = \"nope\""))
                .is_err()
        );
        assert!(Manifest::parse(&MINIMAL.replace("version = 2", "version = 1")).is_err());
    }

    #[test]
    fn names_follow_spin_rules() {
        assert!(is_valid_variable_name("base_url"));
        assert!(!is_valid_variable_name("Base_url"));
        assert!(!is_valid_variable_name("1x"));
        assert!(is_valid_component_id("auth"));
        assert!(is_valid_component_id("probe-a2"));
        assert!(!is_valid_component_id("Probe"));
        assert!(!is_valid_component_id("a--b"));
    }
}
