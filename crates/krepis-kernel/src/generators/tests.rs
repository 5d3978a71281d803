use std::path::{Path, PathBuf};

use krepis_analyzer::workspace::Workspace;

use super::*;

const ROOT: &str = "/project";

fn workspace(files: &[(&str, &str)]) -> Workspace {
    krepis_analyzer::testing::memory_workspace(files).0
}

fn builtin(name: &str) -> &'static Generator {
    builtins()
        .iter()
        .find(|g| g.name == name)
        .expect("built-in")
}

/// Runs a generator at the first occurrence of `marker` in `path`.
fn propose(ws: &Workspace, generator: &Generator, path: &str, marker: &str) -> Option<Proposal> {
    let file = ws.file(&Path::new(ROOT).join(path)).expect("known file");
    let text = ws.snapshot().text(file);
    let at = text.find(marker).expect("marker") as u32;
    let end = at + marker.len() as u32;
    let (root, request) = request_for(&ws.snapshot(), file, at, end).expect("request");
    assert_eq!(root, Path::new(ROOT));
    run(generator, &request).expect("the generator runs")
}

/// Plans the proposal against the workspace, checks it introduces nothing, and writes it in.
fn apply(ws: &mut Workspace, proposal: &Proposal) -> Vec<Planned> {
    let snapshot = ws.snapshot();
    let planned = plan(Path::new(ROOT), &proposal.changes, |p| {
        snapshot.file(p).map(|f| snapshot.text(f).to_string())
    })
    .expect("a valid plan");
    drop(snapshot);
    let changes: Vec<(PathBuf, String)> = planned
        .iter()
        .map(|p| (p.path.clone(), p.after.clone()))
        .collect();
    let introduced = ws.preview(&changes);
    assert!(introduced.is_empty(), "introduced: {introduced:?}");
    for (path, text) in &changes {
        ws.set_text(path, text);
    }
    planned
}

fn diagnostics_of(ws: &Workspace, path: &str) -> Vec<String> {
    let file = ws.file(&Path::new(ROOT).join(path)).expect("known file");
    ws.diagnostics(file)
        .iter()
        .map(|d| format!("{}: {}", d.rule_name(), d.message))
        .collect()
}

const ORDER: &str = "export class Order {\n  constructor(readonly id: string) {}\n}\nexport type OrderId = string;\n";
const PORTS: &str = "import type { KrepisContext } from \"@krepis/core\";\nimport type { Order, OrderId as Id } from \"../domain/order.ts\";\n\nexport interface OrderStore {\n  load(ctx: KrepisContext, id: Id): Promise<Order | undefined>;\n  list(tenant: string): Promise<Order[]>;\n  size(): number;\n}\n";

#[test]
fn implement_port_writes_an_adapter_and_gives_the_port_its_context() {
    let mut ws = workspace(&[
        ("src/orders/domain/order.ts", ORDER),
        ("src/orders/application/ports.ts", PORTS),
    ]);
    assert_eq!(
        diagnostics_of(&ws, "src/orders/application/ports.ts").len(),
        1,
        "the port's `list` lacks the context"
    );
    // Nothing to implement outside an interface.
    assert_eq!(
        propose(
            &ws,
            builtin("implement-port"),
            "src/orders/application/ports.ts",
            "import type { Order"
        ),
        None
    );
    let proposal = propose(
        &ws,
        builtin("implement-port"),
        "src/orders/application/ports.ts",
        "load(",
    )
    .unwrap();
    assert_eq!(proposal.title, "Implement port `OrderStore` as an adapter");
    assert_eq!(proposal.refused, None);
    assert!(proposal.kind.as_deref().unwrap().starts_with("refactor."));
    let planned = apply(&mut ws, &proposal);
    assert_eq!(
        planned[0].path,
        Path::new("/project/src/orders/adapters/order-store.ts")
    );
    assert_eq!(
        planned[0].after,
        "import type { KrepisContext } from \"@krepis/core\";\n\
         import type { OrderStore } from \"../application/ports.ts\";\n\
         import type { Order, OrderId as Id } from \"../domain/order.ts\";\n\
         \n\
         /** Implements the `OrderStore` port. */\n\
         export class OrderStoreAdapter implements OrderStore {\n\
         \x20 async load(ctx: KrepisContext, id: Id): Promise<Order | undefined> {\n\
         \x20   throw new Error(\"OrderStoreAdapter.load is not implemented yet\");\n\
         \x20 }\n\
         \n\
         \x20 async list(ctx: KrepisContext, tenant: string): Promise<Order[]> {\n\
         \x20   throw new Error(\"OrderStoreAdapter.list is not implemented yet\");\n\
         \x20 }\n\
         \n\
         \x20 size(): number {\n\
         \x20   throw new Error(\"OrderStoreAdapter.size is not implemented yet\");\n\
         \x20 }\n\
         }\n"
    );
    // The port's `list` got the context, which also cleared its diagnostic.
    assert!(
        planned[1]
            .after
            .contains("list(ctx: KrepisContext, tenant: string)")
    );
    assert!(diagnostics_of(&ws, "src/orders/application/ports.ts").is_empty());
    assert!(diagnostics_of(&ws, "src/orders/adapters/order-store.ts").is_empty());

    // The adapter exists now: a second run is refused by the plan.
    let again = propose(
        &ws,
        builtin("implement-port"),
        "src/orders/application/ports.ts",
        "load(",
    )
    .unwrap();
    let snapshot = ws.snapshot();
    let refused = plan(Path::new(ROOT), &again.changes, |p| {
        snapshot.file(p).map(|f| snapshot.text(f).to_string())
    });
    assert_eq!(
        refused.unwrap_err(),
        "`src/orders/adapters/order-store.ts` exists already"
    );
}

