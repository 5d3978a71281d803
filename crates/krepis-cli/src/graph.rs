//! `krepis graph`: the layer picture (or the module picture) as Graphviz DOT or Mermaid.

use std::fmt::Write;

use krepis_analyzer::graph::ProjectGraph;

const VIOLATION: &str = "#d62728";
const CYCLE: &str = "#ff7f0e";
const ALLOWED: &str = "#2c7a4b";

/// How a format writes the module picture's nodes: a group's opening line (given its id, its
/// label and the indent), its closing line (given the indent), and one module's line.
struct NodeSyntax {
    open: fn(&str, &str, &str) -> String,
    close: fn(&str) -> String,
    node: fn(usize, &str, &str) -> String,
}

/// Modules grouped by workspace package (in a monorepo), and within that by layer (in layer
/// order), then the modules outside every layer.
fn write_modules(out: &mut String, graph: &ProjectGraph, syntax: &NodeSyntax) {
    let mut packages: Vec<Option<&str>> = graph.packages.iter().map(|p| Some(p.as_str())).collect();
    packages.push(None);
    for (p, package) in packages.iter().enumerate() {
        let in_package = |i: &usize| graph.modules[*i].package.as_deref() == *package;
        if !(0..graph.modules.len()).any(|i| in_package(&i)) {
            continue;
        }
        let indent = if package.is_some() { "    " } else { "  " };
        if let Some(name) = package {
            out.push_str(&(syntax.open)(&format!("package{p}"), name, "  "));
        }
        for (c, layer) in graph.layers.iter().enumerate() {
            let members: Vec<usize> = (0..graph.modules.len())
                .filter(|i| in_package(i) && graph.modules[*i].layer.as_deref() == Some(layer))
                .collect();
            if members.is_empty() {
                continue;
            }
            let id = match package {
                Some(_) => format!("package{p}_{c}"),
                None => c.to_string(),
            };
            out.push_str(&(syntax.open)(&id, layer, indent));
            for i in members {
                let inner = format!("{indent}  ");
                out.push_str(&(syntax.node)(i, &graph.modules[i].name, &inner));
            }
            out.push_str(&(syntax.close)(indent));
        }
        for (i, module) in graph.modules.iter().enumerate() {
            if in_package(&i) && module.layer.is_none() {
                out.push_str(&(syntax.node)(i, &module.name, indent));
            }
        }
        if package.is_some() {
            out.push_str(&(syntax.close)("  "));
        }
    }
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Layers as nodes; configured allowances as green (dashed when unused), violations in red.
pub fn layers_dot(graph: &ProjectGraph) -> String {
    let mut out = String::from(
        "digraph krepis {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\", fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
    );
    for layer in &graph.layers {
        let _ = writeln!(out, "  {};", quote(layer));
    }
    for edge in &graph.layer_edges {
        let attributes = match (edge.allowed, edge.imports) {
            (true, 0) => format!("color=\"{ALLOWED}\", style=dashed"),
            (true, n) => format!("color=\"{ALLOWED}\", label=\"{n}\""),
            (false, n) => format!(
                "color=\"{VIOLATION}\", fontcolor=\"{VIOLATION}\", penwidth=2, constraint=false, label=\"{n} not allowed\""
            ),
        };
        let _ = writeln!(
            out,
            "  {} -> {} [{attributes}];",
            quote(&edge.from),
            quote(&edge.to)
        );
    }
    out.push_str("}\n");
    out
}

/// Modules grouped by layer; violating imports red, imports inside a cycle orange.
pub fn modules_dot(graph: &ProjectGraph) -> String {
    let mut out = String::from(
        "digraph krepis {\n  rankdir=LR;\n  node [shape=box, style=\"rounded\", fontname=\"Helvetica\", fontsize=10];\n",
    );
    let syntax = NodeSyntax {
        open: |id, label, indent| {
            let fill = if id.contains('_') || !id.starts_with("package") {
                "#f4f7fc"
            } else {
                "#fbfaf3"
            };
            format!(
                "{indent}subgraph cluster_{id} {{\n{indent}  label={};\n{indent}  style=\"rounded,filled\";\n{indent}  fillcolor=\"{fill}\";\n",
                quote(label)
            )
        },
        close: |indent| format!("{indent}}}\n"),
        node: |i, name, indent| format!("{indent}m{i} [label={}];\n", quote(name)),
    };
    write_modules(&mut out, graph, &syntax);
    for edge in &graph.edges {
        let attributes = if edge.violation {
            format!(" [color=\"{VIOLATION}\", penwidth=2]")
        } else if edge.in_cycle {
            format!(" [color=\"{CYCLE}\", penwidth=2, label=\"cycle\", fontcolor=\"{CYCLE}\"]")
        } else {
            String::new()
        };
        let _ = writeln!(out, "  m{} -> m{}{attributes};", edge.from, edge.to);
    }
    out.push_str("}\n");
    out
}

fn mermaid_label(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "#quot;"))
}

