//! `krepis graph` output is valid Graphviz (rendered by the real `dot`) and valid-looking Mermaid.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

fn krepis(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_krepis"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run krepis");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// Renders DOT to SVG with Graphviz; the test needs the real tool (`apt-get install graphviz`).
fn render_svg(dot: &str) -> String {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Graphviz `dot` must be installed (apt-get install graphviz); .ci/run installs it");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dot.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "dot rejected the graph: {}\n{dot}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn layer_graph_renders_with_violations_in_red() {
    let dot = krepis(&fixture("shop"), &["graph"]);
    let svg = render_svg(&dot);
    for layer in ["domain", "application", "infrastructure", "adapters"] {
        assert!(svg.contains(&format!(">{layer}<")), "{layer} missing");
    }
    assert!(svg.contains("1 not allowed"));
    assert!(
        svg.contains("#d62728"),
        "the violating edge is drawn in red"
    );
}

#[test]
fn module_graph_renders_with_cycles_marked() {
    let dot = krepis(&fixture("cycles"), &["graph", "--modules"]);
    let svg = render_svg(&dot);
    assert!(svg.contains("src/catalog/pricing.ts"));
    assert_eq!(
        svg.matches(">cycle<").count(),
        5,
        "three runtime edges and two type-only edges form cycles"
    );
    let dot = krepis(&fixture("shop"), &["graph", "--modules", "src/orders"]);
    let svg = render_svg(&dot);
    assert!(svg.contains("src/orders/domain/pricing.ts") && svg.contains("#d62728"));
}

#[test]
fn mermaid_output_declares_every_node_and_styles_violations() {
    let text = krepis(&fixture("shop"), &["graph", "--format", "mermaid"]);
    assert!(text.starts_with("flowchart TB\n"));
    assert!(text.contains("l0 -->|\"1 not allowed\"| l2"), "{text}");
    assert!(text.contains("stroke:#d62728"));
    let modules = krepis(
        &fixture("shop"),
        &["graph", "--format", "mermaid", "--modules"],
    );
    let declared = modules
        .lines()
        .filter(|l| l.trim_start().starts_with('m') && l.contains("[\""))
        .count();
    assert_eq!(declared, 10);
}

/// In a monorepo, the module picture groups modules by workspace package, layers inside.
#[test]
fn workspace_packages_are_clusters_with_their_layers_inside() {
    let dir = fixture("monorepo");
    let dot = krepis(&dir, &["graph", "--modules"]);
    let svg = render_svg(&dot);
    for package in [
        "@acme/orders-domain",
        "@acme/orders-application",
        "@acme/orders-adapters",
        "@acme/shared-kernel",
        "@acme/api",
    ] {
        // Graphviz writes `-` as `&#45;`.
        let drawn = format!(">{}</text>", package.replace('-', "&#45;"));
        assert!(svg.contains(&drawn), "{package} missing: {dot}");
    }
    // The domain package's cluster holds the domain layer's cluster, which holds its modules.
    let start = dot.find("label=\"@acme/orders-domain\"").unwrap();
    let cluster = &dot[start..dot[start..].find("\n  }\n").map(|e| start + e).unwrap()];
    assert!(cluster.contains("label=\"domain\""), "{cluster}");
    assert!(
        cluster.contains("packages/orders-domain/src/order.ts"),
        "{cluster}"
    );
    assert!(
        !cluster.contains("packages/orders-application"),
        "{cluster}"
    );
    let mermaid = krepis(&dir, &["graph", "--modules", "--format", "mermaid"]);
    assert!(mermaid.contains("subgraph package"), "{mermaid}");
    assert_eq!(
        mermaid.matches("subgraph").count(),
        mermaid.matches("\n  end\n").count() + mermaid.matches("\n    end\n").count(),
        "{mermaid}"
    );
}