#[test]
fn a_port_that_is_not_exported_is_refused_with_the_reason() {
    let ws = workspace(&[(
        "src/application/ports.ts",
        "interface Clock {\n  now(): number;\n}\n",
    )]);
    let proposal = propose(
        &ws,
        builtin("implement-port"),
        "src/application/ports.ts",
        "now",
    )
    .unwrap();
    assert_eq!(
        proposal.refused.as_deref(),
        Some("`Clock` is not exported, so an adapter cannot import it")
    );
}

#[test]
fn new_use_case_writes_a_command_or_a_query_handler_with_its_port() {
    let mut ws = workspace(&[(
        "src/orders/application/place_order.ts",
        "// TODO: CancelOrder, GetOrderTotal\nexport const version = 1;\n",
    )]);
    let proposal = propose(
        &ws,
        builtin("new-use-case"),
        "src/orders/application/place_order.ts",
        "CancelOrder",
    )
    .unwrap();
    assert_eq!(proposal.title, "New command use case `CancelOrder`");
    let planned = apply(&mut ws, &proposal);
    let paths: Vec<&Path> = planned.iter().map(|p| p.path.as_path()).collect();
    assert_eq!(
        paths,
        [
            Path::new("/project/src/orders/application/cancel_order_port.ts"),
            Path::new("/project/src/orders/application/cancel_order.ts"),
        ]
    );
    assert!(
        planned[1]
            .after
            .contains("export class CancelOrderCommandHandler {")
    );
    assert!(planned[1].after.contains("async handle(ctx: KrepisContext, input: CancelOrderInput): Promise<void> {\n    await this.port.cancelOrder(ctx, input);"));
    assert!(
        planned[1]
            .after
            .contains("from \"./cancel_order_port.ts\";")
    );
    assert!(diagnostics_of(&ws, "src/orders/application/cancel_order.ts").is_empty());

    let proposal = propose(
        &ws,
        builtin("new-use-case"),
        "src/orders/application/place_order.ts",
        "GetOrderTotal",
    )
    .unwrap();
    assert_eq!(proposal.title, "New query use case `GetOrderTotal`");
    let planned = apply(&mut ws, &proposal);
    assert!(
        planned[1]
            .after
            .contains("export class GetOrderTotalQueryHandler {")
    );
    assert!(planned[1].after.contains("Promise<GetOrderTotalResult>"));
    assert!(diagnostics_of(&ws, "src/orders/application/get_order_total.ts").is_empty());

    // A name the file defines, a lower-case or an all-capitals word is not a new use case, and
    // neither is a bare cursor on a name or a selection wider than it.
    let file = ws
        .file(Path::new("/project/src/orders/application/place_order.ts"))
        .unwrap();
    for (start, end) in [(12, 12), (11, 23)] {
        let (_, request) = request_for(&ws.snapshot(), file, start, end).unwrap();
        assert_eq!(request.selection.word.as_deref(), Some("CancelOrder"));
        assert_eq!(run(builtin("new-use-case"), &request), Ok(None));
    }
    for marker in ["version", "TODO", "export"] {
        let found = propose(
            &ws,
            builtin("new-use-case"),
            "src/orders/application/place_order.ts",
            marker,
        );
        assert_eq!(found, None, "{marker}");
    }
}

#[test]
fn add_context_threads_the_context_through_the_file() {
    let source = "export async function load(id: string) {\n  return id;\n}\n\nexport class Service {\n  async run(id: string) {\n    await load(id);\n    return this.helper();\n  }\n  private async helper() {}\n}\n\nexport const later = async x => x;\n";
    let mut ws = workspace(&[("src/application/service.ts", source)]);
    assert_eq!(diagnostics_of(&ws, "src/application/service.ts").len(), 4);
    let proposal = propose(
        &ws,
        builtin("add-context"),
        "src/application/service.ts",
        "load",
    )
    .unwrap();
    assert_eq!(
        proposal.title,
        "Add context parameter to every async function in this file"
    );
    let planned = apply(&mut ws, &proposal);
    assert_eq!(
        planned[0].after,
        "import type { KrepisContext } from \"@krepis/core\";\nexport async function load(ctx: KrepisContext, id: string) {\n  return id;\n}\n\nexport class Service {\n  async run(ctx: KrepisContext, id: string) {\n    await load(ctx, id);\n    return this.helper(ctx);\n  }\n  private async helper(ctx: KrepisContext) {}\n}\n\nexport const later = async (ctx: KrepisContext, x) => x;\n"
    );
    assert!(diagnostics_of(&ws, "src/application/service.ts").is_empty());
    // Nothing left to add: the generator has nothing to offer.
    assert!(
        propose(
            &ws,
            builtin("add-context"),
            "src/application/service.ts",
            "load"
        )
        .is_none()
    );
}