/// The layer picture as a Mermaid flowchart.
pub fn layers_mermaid(graph: &ProjectGraph) -> String {
    let mut out = String::from("flowchart TB\n");
    let id = |name: &str| {
        graph
            .layers
            .iter()
            .position(|l| l == name)
            .map_or_else(|| "x".to_string(), |i| format!("l{i}"))
    };
    for (i, layer) in graph.layers.iter().enumerate() {
        let _ = writeln!(out, "  l{i}[{}]", mermaid_label(layer));
    }
    let mut styles = String::new();
    for (k, edge) in graph.layer_edges.iter().enumerate() {
        let (arrow, label, color) = match (edge.allowed, edge.imports) {
            (true, 0) => ("-.->", String::new(), ALLOWED),
            (true, n) => ("-->", format!("|{n}|"), ALLOWED),
            (false, n) => ("-->", format!("|\"{n} not allowed\"|"), VIOLATION),
        };
        let _ = writeln!(out, "  {} {arrow}{label} {}", id(&edge.from), id(&edge.to));
        let width = if edge.allowed { 1 } else { 3 };
        let _ = writeln!(
            styles,
            "  linkStyle {k} stroke:{color},stroke-width:{width}px"
        );
    }
    out.push_str(&styles);
    out
}

/// The module picture as a Mermaid flowchart with a subgraph per layer.
pub fn modules_mermaid(graph: &ProjectGraph) -> String {
    let mut out = String::from("flowchart LR\n");
    let syntax = NodeSyntax {
        open: |id, label, indent| {
            let id = if id.starts_with("package") {
                id.to_string()
            } else {
                format!("layer{id}")
            };
            format!("{indent}subgraph {id}[{}]\n", mermaid_label(label))
        },
        close: |indent| format!("{indent}end\n"),
        node: |i, name, indent| format!("{indent}m{i}[{}]\n", mermaid_label(name)),
    };
    write_modules(&mut out, graph, &syntax);
    let mut styles = String::new();
    for (k, edge) in graph.edges.iter().enumerate() {
        let _ = writeln!(out, "  m{} --> m{}", edge.from, edge.to);
        if edge.violation {
            let _ = writeln!(
                styles,
                "  linkStyle {k} stroke:{VIOLATION},stroke-width:3px"
            );
        } else if edge.in_cycle {
            let _ = writeln!(styles, "  linkStyle {k} stroke:{CYCLE},stroke-width:3px");
        }
    }
    out.push_str(&styles);
    out
}

/// `krepis graph --cycles`: each set of modules that import each other, every member listed.
pub fn cycles_text(sets: &[Vec<std::path::PathBuf>], cwd: &std::path::Path) -> String {
    use std::fmt::Write;
    if sets.is_empty() {
        return "No import cycles.\n".to_string();
    }
    let mut out = String::new();
    let modules: usize = sets.iter().map(Vec::len).sum();
    let _ = writeln!(
        out,
        "{} import cycle{} ({modules} modules in sets that import each other):",
        sets.len(),
        if sets.len() == 1 { "" } else { "s" }
    );
    for (i, set) in sets.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n{}. {} module{}",
            i + 1,
            set.len(),
            if set.len() == 1 {
                " that imports itself"
            } else {
                "s"
            }
        );
        for path in set {
            let _ = writeln!(out, "   {}", crate::output::display_path(path, cwd));
        }
    }
    out
}
