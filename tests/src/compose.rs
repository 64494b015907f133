//! `[component.<id>.dependencies]`: satisfying a component's imports with other
//! components' exports, by composing them into one component with `wac-graph` as Spin
//! does (`spin-compose`): dependency names are matched to import names, each match is
//! type-checked, and the composed component re-exports what the parent exports.
//!
//! Spin wraps a dependency that does not inherit configuration in a deny-all adapter.
//! This host composes such a dependency only when it imports nothing that adapter would
//! deny; otherwise it refuses the manifest rather than grant access Spin would not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use wac_graph::types::{Package, SubtypeChecker};
use wac_graph::{CompositionGraph, EncodeOptions};

/// Imports a non-inheriting dependency may keep: Spin's deny-all adapter leaves them be.
const ALWAYS_ALLOWED_IMPORTS: &[&str] = &["wasi:io/", "wasi:clocks/", "wasi:random/", "wasi:cli/"];

/// A dependency name as written in the manifest: `ns:pkg`, `ns:pkg@1.0.0`,
/// `ns:pkg/iface`, `ns:pkg/iface@1.0.0`, or a plain kebab-case name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencyName {
    Plain(String),
    Package {
        package: String,
        interface: Option<String>,
        version: Option<String>,
    },
}

impl DependencyName {
    pub fn parse(name: &str) -> anyhow::Result<Self> {
        if !name.contains(':') {
            if name.is_empty() || name.contains(['/', '@']) {
                bail!("invalid dependency name {name:?}");
            }
            return Ok(Self::Plain(name.to_owned()));
        }
        let (name_part, version) = match name.split_once('@') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (name, None),
        };
        let (package, interface) = match name_part.split_once('/') {
            Some((p, i)) => (p.to_owned(), Some(i.to_owned())),
            None => (name_part.to_owned(), None),
        };
        Ok(Self::Package {
            package,
            interface,
            version,
        })
    }

    /// Spin's rule: the package must be equal; interface and version, when the
    /// dependency name gives them, must be equal too.
    pub fn matches_import(&self, import: &str) -> bool {
        match self {
            Self::Plain(name) => name == import,
            Self::Package {
                package,
                interface,
                version,
            } => {
                let Some((import_package, rest)) = import.split_once('/') else {
                    return false;
                };
                let (import_interface, import_version) = match rest.split_once('@') {
                    Some((i, v)) => (i, Some(v)),
                    None => (rest, None),
                };
                import_package == package
                    && interface.as_deref().is_none_or(|i| i == import_interface)
                    && version.as_deref().is_none_or(|v| Some(v) == import_version)
            }
        }
    }
}

/// One resolved `dependencies` entry.
#[derive(Debug, Clone)]
pub struct Dependency {
    pub name: String,
    pub parsed: DependencyName,
    pub path: PathBuf,
    pub export: Option<String>,
}

/// Reads a component's `dependencies` table. Only local `path` sources can be run here.
pub fn parse_dependencies(
    component_id: &str,
    table: &BTreeMap<String, toml::Value>,
    app_root: &Path,
) -> anyhow::Result<Vec<Dependency>> {
    table
        .iter()
        .map(|(name, spec)| {
            let parsed = DependencyName::parse(name).with_context(|| format!("component {component_id:?}"))?;
            let Some(spec) = spec.as_table() else {
                bail!("component {component_id:?}: dependency {name:?} is a registry version; the test host needs a `path`")
            };
            for key in spec.keys() {
                if !matches!(key.as_str(), "path" | "export") {
                    bail!("component {component_id:?}: dependency {name:?}: `{key}` is not supported by the test host (use `path`)");
                }
            }
            let path = spec
                .get("path")
                .and_then(toml::Value::as_str)
                .with_context(|| format!("component {component_id:?}: dependency {name:?} needs a `path`"))?;
            let export = spec.get("export").and_then(toml::Value::as_str).map(str::to_owned);
            Ok(Dependency { name: name.clone(), parsed, path: app_root.join(path), export })
        })
        .collect()
}

