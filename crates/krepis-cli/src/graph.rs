//! `krepis graph`: the layer picture (or the module picture) as Graphviz DOT or Mermaid.

use std::fmt::Write;

use krepis_analyzer::graph::ProjectGraph;

const VIOLATION: &str = "#d62728";
const CYCLE: &str = "#ff7f0e";
const ALLOWED: &str = "#2c7a4b";

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
    for (c, layer) in graph.layers.iter().enumerate() {
        let members: Vec<usize> = (0..graph.modules.len())
            .filter(|&i| graph.modules[i].layer.as_deref() == Some(layer))
            .collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "  subgraph cluster_{c} {{\n    label={};\n    style=\"rounded,filled\";\n    fillcolor=\"#f4f7fc\";",
            quote(layer)
        );
        for i in members {
            let _ = writeln!(out, "    m{i} [label={}];", quote(&graph.modules[i].name));
        }
        out.push_str("  }\n");
    }
    for (i, module) in graph.modules.iter().enumerate() {
        if module.layer.is_none() {
            let _ = writeln!(out, "  m{i} [label={}];", quote(&module.name));
        }
    }
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
    for (c, layer) in graph.layers.iter().enumerate() {
        let members: Vec<usize> = (0..graph.modules.len())
            .filter(|&i| graph.modules[i].layer.as_deref() == Some(layer))
            .collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  subgraph layer{c}[{}]", mermaid_label(layer));
        for i in members {
            let _ = writeln!(out, "    m{i}[{}]", mermaid_label(&graph.modules[i].name));
        }
        out.push_str("  end\n");
    }
    for (i, module) in graph.modules.iter().enumerate() {
        if module.layer.is_none() {
            let _ = writeln!(out, "  m{i}[{}]", mermaid_label(&module.name));
        }
    }
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
