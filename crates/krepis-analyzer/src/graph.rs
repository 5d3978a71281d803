//! The dependency picture: modules and layers with their import edges, violations and cycles,
//! for `krepis graph`.

use std::collections::{BTreeMap, HashMap};

use crate::db::{module_facts, resolved_imports};
use crate::queries::file_layer;
use crate::resolve::Resolution;
use crate::rules::import_cycle::cyclic_components;
use crate::workspace::Workspace;

/// One module of the picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphModule {
    /// Path relative to the governing config's folder, `/`-separated.
    pub name: String,
    pub layer: Option<String>,
    /// The workspace package it belongs to, in a monorepo.
    pub package: Option<String>,
}

/// One import between two checked modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphEdge {
    pub from: usize,
    pub to: usize,
    /// The import breaks the layer rules.
    pub violation: bool,
    /// Both ends are in the same import cycle.
    pub in_cycle: bool,
}

/// Imports between two layers, counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerEdge {
    pub from: String,
    pub to: String,
    /// How many module imports go this way.
    pub imports: usize,
    /// The configuration allows it.
    pub allowed: bool,
}

/// Modules, layers and their edges.
#[derive(Debug, Clone, Default)]
pub struct ProjectGraph {
    pub modules: Vec<GraphModule>,
    pub edges: Vec<GraphEdge>,
    /// Layers in configuration order.
    pub layers: Vec<String>,
    /// Workspace packages with checked modules, by name.
    pub packages: Vec<String>,
    /// Every allowed pair, used or not, and every used pair.
    pub layer_edges: Vec<LayerEdge>,
}

impl Workspace {
    /// The import graph of the checked modules, with layers from their configuration.
    pub fn graph(&self) -> ProjectGraph {
        let db = self.db();
        let settings = crate::db::Project::get(db).settings(db).clone();
        let files = self.checked_files();
        let index: HashMap<&std::path::Path, usize> = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path(db).as_path(), i))
            .collect();
        let mut graph = ProjectGraph::default();
        let Some(first) = files.first() else {
            return graph;
        };
        let config = settings.config_for(first.path(db)).clone();
        graph.layers = config
            .layers
            .layers()
            .iter()
            .map(|l| l.name.clone())
            .collect();
        let mut adjacency = vec![Vec::new(); files.len()];
        for &file in files {
            let path = file.path(db);
            let layer = file_layer(db, file);
            graph.modules.push(GraphModule {
                name: config
                    .relative(path)
                    .unwrap_or_else(|| crate::config::slash_path(path)),
                layer: layer
                    .as_ref()
                    .map(|m| config.layers.name(m.layer).to_string()),
                package: settings
                    .resolver_for(path)
                    .workspace
                    .and_then(|w| w.member_of(path).map(|m| m.name.clone())),
            });
        }
        graph.packages = graph
            .modules
            .iter()
            .filter_map(|m| m.package.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut layer_counts: BTreeMap<(String, String), usize> = BTreeMap::new();
        for (i, &file) in files.iter().enumerate() {
            let facts = module_facts(db, file);
            let resolutions = resolved_imports(db, file);
            let from_layer = file_layer(db, file);
            for (_, resolution) in facts.imports.iter().zip(resolutions.iter()) {
                let Resolution::File(target) = resolution else {
                    continue;
                };
                let Some(&j) = index.get(target.as_path()) else {
                    continue;
                };
                if adjacency[i].contains(&j) {
                    continue;
                }
                adjacency[i].push(j);
                let to_layer = file_layer(db, files[j]);
                let violation = match (&from_layer, &to_layer) {
                    (Some(a), Some(b)) => config.layers.check_edge(a, b).is_err(),
                    _ => false,
                };
                if let (Some(a), Some(b)) = (&from_layer, &to_layer)
                    && a.layer != b.layer
                {
                    let key = (
                        config.layers.name(a.layer).to_string(),
                        config.layers.name(b.layer).to_string(),
                    );
                    *layer_counts.entry(key).or_default() += 1;
                }
                graph.edges.push(GraphEdge {
                    from: i,
                    to: j,
                    violation,
                    in_cycle: false,
                });
            }
        }
        let mut component_of = vec![usize::MAX; files.len()];
        for (c, component) in cyclic_components(&adjacency).iter().enumerate() {
            for &m in component {
                component_of[m] = c;
            }
        }
        for edge in &mut graph.edges {
            edge.in_cycle = component_of[edge.from] != usize::MAX
                && component_of[edge.from] == component_of[edge.to];
        }
        for layer in config.layers.layers() {
            for allowed in &layer.allow {
                let imports = layer_counts
                    .remove(&(layer.name.clone(), allowed.clone()))
                    .unwrap_or(0);
                graph.layer_edges.push(LayerEdge {
                    from: layer.name.clone(),
                    to: allowed.clone(),
                    imports,
                    allowed: true,
                });
            }
        }
        for ((from, to), imports) in layer_counts {
            graph.layer_edges.push(LayerEdge {
                from,
                to,
                imports,
                allowed: false,
            });
        }
        graph
    }
}

#[cfg(test)]
mod tests {
    use crate::project::ProjectSettings;
    use crate::workspace::Workspace;
    use std::path::PathBuf;

    #[test]
    fn layer_edges_count_imports_and_mark_violations_and_cycles() {
        let root = PathBuf::from("/p");
        let mut settings = ProjectSettings::new(&root, None);
        settings.insert_config(root.clone(), crate::config::Config::default_for(&root));
        let files = vec![
            (
                root.join("domain/a.ts"),
                "import \"../infrastructure/db.ts\";\n".to_string(),
            ),
            (
                root.join("infrastructure/db.ts"),
                "import \"../domain/a.ts\";\nimport \"../application/b.ts\";\n".to_string(),
            ),
            (
                root.join("application/b.ts"),
                "import \"../domain/a.ts\";\n".to_string(),
            ),
        ];
        let graph = Workspace::from_memory(settings, files).graph();
        assert_eq!(graph.modules.len(), 3);
        let violations: Vec<_> = graph
            .edges
            .iter()
            .filter(|e| e.violation)
            .map(|e| (&graph.modules[e.from].name, &graph.modules[e.to].name))
            .collect();
        assert_eq!(
            violations,
            [(
                &"domain/a.ts".to_string(),
                &"infrastructure/db.ts".to_string()
            )]
        );
        assert!(graph.edges.iter().all(|e| e.in_cycle));
        let domain_infra = graph
            .layer_edges
            .iter()
            .find(|e| e.from == "domain" && e.to == "infrastructure")
            .unwrap();
        assert_eq!((domain_infra.imports, domain_infra.allowed), (1, false));
        let adapters_domain = graph
            .layer_edges
            .iter()
            .find(|e| e.from == "adapters" && e.to == "domain")
            .unwrap();
        assert_eq!(
            (adapters_domain.imports, adapters_domain.allowed),
            (0, true)
        );
    }
}
