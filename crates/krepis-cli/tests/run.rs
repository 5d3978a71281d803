//! `krepis run` as DESIGN §4 specifies it: the JSON shape and exit codes are a public contract.

mod support;

use serde_json::Value;
use support::run::krepis;

fn run_json(dir: &std::path::Path, args: &[&str]) -> (Value, i32) {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let (stdout, stderr, code) = krepis(dir, &all);
    (
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}")),
        code,
    )
}

#[test]
fn run_returns_the_value_or_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("job.ts"),
        r#"import type { KrepisContext } from "@krepis/core";
export async function main(ctx: KrepisContext): Promise<{ tenant: string; turbo: boolean }> {
  return { tenant: ctx.tenant_id, turbo: ctx.is_turbo_mode };
}
export function spin(ctx: KrepisContext): never { for (;;) {} }
export function bomb(): number[] { const a: number[][] = []; for (;;) a.push(new Array(100000).fill(1)); }
export function leak() { return Deno.env.get("HOME"); }
"#,
    )
    .unwrap();
    let (value, code) = run_json(dir.path(), &["job.ts"]);
    assert_eq!(code, 0);
    assert_eq!(
        value,
        serde_json::json!({ "ok": true, "value": { "tenant": "default", "turbo": false } })
    );

    let (value, code) = run_json(
        dir.path(),
        &["job.ts", "--export", "spin", "--timeout-ms", "250"],
    );
    assert_eq!(code, 1);
    let error = &value["error"];
    assert_eq!(value["ok"], false);
    assert_eq!(error["code"], "EXECUTION_TIMEOUT");
    assert_eq!(error["snapshot"]["limit_ms"], 250);
    let elapsed = error["snapshot"]["elapsed_ms"].as_u64().unwrap();
    assert!(
        (250..350).contains(&elapsed),
        "stopped within 100 ms of the limit: {elapsed}"
    );
    assert!(error["snapshot"]["heap_used_bytes"].as_u64().unwrap() > 0);
    let keys: Vec<&str> = error
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["code", "message", "stack", "snapshot"]);

    let (value, code) = run_json(
        dir.path(),
        &["job.ts", "--export", "bomb", "--max-heap-mb", "16"],
    );
    assert_eq!(
        (code, value["error"]["code"].as_str()),
        (1, Some("HEAP_LIMIT"))
    );
    let (value, code) = run_json(dir.path(), &["job.ts", "--export", "leak"]);
    assert_eq!(
        (code, value["error"]["code"].as_str()),
        (1, Some("SCRIPT_ERROR"))
    );
    assert!(
        value["error"]["message"].as_str().unwrap().contains("Deno"),
        "{value}"
    );

    let (_, stderr, code) = krepis(dir.path(), &["run", "missing.ts"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("missing.ts"), "{stderr}");
}
