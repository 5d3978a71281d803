#!/usr/bin/env bash
# The npm packages and the platform .vsix, used the way people install Krepis, offline, on this
# machine's platform:
#   - the launcher's unit tests (platform -> package mapping, binary choice, argv/stdio/exit
#     codes/signals through bin/krepis.cjs);
#   - scripts/pack.mjs builds @krepis/cli-<this platform> around the given binary and packs both
#     packages (the release workflow's packing step);
#   - the tarballs are installed into a fresh npm project holding a copy of fixtures/shop, which is
#     checked with `npx krepis check`, `npm run lint`, the language server through the launcher,
#     and `deno run -A npm:@krepis/cli check .` over the same node_modules;
#   - without the platform package, `krepis` names the missing package and exits 2;
#   - editors/vscode/scripts/package-platform.mjs bundles the binary into a platform .vsix.
#
#   bash packages/cli/ci.sh path/to/krepis
#
# Needs Node >= 18 with npm, unzip, and Deno at packages/sdk/node_modules/.bin/deno (installed
# from packages/sdk's lockfile when missing). The last line is `cli-packages: N passed, M failed`.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: bash packages/cli/ci.sh path/to/krepis" >&2
  exit 2
fi
binary=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$binary" ] || { echo "ci: $1 is not an executable krepis binary" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export NO_COLOR=1 DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1 npm_config_fund=false npm_config_audit=false \
  npm_config_update_notifier=false
unset KREPIS_BINARY

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok - $*"; }
fail() { failed=$((failed + 1)); echo "not ok - $*"; }
step() { printf '\n== %s\n' "$*"; }

# Runs a command, keeping its exit code in $status and its stdout+stderr in $out.
capture() {
  set +e
  out=$("$@" 2>&1)
  status=$?
  set -e
}

# expect NAME CODE TEXT: the last captured command exited CODE and printed TEXT (a fixed string).
expect() {
  local name=$1 code=$2 text=$3
  if [ "$status" -eq "$code" ] && grep -qF -- "$text" <<<"$out"; then
    pass "$name"
  else
    fail "$name (exit $status, expected $code and \"$text\")"
    printf '%s\n' "$out" | tail -n 15 | sed 's/^/    /'
  fi
}

summary='Found 7 errors and 0 warnings in 5 files of 10 checked'

