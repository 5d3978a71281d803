#!/usr/bin/env bash
# @krepis/core from a clean clone: install the pinned TypeScript and Deno, build, type-check, run
# the same tests in Deno and in Node, smoke-test the npm tarball in a fresh project, and dry-run the
# JSR publish. Needs Node >= 20 and the npm registry; Deno runs offline (local files only).
# The last line sums both runtimes' tests: `core: N passed, M failed`.
set -euo pipefail
cd "$(dirname "$0")"

export NO_COLOR=1 DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1

step() { printf '\n== %s\n' "$*"; }

# The registry may serve only some of deno's per-platform packages, so `npm ci` may refuse the
# lockfile; `npm install --no-save` then installs the same pinned versions.
step "npm dependencies (typescript, deno, @types/node)"
npm ci --no-audit --no-fund --loglevel=error 2>/dev/null \
  || npm install --no-save --no-audit --no-fund --loglevel=error
tsc=node_modules/.bin/tsc
deno=node_modules/.bin/deno
"$tsc" --version
"$deno" --version | head -n 1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "build dist (tsc -p tsconfig.build.json)"
npm run --silent build

step "tsc --noEmit: sources, tests, example"
"$tsc" -p tsconfig.json

step "tsc --noEmit: example against the built package, as a consumer"
"$tsc" -p example/tsconfig.json

step "deno check: sources, tests, example"
"$deno" check --quiet src/ test/ example/

# Both runners run every test file; a failure is reported after both have run.
status=0

step "deno test"
set +e
"$deno" test --quiet --allow-net=127.0.0.1 --allow-run --allow-read --allow-env test/ 2>&1 | tee "$work/deno.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
set -e