#[test]
fn plans_refuse_paths_outside_the_project_and_bad_edits() {
    let read = |p: &Path| (p == Path::new("/project/a.ts")).then(|| "abc".to_string());
    let create = |path: &str| Change::Create {
        path: path.into(),
        text: String::new(),
    };
    for path in ["../etc/passwd", "/etc/passwd", "a/../../b.ts", "", "."] {
        let error = plan(Path::new(ROOT), &[create(path)], read).unwrap_err();
        assert!(error.contains("is not"), "{path}: {error}");
    }
    let edit = |start, end| Change::Edit {
        path: "a.ts".into(),
        edits: vec![Edit {
            start,
            end,
            text: "x".into(),
        }],
    };
    assert!(plan(Path::new(ROOT), &[edit(2, 9)], read).is_err());
    assert!(plan(Path::new(ROOT), &[edit(2, 1)], read).is_err());
    let overlapping = Change::Edit {
        path: "a.ts".into(),
        edits: vec![
            Edit {
                start: 0,
                end: 2,
                text: "x".into(),
            },
            Edit {
                start: 1,
                end: 3,
                text: "y".into(),
            },
        ],
    };
    assert!(
        plan(Path::new(ROOT), &[overlapping], read)
            .unwrap_err()
            .contains("overlap")
    );
    assert_eq!(
        plan(Path::new(ROOT), &[edit(1, 2)], read).unwrap()[0].after,
        "axc"
    );
    assert!(
        plan(
            Path::new(ROOT),
            &[Change::Edit {
                path: "b.ts".into(),
                edits: vec![]
            }],
            read
        )
        .unwrap_err()
        .contains("does not exist")
    );
}

#[test]
fn project_generators_that_misbehave_give_errors_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join(".krepis").join("generators");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("loops.ts"),
        "export function generate(): null { while (true) {} }\n",
    )
    .unwrap();
    std::fs::write(
        folder.join("junk.ts"),
        "export function generate() { return { title: 1 }; }\n",
    )
    .unwrap();
    std::fs::write(
        folder.join("escape.ts"),
        "export function generate() { return Deno.readTextFileSync(\"/etc/passwd\"); }\n",
    )
    .unwrap();
    std::fs::write(
        folder.join("quiet.js"),
        "export function generate() { return null; }\n",
    )
    .unwrap();
    std::fs::write(folder.join("broken.ts"), "export function generate( {\n").unwrap();
    let generators = project_cached(dir.path());
    let names: Vec<&str> = generators.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["broken", "escape", "junk", "loops", "quiet"]);
    let ws = workspace(&[("src/a.ts", "export const a = 1;\n")]);
    let file = ws.file(Path::new("/project/src/a.ts")).unwrap();
    let (_, request) = request_for(&ws.snapshot(), file, 0, 0).unwrap();
    let outcome: Vec<Result<Option<Proposal>, String>> =
        generators.iter().map(|g| run(g, &request)).collect();
    assert!(
        outcome[0].as_ref().unwrap_err().starts_with("SCRIPT_ERROR"),
        "{outcome:?}"
    );
    assert!(
        outcome[1].as_ref().unwrap_err().starts_with("SCRIPT_ERROR"),
        "{outcome:?}"
    );
    assert!(
        outcome[2]
            .as_ref()
            .unwrap_err()
            .contains("it must return null or"),
        "{outcome:?}"
    );
    assert!(
        outcome[3]
            .as_ref()
            .unwrap_err()
            .starts_with("EXECUTION_TIMEOUT"),
        "{outcome:?}"
    );
    assert_eq!(outcome[4], Ok(None));
    // Unchanged folder: the same compiled generators come back.
    assert_eq!(project_cached(dir.path()).len(), 5);
    std::fs::remove_file(folder.join("junk.ts")).unwrap();
    assert_eq!(project_cached(dir.path()).len(), 4);
}

#[test]
fn the_word_under_the_cursor() {
    assert_eq!(word_at("a PlaceOrder b", 5).as_deref(), Some("PlaceOrder"));
    assert_eq!(word_at("a PlaceOrder b", 2).as_deref(), Some("PlaceOrder"));
    assert_eq!(word_at("a PlaceOrder b", 12).as_deref(), Some("PlaceOrder"));
    assert_eq!(word_at("a  b", 2), None);
    assert_eq!(word_at("x 42", 3), None);
    assert_eq!(word_at("é", 1), None);
    assert_eq!(word_at("", 9), None);
}
