//! Criterion benchmarks of the analysis core: fact extraction of one module, and a whole
//! in-memory project checked from scratch (parse, resolve, every rule).
//!
//! `cargo bench -p krepis-analyzer`

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use krepis_analyzer::config::Config;
use krepis_analyzer::facts;
use krepis_analyzer::project::ProjectSettings;
use krepis_analyzer::workspace::Workspace;

/// A realistic module: a repository port, an adapter class and a use case, ~120 lines.
fn module(i: usize) -> String {
    let mut text = String::from("import type { KrepisContext } from \"@krepis/core\";\n");
    text.push_str(&format!("import {{ Order{i} }} from \"../domain/order{i}.ts\";\nimport type {{ Clock }} from \"./clock.ts\";\n\n"));
    text.push_str(&format!(
        "export interface OrderStore{i} {{\n  load(ctx: KrepisContext, id: string): Promise<Order{i} | undefined>;\n  save(ctx: KrepisContext, order: Order{i}): Promise<void>;\n}}\n\n"
    ));
    for m in 0..12 {
        text.push_str(&format!(
            "/** Step {m}: validates, loads and stores. */\nexport async function step{m}(ctx: KrepisContext, store: OrderStore{i}, id: string): Promise<number> {{\n  const order = await store.load(ctx, `${{id}}-{m}`);\n  if (!order) {{\n    throw new Error(\"missing \" + id);\n  }}\n  const total = [1, 2, 3].map((x) => x * {m}).reduce((a, b) => a + b, 0);\n  await store.save(ctx, order);\n  return total;\n}}\n\n"
        ));
    }
    text
}

fn bench_facts(c: &mut Criterion) {
    let text = module(0);
    let mut group = c.benchmark_group("facts");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("extract one module", |b| {
        b.iter(|| facts::extract(Path::new("a.ts"), &text))
    });
    group.finish();
}

fn bench_project(c: &mut Criterion) {
    let root = PathBuf::from("/bench");
    let files: Vec<(PathBuf, String)> = (0..200)
        .flat_map(|i| {
            [
                (
                    root.join(format!("src/m{i}/application/use_case.ts")),
                    module(i),
                ),
                (
                    root.join(format!("src/m{i}/domain/order{i}.ts")),
                    format!("export class Order{i} {{ constructor(readonly id: string) {{}} }}\n"),
                ),
            ]
        })
        .collect();
    let mut group = c.benchmark_group("project");
    group.throughput(Throughput::Elements(files.len() as u64));
    group.sample_size(20);
    group.bench_function("check 400 modules from scratch", |b| {
        b.iter(|| {
            let mut settings = ProjectSettings::new(&root, None);
            settings.insert_config(root.clone(), Config::default_for(&root));
            let workspace = Workspace::from_memory(settings, files.clone());
            workspace.check(&|| {}).len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_facts, bench_project);
criterion_main!(benches);
