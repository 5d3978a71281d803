//! The engines of this build side by side, each execution in a fresh isolated instance: start-up
//! (an empty module), a trivial script that reads the context, and the built-in "implement port"
//! generator on a two-file project, on every engine the build contains.
//!
//! `cargo bench -p krepis-kernel` (QuickJS); `cargo bench -p krepis-kernel --features
//! deno-quickjs` (deno_core on QuickJS-ng and QuickJS, in one run).

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use krepis_kernel::engine::{
    ExecutionContext, Imports, Limits, engines, execute_javascript, strip_types,
};
use krepis_kernel::generators;

const PORTS: &str = "import type { KrepisContext } from \"@krepis/core\";\nimport type { Order } from \"../domain/order.ts\";\n\nexport interface OrderStore {\n  load(ctx: KrepisContext, id: string): Promise<Order | undefined>;\n  list(tenant: string): Promise<Order[]>;\n}\n";

fn bench_execute(c: &mut Criterion) {
    let ctx = ExecutionContext::new("bench");
    let script = strip_types(
        Path::new("a.ts"),
        "export function main(ctx: { request_id: string }): string { return ctx.request_id; }",
    )
    .unwrap();
    let none = Imports::prelude_only();
    let mut group = c.benchmark_group("kernel");
    group.throughput(Throughput::Elements(1));
    let empty = strip_types(Path::new("a.ts"), "export function main() {}").unwrap();
    for engine in engines() {
        group.bench_function(format!("start-up (empty module): {}", engine.name()), |b| {
            b.iter(|| {
                execute_javascript(engine, &ctx, &empty, &none, "main", &[], Limits::default())
                    .unwrap()
            })
        });
    }
    for engine in engines() {
        group.bench_function(format!("trivial script: {}", engine.name()), |b| {
            b.iter(|| {
                execute_javascript(engine, &ctx, &script, &none, "main", &[], Limits::default())
                    .unwrap()
            })
        });
    }
    let (workspace, root) = krepis_analyzer::testing::memory_workspace(&[
        (
            "src/orders/domain/order.ts",
            "export class Order {\n  constructor(readonly id: string) {}\n}\n",
        ),
        ("src/orders/application/ports.ts", PORTS),
    ]);
    let snapshot = workspace.snapshot();
    let file = snapshot
        .file(&root.join("src/orders/application/ports.ts"))
        .unwrap();
    let at = PORTS.find("load(").unwrap() as u32;
    let (_, request) = generators::request_for(&snapshot, file, at, at + 4).unwrap();
    let implement_port = generators::builtins()
        .iter()
        .find(|g| g.name == "implement-port")
        .unwrap();
    for engine in engines() {
        group.bench_function(
            format!("implement-port generator: {}", engine.name()),
            |b| {
                b.iter(|| {
                    generators::run_on(engine, implement_port, &request)
                        .unwrap()
                        .unwrap()
                })
            },
        );
    }
    group.bench_function("strip_types (TypeScript to JavaScript)", |b| {
        b.iter(|| {
            strip_types(
                Path::new("a.ts"),
                "export function main(ctx: { request_id: string }): string { return ctx.request_id; }",
            )
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_execute);
criterion_main!(benches);