# This machine's target and the names that follow from it, from the launcher's own table.
read -r target package vsce_target version < <(node -e '
  const p = require(process.argv[1] + "/lib/platforms.cjs");
  const row = p.targetFor({ platform: process.platform, arch: process.arch, libc: p.hostLibc() });
  if (!row) { console.error("this machine has no prebuilt-binary target"); process.exit(1); }
  import(process.argv[1] + "/scripts/pack.mjs").then((m) =>
    console.log(row.target, p.packageName(row.target), row.vsce, m.cargoVersion()));
' "$here")
echo "target $target ($package), vsce target $vsce_target, version $version"

step "unit tests (node --test)"
set +e
(cd "$here" && node --test --test-reporter=tap test/) >"$work/unit.log" 2>&1
unit_status=$?
set -e
unit_pass=$(awk '/^# pass / { print $3 }' "$work/unit.log")
unit_fail=$(awk '/^# fail / { print $3 }' "$work/unit.log")
grep -E '^ *not ok ' "$work/unit.log" | sed 's/^ *//' || true
passed=$((passed + ${unit_pass:-0}))
failed=$((failed + ${unit_fail:-0}))
if [ "$unit_status" -ne 0 ] && [ "${unit_fail:-0}" -eq 0 ]; then
  fail "node --test exited $unit_status"
  tail -n 20 "$work/unit.log"
fi
echo "unit tests: ${unit_pass:-0} passed, ${unit_fail:-0} failed"

step "pack: scripts/pack.mjs $1 --target $target"
capture node "$here/scripts/pack.mjs" "$binary" "$work/dist" --target "$target"
printf '%s\n' "$out"
launcher_tgz="$work/dist/krepis-cli-$version.tgz"
platform_tgz="$work/dist/krepis-cli-$target-$version.tgz"
if [ "$status" -eq 0 ] && [ -f "$launcher_tgz" ] && [ -f "$platform_tgz" ]; then
  pass "pack.mjs wrote krepis-cli-$version.tgz and krepis-cli-$target-$version.tgz (the Cargo version)"
else
  fail "pack.mjs (exit $status) did not write both tarballs at version $version"
  echo "cli-packages: $passed passed, $failed failed"
  exit 1
fi
listing=$(tar -tvzf "$platform_tgz")
if grep -Eq '^-rwx.* package/bin/krepis$' <<<"$listing" && [ "$(grep -c ' package/' <<<"$listing")" -eq 3 ]; then
  pass "the platform tarball holds package.json, README.md and an executable bin/krepis only"
else
  fail "the platform tarball's contents"; printf '%s\n' "$listing"
fi
manifest=$(tar -xzOf "$platform_tgz" package/package.json)
if node -e '
  const m = JSON.parse(process.argv[1]);
  const ok = m.name === process.argv[2] && m.version === process.argv[3] && m.os.join() === process.platform &&
    m.cpu.join() === process.arch && (process.platform !== "linux" || m.libc.join() === "glibc");
  process.exit(ok ? 0 : 1);' "$manifest" "$package" "$version"; then
  pass "the platform package.json names $package@$version with this machine's os/cpu/libc"
else
  fail "the platform package.json: $manifest"
fi
launcher_manifest=$(tar -xzOf "$launcher_tgz" package/package.json)
if node -e '
  const m = JSON.parse(process.argv[1]);
  const deps = Object.entries(m.optionalDependencies || {});
  const ok = m.version === process.argv[2] && deps.length === 5 && deps.every(([, v]) => v === process.argv[2]) &&
    !m.dependencies && !(m.scripts && (m.scripts.install || m.scripts.postinstall));
  process.exit(ok ? 0 : 1);' "$launcher_manifest" "$version"; then
  pass "the launcher depends optionally on five platform packages at $version, with no install script"
else
  fail "the launcher's package.json: $launcher_manifest"
fi

printf '#!/bin/sh\necho "krepis 0.0.0-other"\n' >"$work/other-krepis"
chmod +x "$work/other-krepis"
capture node "$here/scripts/pack.mjs" "$work/other-krepis" "$work/other-dist" --target "$target"
expect "pack.mjs refuses a binary of another version" 2 "but the Cargo workspace is at $version"

step "a fresh npm project with the tarballs installed, offline"
app="$work/app"
mkdir -p "$app"
cp -R "$repo/fixtures/shop/." "$app/"
cp "$launcher_tgz" "$platform_tgz" "$app/"
cat >"$app/package.json" <<'JSON'
{
  "name": "shop",
  "private": true,
  "scripts": { "lint": "krepis check ." }
}
JSON
capture bash -c "cd '$app' && npm install --offline --save-dev ./krepis-cli-$version.tgz ./krepis-cli-$target-$version.tgz"
expect "npm install --offline of both tarballs" 0 "added 2 packages"
if [ -x "$app/node_modules/$package/bin/krepis" ] && [ -L "$app/node_modules/.bin/krepis" ]; then
  pass "the installed binary is executable and node_modules/.bin/krepis links the launcher"
else
  fail "node_modules/$package/bin/krepis executable, node_modules/.bin/krepis present"
fi

capture bash -c "cd '$app' && npx krepis check ."
expect "npx krepis check . finds the shop's violations and exits 1" 1 "$summary"
capture bash -c "cd '$app' && npx krepis check src/shared/ids.ts"
expect "npx krepis check on a clean file exits 0" 0 "No problems in 1 file"
capture bash -c "cd '$app' && npx krepis check --format nope"
expect "a usage error comes back as exit 2" 2 "invalid value 'nope'"
capture bash -c "cd '$app' && npx krepis --version"
expect "npx krepis --version is the packed version" 0 "krepis $version"
capture bash -c "cd '$app' && npx --no -- krepis --version"
expect "npx --no -- krepis (the README's editor command) runs the local install" 0 "krepis $version"
capture bash -c "cd '$app' && npm run lint"
expect "npm run lint (\"lint\": \"krepis check .\") fails the run with the findings" 1 "$summary"

# An editor runs `krepis lsp` through the launcher: initialize, shutdown and exit over stdin/stdout.
# shellcheck disable=SC2016 # JavaScript, not shell, in single quotes
capture node -e '
  const { spawn } = require("node:child_process");
  const child = spawn(process.argv[1], ["lsp"], { cwd: process.argv[2], stdio: ["pipe", "pipe", "inherit"] });
  const send = (m) => { const b = JSON.stringify(m); child.stdin.write(`Content-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`); };
  let seen = "";
  const timer = setTimeout(() => { console.log("timed out; got: " + seen.slice(0, 300)); child.kill(); process.exit(1); }, 30000);
  child.stdout.on("data", (d) => {
    seen += d;
    if (seen.includes("\"id\":1") && seen.includes("\"capabilities\"") && !seen.includes("\"id\":2")) {
      console.log("initialize answered with capabilities");
      send({ jsonrpc: "2.0", method: "initialized", params: {} });
      send({ jsonrpc: "2.0", id: 2, method: "shutdown" });
    }
    if (seen.includes("\"id\":2")) send({ jsonrpc: "2.0", method: "exit" });
  });
  child.on("exit", (code) => { clearTimeout(timer); console.log(`lsp exited ${code}`); process.exit(code === 0 ? 0 : 1); });
  send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { processId: null, rootUri: "file://" + process.argv[2], capabilities: {} } });
