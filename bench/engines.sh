#!/usr/bin/env bash
# The kernel's engines side by side in one run: QuickJS (rquickjs, the default build) and
# deno_core on QuickJS-ng (`--no-default-features --features deno-quickjs`).
#
#   bench/engines.sh [TREE]
#
# 1. criterion (`cargo bench -p krepis-kernel --bench engine`, once per build, back to back):
#    start-up of a fresh instance (an empty module), a trivial script that reads the context, and
#    the built-in "implement port" generator, each execution in a fresh instance;
# 2. bench/custom_rules.sh on TREE (default: the generated 5,000-file project) with one release
#    binary per engine, in one hyperfine run.
# Prints one Markdown table per part.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH_DIR")"
OUT="$BENCH_DIR/out"
mkdir -p "$OUT"
say() { printf '==> %s\n' "$*" >&2; }

builds=("quickjs:" "deno:--no-default-features --features deno-quickjs")
cd "$ROOT"
for build in "${builds[@]}"; do
  name=${build%%:*}
  flags=${build#*:}
  say "building krepis ($name, release)"
  # shellcheck disable=SC2086
  cargo build --release -p krepis-cli $flags
  cp target/release/krepis "$OUT/krepis-$name"
done
for build in "${builds[@]}"; do
  name=${build%%:*}
  flags=${build#*:}
  say "criterion ($name)"
  # shellcheck disable=SC2086
  cargo bench -p krepis-kernel --bench engine $flags -- --noplot --warm-up-time 1 --measurement-time 3 >&2
done

python3 - "$ROOT/target/criterion/kernel" <<'PY'
import json
import pathlib
import sys

rows = {}
for estimates in pathlib.Path(sys.argv[1]).glob("*/new/estimates.json"):
    bench = json.load(open(estimates.parent / "benchmark.json"))
    median = json.load(open(estimates))["median"]["point_estimate"] / 1e6
    what, _, engine = bench["function_id"].partition(": ")
    rows.setdefault(what, {})[engine or "-"] = median
print("\n| measure (fresh instance per execution) | engine | median (ms) | per second |")
print("|---|---|---:|---:|")
for what in sorted(rows):
    for engine, ms in sorted(rows[what].items()):
        print(f"| {what} | {engine} | {ms:.3f} | {1000 / ms:,.0f} |")
PY

KREPIS_BINS="$OUT/krepis-quickjs $OUT/krepis-deno" bash "$BENCH_DIR/custom_rules.sh" "$@"