step "node --test (tests compiled by tsc into dist-test)"
node scripts/dist.mjs clean dist-test
"$tsc" -p tsconfig.test.json
set +e
node --test --test-reporter=spec dist-test/test/*.test.js 2>&1 | tee "$work/node.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
set -e

step "npm pack, install into a fresh project, tsc (nodenext, bundler, node10, no DOM, TypeScript 3.6), run with node"
npm pack --silent --pack-destination "$work" >/dev/null
tarball=$(ls "$work"/krepis-core-*.tgz)
listing=$(tar -tzf "$tarball" | sort)
for expected in package/package.json package/README.md package/dist/mod.js package/dist/mod.d.ts \
  package/dist/fetch.js package/dist/node.js package/dist/testing.d.ts package/dist/ts3.6/mod.d.ts; do
  grep -qx "$expected" <<<"$listing" || { echo "missing from the tarball: $expected"; exit 1; }
done
if grep -Eq '^package/(src|test|example|node_modules)/' <<<"$listing"; then
  echo "the tarball holds more than dist:"; echo "$listing"; exit 1
fi
app="$work/app"
mkdir -p "$app"
cat >"$app/package.json" <<'JSON'
{ "name": "krepis-core-smoke", "private": true, "type": "module" }
JSON
(cd "$app" && npm install --no-audit --no-fund --loglevel=error "$tarball")
cat >"$app/main.ts" <<'TS'
import { createContext, type KrepisContext, withCancel, withTimeout } from "@krepis/core";
import { testContext } from "@krepis/core/testing";
import { contextFromRequest, withContext } from "@krepis/core/fetch";
import { krepisMiddleware } from "@krepis/core/node";

async function stamp(ctx: KrepisContext): Promise<number> {
  ctx.signal.throwIfAborted();
  return ctx.clock.now();
}

const t = testContext({ now: 1_000, seed: 42 });
const { ctx } = withTimeout(t, 500);
t.clock.advance(500);
const fromRequest = contextFromRequest(new Request("https://x.example/", { headers: { "x-tenant-id": "acme" } }));
const handler = withContext(async (c) => new Response(c.tenant_id));
const body = await (await handler(new Request("https://x.example/", { headers: { "x-tenant-id": "fetch" } }))).text();
const scope = withCancel(createContext());
scope.cancel();
console.log(JSON.stringify({
  expired: ctx.signal.aborted,
  first: t.random.next(),
  now: await stamp(t),
  tenant: fromRequest.tenant_id,
  body,
  cancelled: scope.ctx.signal.aborted,
  middleware: typeof krepisMiddleware(),
}));
TS
cat >"$app/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "lib": ["ES2022", "DOM"], "module": "NodeNext", "moduleResolution": "NodeNext",
    "strict": true, "skipLibCheck": false, "types": [], "outDir": "out"
  },
  "files": ["main.ts"]
}
JSON
cat >"$app/tsconfig.bundler.json" <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "lib": ["ES2022", "DOM"], "module": "ESNext", "moduleResolution": "Bundler",
    "strict": true, "skipLibCheck": false, "types": [], "noEmit": true
  },
  "files": ["main.ts"]
}
JSON
cat >"$app/cjs.ts" <<'TS'
import { createContext, type KrepisContext } from "@krepis/core";
import { testContext } from "@krepis/core/testing";
import { contextFromRequest } from "@krepis/core/fetch";
export async function load(ctx: KrepisContext, id: string): Promise<string> { return `${ctx.tenant_id}/${id}`; }
export const made: KrepisContext[] = [createContext(), testContext({ seed: 1 }), contextFromRequest(new Request("https://x.example/"))];
TS
cat >"$app/tsconfig.node10.json" <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "lib": ["ES2022", "DOM"], "module": "CommonJS", "moduleResolution": "node",
    "strict": true, "skipLibCheck": false, "types": [], "noEmit": true
  },
  "files": ["cjs.ts"]
}
JSON
"$tsc" -p "$app/tsconfig.json"
"$tsc" -p "$app/tsconfig.bundler.json"
# CommonJS projects on TypeScript's older `node` resolution, as many NestJS and Express code
# bases still are: main, types and typesVersions serve them.
"$tsc" -p "$app/tsconfig.node10.json"
# Projects that type-check with no DOM lib and no `AbortSignal` in their `@types/node` (an old one,
# or none), on today's compiler and on TypeScript 3.6, which reads the down-levelled declarations
# in dist/ts3.6 through typesVersions (no `import type`, no `type` modifiers on names).
legacy="$work/legacy"
mkdir -p "$legacy"
cat >"$legacy/package.json" <<'JSON'
{ "name": "krepis-core-legacy", "private": true }
JSON
(cd "$legacy" && npm install --no-audit --no-fund --loglevel=error typescript@3.6.5 "$tarball")
cat >"$legacy/legacy.ts" <<'TS'
import { ContextSignal, createContext, KrepisContext, withTimeout } from "@krepis/core";
import { testContext } from "@krepis/core/testing";
export async function load(ctx: KrepisContext, id: string): Promise<string> {
  ctx.signal.throwIfAborted();
  const signal: ContextSignal = ctx.signal;
  return signal.aborted ? "" : ctx.tenant_id + "/" + id;
}
export const made: KrepisContext[] = [createContext(), testContext({ seed: 1 }), withTimeout(createContext(), 5).ctx];
TS
cat >"$legacy/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "target": "ES2017", "lib": ["ES2017"], "module": "CommonJS", "moduleResolution": "node",
    "strict": true, "skipLibCheck": false, "types": [], "noEmit": true
  },
  "files": ["legacy.ts"]
}
JSON
"$legacy/node_modules/.bin/tsc" --version
"$legacy/node_modules/.bin/tsc" -p "$legacy/tsconfig.json"
"$tsc" -p "$legacy/tsconfig.json"
smoke=$(node "$app/out/main.js")
echo "$smoke"
expected='{"expired":true,"first":0.6011037519201636,"now":1500,"tenant":"acme","body":"fetch","cancelled":true,"middleware":"function"}'
[ "$smoke" = "$expected" ] || { echo "unexpected smoke output, wanted $expected"; exit 1; }

step "deno publish --dry-run"
"$deno" publish --dry-run --allow-dirty

# Deno: "ok | 52 passed | 0 failed (1s)"; Node's spec reporter: "ℹ pass 52" and "ℹ fail 0".
deno_passed=$(sed -nE 's/^(ok|FAILED) \| ([0-9]+) passed.*/\2/p' "$work/deno.log" | tail -n 1)
deno_failed=$(sed -nE 's/^(ok|FAILED) \| [0-9]+ passed[^|]*\| ([0-9]+) failed.*/\2/p' "$work/deno.log" | tail -n 1)
node_passed=$(sed -nE 's/^ℹ pass ([0-9]+)$/\1/p' "$work/node.log" | tail -n 1)
node_failed=$(sed -nE 's/^ℹ fail ([0-9]+)$/\1/p' "$work/node.log" | tail -n 1)
if [ -z "$deno_passed" ] || [ -z "$node_passed" ]; then status=1; fi
echo
echo "deno: ${deno_passed:-0} passed, ${deno_failed:-0} failed; node: ${node_passed:-0} passed, ${node_failed:-0} failed"
echo "core: $(( ${deno_passed:-0} + ${node_passed:-0} )) passed, $(( ${deno_failed:-0} + ${node_failed:-0} )) failed"
exit "$status"