' "$app/node_modules/.bin/krepis" "$app"
expect "krepis lsp through the launcher answers initialize and exits 0 after shutdown/exit" 0 "lsp exited 0"

step "deno run -A npm:@krepis/cli over the npm-installed node_modules"
deno="$repo/packages/sdk/node_modules/.bin/deno"
if [ ! -x "$deno" ]; then
  # The same pinned Deno the SDK tests use; the registry may serve only some of its platform
  # packages, so `npm install --no-save` stands in when `npm ci` refuses the lockfile.
  npm ci --prefix "$repo/packages/sdk" --loglevel=error 2>/dev/null \
    || npm install --prefix "$repo/packages/sdk" --no-save --loglevel=error
fi
echo '{ "nodeModulesDir": "manual" }' >"$app/deno.json"
mkdir -p "$work/deno-dir"
capture bash -c "cd '$app' && DENO_DIR='$work/deno-dir' '$deno' run -A npm:@krepis/cli check ."
expect "deno run -A npm:@krepis/cli check . finds the shop's violations and exits 1" 1 "$summary"
rm "$app/deno.json"

step "without the platform package"
bare="$work/bare"
mkdir -p "$bare"
cp -R "$repo/fixtures/shop/." "$bare/"
cp "$launcher_tgz" "$bare/"
echo '{ "name": "bare", "private": true }' >"$bare/package.json"
capture bash -c "cd '$bare' && npm install --offline --omit=optional --save-dev ./krepis-cli-$version.tgz"
expect "npm install --omit=optional of the launcher alone" 0 "added 1 package"
capture bash -c "cd '$bare' && npx krepis check ."
expect "krepis names the missing $package and exits 2" 2 "the package $package is not installed"
expect "and says how to add it" 2 "npm install --save-dev $package@$version"
capture bash -c "cd '$bare' && KREPIS_BINARY='$binary' npx krepis check ."
expect "KREPIS_BINARY runs the given binary instead" 1 "$summary"

step "platform .vsix bundling the binary (vsce package --target $vsce_target)"
vscode="$repo/editors/vscode"
if [ ! -e "$vscode/node_modules/@vscode/vsce/vsce" ]; then
  (cd "$vscode" && npm ci --loglevel=error)
fi
vsix="$work/krepis-$vsce_target.vsix"
capture node "$vscode/scripts/package-platform.mjs" "$binary" --target "$vsce_target" --out "$vsix"
expect "package-platform.mjs packages krepis-$vsce_target.vsix" 0 "Packaged: $vsix"
capture node "$vscode/scripts/check-vsix.mjs" "$vsix" --target "$vsce_target"
expect "check-vsix: the manifest, the bundle and bin/krepis are in it" 0 "is complete"
capture unzip -Z "$vsix" extension/bin/krepis
expect "unzip lists extension/bin/krepis with mode rwxr-xr-x" 0 "-rwxr-xr-x"
capture unzip -p "$vsix" extension.vsixmanifest
expect "the vsix manifest names the target platform" 0 "TargetPlatform=\"$vsce_target\""
mkdir -p "$work/unzipped"
capture bash -c "unzip -q '$vsix' -d '$work/unzipped' && '$work/unzipped/extension/bin/krepis' --version"
expect "the unzipped extension/bin/krepis runs" 0 "krepis $version"
if [ -e "$vscode/bin" ]; then
  fail "package-platform.mjs left a bin/ folder in editors/vscode"
else
  pass "package-platform.mjs left nothing behind in editors/vscode"
fi

echo
echo "cli-packages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
