//! Spin application variables: manifest defaults, overridden the way `spin up` overrides
//! them (`SPIN_VARIABLE_<NAME>` environment variables, or values a test passes), and the
//! `{{ name }}` templates that component variables and outbound hosts are written in.

use std::collections::BTreeMap;

use anyhow::{Context, bail};

use crate::manifest::{Manifest, is_valid_variable_name};

/// Resolved application variables.
#[derive(Debug, Clone, Default)]
pub struct AppVariables(BTreeMap<String, String>);

impl AppVariables {
    /// Resolves every application variable. Overrides win over the environment, which
    /// wins over manifest defaults; a required variable with no value is an error, as it
    /// is when Spin starts the app.
    pub fn resolve(
        manifest: &Manifest,
        overrides: &BTreeMap<String, String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        for name in overrides.keys() {
            if !manifest.variables.contains_key(name) {
                bail!("variable {name:?} is not declared in [variables]");
            }
        }
        let mut values = BTreeMap::new();
        for (name, decl) in &manifest.variables {
            let value = overrides
                .get(name)
                .cloned()
                .or_else(|| env(&format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase())))
                .or_else(|| decl.default.clone());
            match value {
                Some(value) => {
                    values.insert(name.clone(), value);
                }
                None if decl.required => bail!("required variable {name:?} has no value"),
                None => {}
            }
        }
        Ok(Self(values))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Expands `{{ name }}` references to application variables.
    pub fn expand(&self, template: &str) -> anyhow::Result<String> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .with_context(|| format!("unterminated `{{{{` in {template:?}"))?;
            let name = after[..end].trim();
            if !is_valid_variable_name(name) {
                bail!("invalid variable reference {name:?} in {template:?}");
            }
            let value = self.get(name).with_context(|| {
                format!("template {template:?} refers to undefined variable {name:?}")
            })?;
            out.push_str(value);
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// One component's variables, each expanded from its template.
#[derive(Debug, Clone, Default)]
pub struct ComponentVariables(BTreeMap<String, String>);

/// Mirrors `fermyon:spin/variables.error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    InvalidName(String),
    Undefined(String),
}

impl ComponentVariables {
    pub fn resolve(
        templates: &BTreeMap<String, String>,
        app: &AppVariables,
    ) -> anyhow::Result<Self> {
        templates
            .iter()
            .map(|(name, template)| {
                let value = app
                    .expand(template)
                    .with_context(|| format!("component variable {name:?}"))?;
                Ok((name.clone(), value))
            })
            .collect::<anyhow::Result<_>>()
            .map(Self)
    }

    pub fn get(&self, name: &str) -> Result<String, LookupError> {
        if !is_valid_variable_name(name) {
            return Err(LookupError::InvalidName(format!(
                "{name:?} is not a valid variable name"
            )));
        }
        self.0
            .get(name)
            .cloned()
            .ok_or_else(|| LookupError::Undefined(format!("no variable for {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest::parse(
            r#"
            spin_manifest_version = 2
            [application]
            name = "app"
            [variables]
            host = { default = "example.com" }
            port = { default = "80" }
            token = { required = true, secret = true }
            "#,
        )
        .unwrap()
    }

    fn overrides(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn overrides_beat_environment_beat_defaults() {
        let env = |name: &str| {
            (name == "SPIN_VARIABLE_PORT" || name == "SPIN_VARIABLE_HOST").then(|| "env".to_owned())
        };
        let vars = AppVariables::resolve(
            &manifest(),
            &overrides(&[("token", "t"), ("host", "over")]),
            env,
        )
        .unwrap();
        assert_eq!(vars.get("host"), Some("over"));
        assert_eq!(vars.get("port"), Some("env"));
        assert_eq!(vars.get("token"), Some("t"));
    }

    #[test]
    fn required_without_value_and_undeclared_override_fail() {
        assert!(AppVariables::resolve(&manifest(), &BTreeMap::new(), |_| None).is_err());
        assert!(
            AppVariables::resolve(
                &manifest(),
                &overrides(&[("token", "t"), ("nope", "x")]),
                |_| None
            )
            .is_err()
        );
    }

    #[test]
    fn templates_expand_with_spaces_and_reject_unknowns() {
        let vars =
            AppVariables::resolve(&manifest(), &overrides(&[("token", "t")]), |_| None).unwrap();
        assert_eq!(
            vars.expand("http://{{ host }}:{{port}}").unwrap(),
            "http://example.com:80"
        );
        assert_eq!(vars.expand("plain").unwrap(), "plain");
        assert!(vars.expand("{{ missing }}").is_err());
        assert!(vars.expand("{{ host").is_err());
        assert!(vars.expand("{{ Bad }}").is_err());
    }

    #[test]
    fn component_lookup_errors_match_spin() {
        let vars =
            AppVariables::resolve(&manifest(), &overrides(&[("token", "t")]), |_| None).unwrap();
        let comp = ComponentVariables::resolve(&overrides(&[("api", "https://{{ host }}")]), &vars)
            .unwrap();
        assert_eq!(comp.get("api").unwrap(), "https://example.com");
        assert!(matches!(comp.get("token"), Err(LookupError::Undefined(_))));
        assert!(matches!(
            comp.get("Bad-Name"),
            Err(LookupError::InvalidName(_))
        ));
    }
}
