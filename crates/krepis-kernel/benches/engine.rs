//! Executions per second of a trivial script, each in a fresh isolated engine instance.
//!
//! `cargo bench -p krepis-kernel`

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use krepis_kernel::engine::{ExecutionContext, Limits, QuickJs, execute_isolated};

fn bench_execute(c: &mut Criterion) {
    let ctx = ExecutionContext::new("bench");
    let script =
        "export function main(ctx: { request_id: string }): string { return ctx.request_id; }";
    let mut group = c.benchmark_group("kernel");
    group.throughput(Throughput::Elements(1));
    group.bench_function("execute_isolated (fresh engine, TypeScript)", |b| {
        b.iter(|| {
            execute_isolated(
                &QuickJs,
                &ctx,
                Path::new("a.ts"),
                script,
                "main",
                Limits::default(),
            )
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_execute);
criterion_main!(benches);