/// Composes `parent` with its dependencies into one component.
pub fn compose(
    component_id: &str,
    parent: &[u8],
    dependencies: &[(Dependency, Vec<u8>)],
    inherit_configuration: bool,
) -> anyhow::Result<Vec<u8>> {
    let mut graph = CompositionGraph::new();
    let parent_pkg = Package::from_bytes(component_id, None, parent.to_vec(), graph.types_mut())?;
    let parent_world = parent_pkg.ty();
    let parent_pkg = graph.register_package(parent_pkg)?;
    let parent_instance = graph.instantiate(parent_pkg);
    let imports: Vec<String> = graph.types()[parent_world]
        .imports
        .keys()
        .cloned()
        .collect();

    let mut arguments: BTreeMap<String, (String, wac_graph::NodeId)> = BTreeMap::new();
    for (dependency, bytes) in dependencies {
        let matched: Vec<&String> = imports
            .iter()
            .filter(|i| dependency.parsed.matches_import(i))
            .collect();
        if matched.is_empty() {
            bail!(
                "dependency {:?} doesn't match any imports of component {component_id:?}",
                dependency.name
            );
        }
        let package_name = match &dependency.parsed {
            DependencyName::Package { package, .. } => package.clone(),
            DependencyName::Plain(name) => name.clone(),
        };
        let dep_pkg = Package::from_bytes(&package_name, None, bytes.clone(), graph.types_mut())
            .with_context(|| format!("dependency {:?}", dependency.name))?;
        let dep_world = dep_pkg.ty();
        if !inherit_configuration {
            ensure_nothing_to_deny(&dependency.name, graph.types()[dep_world].imports.keys())?;
        }
        let dep_pkg = graph.register_package(dep_pkg)?;
        let dep_instance = graph.instantiate(dep_pkg);
        for import in matched {
            let export_name = dependency.export.clone().unwrap_or_else(|| import.clone());
            let Some(export_ty) = graph.types()[dep_world].exports.get(&export_name).copied()
            else {
                bail!(
                    "dependency {:?} doesn't export {export_name:?} to satisfy import {import:?}",
                    dependency.name
                );
            };
            let import_ty = graph.types()[parent_world].imports[import];
            let mut cache = Default::default();
            SubtypeChecker::new(&mut cache)
                .is_subtype(export_ty, graph.types(), import_ty, graph.types())
                .with_context(|| {
                    format!("dependency {:?} exports {export_name:?}, which is not compatible with import {import:?}", dependency.name)
                })?;
            let node = graph.alias_instance_export(dep_instance, &export_name)?;
            if let Some((other, _)) =
                arguments.insert(import.clone(), (dependency.name.clone(), node))
            {
                bail!(
                    "component {component_id:?}: import {import:?} is satisfied by both {other:?} and {:?}",
                    dependency.name
                );
            }
        }
    }
    for (import, (_, node)) in arguments {
        graph.set_instantiation_argument(parent_instance, &import, node)?;
    }
    let exports: Vec<String> = graph.types()[parent_world]
        .exports
        .keys()
        .cloned()
        .collect();
    for export in exports {
        let node = graph.alias_instance_export(parent_instance, &export)?;
        graph.export(node, &export)?;
    }
    Ok(graph.encode(EncodeOptions::default())?)
}

fn ensure_nothing_to_deny<'a>(
    dependency: &str,
    imports: impl Iterator<Item = &'a String>,
) -> anyhow::Result<()> {
    for import in imports {
        if !ALWAYS_ALLOWED_IMPORTS
            .iter()
            .any(|prefix| import.starts_with(prefix))
        {
            bail!(
                "dependency {dependency:?} imports {import:?}, which Spin denies to a dependency that does not \
                 inherit configuration; set `dependencies_inherit_configuration = true` on the component"
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_names_match_imports_as_in_spin() {
        for (dep, imports) in [
            ("foo:bar/baz@0.1.0", vec!["foo:bar/baz@0.1.0"]),
            ("foo:bar/baz", vec!["foo:bar/baz@0.1.0", "foo:bar/baz"]),
            ("foo:bar", vec!["foo:bar/baz@0.1.0", "foo:bar/baz"]),
            ("foo:bar@0.1.0", vec!["foo:bar/baz@0.1.0"]),
            ("foo-bar", vec!["foo-bar"]),
        ] {
            let name = DependencyName::parse(dep).unwrap();
            for import in imports {
                assert!(name.matches_import(import), "{dep} ~ {import}");
            }
        }
        for (dep, imports) in [
            ("foo:bar/baz@0.1.0", vec!["foo:bar/baz"]),
            ("foo:bar/baz", vec!["foo:bar/bub", "foo:bar/bub@0.1.0"]),
            ("foo:bar", vec!["foo:bub/bib"]),
            ("foo:bar@0.1.0", vec!["foo:bar/baz"]),
            ("foo:bar/baz", vec!["foo:bar/baz-bub", "foo-bar"]),
        ] {
            let name = DependencyName::parse(dep).unwrap();
            for import in imports {
                assert!(!name.matches_import(import), "{dep} !~ {import}");
            }
        }
    }

    #[test]
    fn only_path_dependencies_are_accepted() {
        let table: BTreeMap<String, toml::Value> = toml::from_str(
            r#"
            "a:b/c" = { path = "dep.wasm", export = "a:b/d" }
            "#,
        )
        .unwrap();
        let deps = parse_dependencies("x", &table, Path::new("/app")).unwrap();
        assert_eq!(deps[0].path, Path::new("/app/dep.wasm"));
        assert_eq!(deps[0].export.as_deref(), Some("a:b/d"));
        for bad in [
            r#""a:b/c" = "1.0.0""#,
            r#""a:b/c" = { url = "https://x", digest = "sha256:0" }"#,
        ] {
            let table: BTreeMap<String, toml::Value> = toml::from_str(bad).unwrap();
            assert!(
                parse_dependencies("x", &table, Path::new("/app")).is_err(),
                "{bad}"
            );
        }
    }
}
