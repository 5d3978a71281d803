#!/usr/bin/env bash
# Browser test of `krepis report`: the pages of the fixture projects and of a generated
# 5,000-file project, opened in Debian's headless Chromium through playwright-core.
#
#   crates/krepis-cli/tests/report-e2e/ci.sh <krepis-binary>
#
# Installs what it needs when it is missing (chromium through apt-get, playwright-core from
# ./package-lock.json through `npm ci`; Playwright never downloads a browser), generates the large
# project with bench/gen_project.py, then runs ./run.mjs. Screenshots go to ./artifacts/.
# KREPIS_E2E_KEEP=1 keeps the temporary folder (the project copies and their pages).
set -euo pipefail

if [ "$#" -ne 1 ]; then
  echo "usage: $0 <krepis-binary>" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
binary="$(realpath "$1")"
if [ ! -x "$binary" ] || [ ! -f "$binary" ]; then
  echo "report-e2e: $1 is not an executable file" >&2
  exit 2
fi
say() { echo "report-e2e: $*"; }

find_chromium() {
  for candidate in /usr/bin/chromium /usr/lib/chromium/chromium; do
    if [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
if ! find_chromium > /dev/null; then
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    sudo=(sudo)
  fi
  say "installing chromium with apt-get"
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y chromium
fi
chromium="$(find_chromium)"

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
stamp="$here/node_modules/.krepis-e2e-installed"
want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing playwright-core (npm ci)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/krepis-report-e2e.XXXXXX")"
cleanup() {
  if [ "${KREPIS_E2E_KEEP:-}" = 1 ]; then
    say "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The benchmark's generator, so the large page is the same project the benchmarks check.
big="$root/bench/out/project-5000"
if [ ! -f "$big/src/main.ts" ]; then
  say "generating a 5,000-file project in bench/out/project-5000"
  python3 "$root/bench/gen_project.py" "$big" --files 5000 > /dev/null
fi

artifacts="$here/artifacts"
rm -rf "$artifacts"
mkdir -p "$artifacts"
E2E_BINARY="$binary" E2E_CHROMIUM="$chromium" E2E_ARTIFACTS="$artifacts" E2E_WORK="$work" \
  E2E_FIXTURES="$root/fixtures" E2E_BIG="$big" node "$here/run.mjs"
