#!/usr/bin/env bash
# Builds, tests and packages the VS Code extension from the lockfile (what CI runs for it).
set -euo pipefail
cd "$(dirname "$0")"

# The lockfile lists every platform's esbuild (and vsce-sign) binary as an optional package;
# npm installs only the one for this machine.
npm ci --no-audit --no-fund
npm test
npm run package
npm run check-vsix
# End to end against a real `krepis lsp` when one is built ($KREPIS_BIN, ../../target/*/krepis,
# or PATH); prints a note and passes when there is none.
node test/smoke/run.cjs
