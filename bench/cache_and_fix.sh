#!/usr/bin/env bash
# Cold vs warm `krepis check` (median of 5 each, one hyperfine run), and `krepis fix` on a project
# of N files with one fixable violation each: its time and the journal's size on disk.
#
#   bench/cache_and_fix.sh [TREE] [N]
#
# TREE defaults to bench/out/project-5000 (see check.sh); N defaults to 5000.
# KREPIS_BIN overrides the binary (default: target/release/krepis, built if missing).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH_DIR")"
OUT="$BENCH_DIR/out"
TREE="${1:-$OUT/project-5000}"
FILES="${2:-5000}"
mkdir -p "$OUT"

if [[ -z "${KREPIS_BIN:-}" ]]; then
  (cd "$ROOT" && cargo build --release -p krepis-cli >&2)
  KREPIS_BIN="$ROOT/target/release/krepis"
fi
KREPIS="$(cd "$(dirname "$KREPIS_BIN")" && pwd)/$(basename "$KREPIS_BIN")"
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install hyperfine)" >&2; exit 2; }
[[ -d "$TREE/src" ]] || python3 "$BENCH_DIR/gen_project.py" "$TREE" --files 5000

cd "$TREE"
rm -rf .krepis/cache
# The cold run must not find a cache; the warm one finds the one the warm-up wrote.
hyperfine -i --runs 5 --warmup 1 --export-json "$OUT/cache.json" \
  -n cold "$KREPIS check --no-cache --format json . > /dev/null" \
  -n warm "$KREPIS check --format json . > /dev/null" >&2
python3 - "$OUT/cache.json" <<'PY'
import json, sys
median = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
print("| run | median (s) |\n|---|---:|")
for name in ("cold", "warm"):
    print(f"| {name} | {median[name]:.3f} |")
print(f"\nwarm is {median['cold'] / median['warm']:.1f}x faster than cold")
PY

# A project where every file has one fixable violation (a missing context parameter).
FIX_TREE="$OUT/fix-$FILES"
rm -rf "$FIX_TREE"
python3 - "$FIX_TREE" "$FILES" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    folder = os.path.join(root, "src", f"m{i // 100:03}", "application")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"service{i}.ts"), "w") as f:
        f.write('import type { KrepisContext } from "@krepis/core";\n\n')
        f.write(f"/** Loads record {i}. */\nexport async function load{i}(id: string): Promise<string> {{\n")
        f.write(f"  return `${{id}}-{i}`;\n}}\n")
PY
cd "$FIX_TREE"
git init -q .
start=$(date +%s.%N)
"$KREPIS" fix > "$OUT/fix.log"
end=$(date +%s.%N)
echo
echo "krepis fix on $FILES files (one fix each): $(python3 -c "print(f'{$end - $start:.2f}')") s; journal on disk: $(du -sh .krepis/journal | cut -f1)"
grep -m1 "^Fixed" "$OUT/fix.log"
