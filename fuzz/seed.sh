#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/<target>/, not committed) from the repository's fixtures
# and a few hand-made inputs. Safe to run again: files are named by content.
set -euo pipefail
cd "$(dirname "$0")"
export LC_ALL=C

add() { # add TARGET FILE: copies FILE into the target's corpus under its hash
  local dir="corpus/$1"
  mkdir -p "$dir"
  cp "$2" "$dir/seed-$(sha1sum "$2" | cut -c1-16)"
}
add_text() { # add_text TARGET TEXT
  local tmp
  tmp=$(mktemp)
  printf '%s' "$2" > "$tmp"
  add "$1" "$tmp"
  rm -f "$tmp"
}

# Modules: every TypeScript and JavaScript file of the fixtures.
while IFS= read -r file; do
  add analyzer_bytes "$file"
  add analyzer_fragments "$file"
done < <(find ../fixtures -type f \( -name '*.ts' -o -name '*.tsx' -o -name '*.js' \) | sort)

# Settings: krepis.json, deno.json, tsconfig.json and an import map, separated by NUL bytes.
features=../fixtures/features
for krepis in "$features/krepis.json" ../fixtures/cycles/krepis.json ../fixtures/bad-config/krepis.json; do
  tmp=$(mktemp)
  { cat "$krepis"; printf '\0'; cat "$features/deno.json"; printf '\0'; cat "$features/tsconfig.json"; } > "$tmp"
  add config "$tmp"
  add config "$krepis"
  rm -f "$tmp"
done
tmp=$(mktemp)
{ printf '{ "krepis": { "layers": [ { "name": "core", "paths": ["src/<area>/domain/**"], "isolate": "area" } ] }, }'
  printf '\0{ "importMap": "./import_map.json", }\0'
  printf '{ "extends": "./tsconfig.json", "compilerOptions": { "paths": { "~/*": ["src/*", "lib/*"] } } }'
  printf '\0{ "imports": { "@cart/": "./src/features/cart/", "zod": "npm:zod" } }'; } > "$tmp"
add config "$tmp"
rm -f "$tmp"

# The language server's input: framed JSON-RPC messages about the fuzz workspace's files.
root="file://${TMPDIR:-/tmp}"
root="${root%/}/krepis-fuzz-lsp"
frame() { printf 'Content-Length: %d\r\n\r\n%s' "${#1}" "$1"; }
doc="$root/src/orders/application/place_order.ts"
open='{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"'$doc'","languageId":"typescript","version":1,"text":"export async function place(id: string) { await load(id); }\n"}}}'
change='{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"'$doc'","version":2},"contentChanges":[{"range":{"start":{"line":0,"character":28},"end":{"line":0,"character":28}},"text":"ctx: KrepisContext, "}]}}'
hover='{"jsonrpc":"2.0","id":1,"method":"textDocument/hover","params":{"textDocument":{"uri":"'$doc'"},"position":{"line":0,"character":30}}}'
action='{"jsonrpc":"2.0","id":2,"method":"textDocument/codeAction","params":{"textDocument":{"uri":"'$doc'"},"range":{"start":{"line":0,"character":0},"end":{"line":9,"character":0}},"context":{"diagnostics":[]}}}'
pull='{"jsonrpc":"2.0","id":3,"method":"textDocument/diagnostic","params":{"textDocument":{"uri":"'$doc'"}}}'
watched='{"jsonrpc":"2.0","method":"workspace/didChangeWatchedFiles","params":{"changes":[{"uri":"'$root'/krepis.json","type":2}]}}'
lsp_seed() { # lsp_seed FUNCTION: the function's output is one seed
  local tmp
  tmp=$(mktemp)
  "$1" > "$tmp"
  add lsp_stream "$tmp"
  rm -f "$tmp"
}
edit_session() { frame "$open"; frame "$change"; frame "$hover"; frame "$action"; frame "$pull"; }
settings_session() { frame "$open"; frame "$watched"; frame "$action"; }
broken_frames() {
  printf 'Content-Length: 4\r\n\r\n{x}}Content-Length: nope\r\n\r\n'
  frame '[1,2]'
  frame "$hover"
}
cancelled_pull() {
  frame '{"jsonrpc":"2.0","id":9,"method":"workspace/diagnostic","params":{"previousResultIds":[]}}'
  frame '{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":9}}'
}
for seed in edit_session settings_session broken_frames cancelled_pull; do
  lsp_seed "$seed"
done

# Scripts for the kernel: contexts, async, errors, loops, types.
scripts=(
  'export function main(ctx: { request_id: string }, a: { n: number[] }) { return [ctx.request_id, a.n.length]; }'
  'export async function main(ctx) { const t = await Promise.resolve(ctx.clock.now()); return { t, r: ctx.random.next() }; }'
  'interface P { x: number } export function main(ctx, p: P): P { throw new Error(`bad ${p.x}`); }'
  'export function main() { let s = 0; for (let i = 0; i < 1e9; i++) s += i; return s; }'
  'export function main() { const a = []; for (;;) a.push("x".repeat(1024)); }'
  'enum E { A = 1 } export const main = (ctx: any, ...rest: unknown[]) => ({ e: E.A, rest });'
  'export default function () {} export function main() { return JSON.parse("{\"a\": [1, {\"b\": null}]}"); }'
)
for script in "${scripts[@]}"; do
  add_text kernel_script "$script"
done
add kernel_script ../packages/sdk/mod.ts

# The bridge: flags, three u16 lengths, handshake, request id, context (protobuf), script.
hex() { # hex HEX: writes the bytes
  local h=$1 i
  for ((i = 0; i < ${#h}; i += 2)); do printf "\\x${h:i:2}"; done
}
bridge() { # bridge FLAGS HANDSHAKE_HEX ID CONTEXT_HEX SCRIPT
  local tmp hs=$((${#2} / 2)) ctx=$((${#4} / 2))
  tmp=$(mktemp)
  { printf "\\x$1"
    printf "\\x$(printf %02x $((hs & 255)))\\x$(printf %02x $((hs >> 8)))"
    printf "\\x$(printf %02x $((${#3} & 255)))\\x$(printf %02x $((${#3} >> 8)))"
    printf "\\x$(printf %02x $((ctx & 255)))\\x$(printf %02x $((ctx >> 8)))"
    hex "$2"
    printf '%s' "$3"
    hex "$4"
    printf '%s' "$5"; } > "$tmp"
  add bridge "$tmp"
  rm -f "$tmp"
}
handshake=0801120466757a7a            # abi_version 1, sdk "fuzz"
context=0a0472712d313032           # request_id "rq-1", timeout_ms 50
bridge 02 "$handshake" req-1 "" 'export function main(ctx) { return [ctx.request_id, ctx.is_turbo_mode]; }'
bridge 01 "$handshake" req-2 "$context" 'export async function main(ctx: { trace_id: string }) { return ctx.trace_id; }'
bridge 00 0863 "" "$context" 'export function main() { for (;;) {} }'
bridge 03 "" "x" "ffff" 'export const main = 1;'
echo "corpora: $(find corpus -type f | wc -l) files in $(ls corpus | wc -l) targets"
