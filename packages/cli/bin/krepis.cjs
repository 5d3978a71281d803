#!/usr/bin/env node
"use strict";
// The `krepis` command of @krepis/cli: runs the native krepis binary of this platform, which the
// matching optional dependency @krepis/cli-<platform> holds (or $KREPIS_BINARY), with the same
// arguments, standard streams, exit code and signals. Nothing is downloaded.

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const { findBinary } = require("../lib/launcher.cjs");
const { hostLibc } = require("../lib/platforms.cjs");
const { version } = require("../package.json");

/** Exit code of a launcher failure, as krepis uses it for usage and I/O errors. */
const FAILURE = 2;

function isFile(file) {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

const found = findBinary({
  env: process.env,
  host: { platform: process.platform, arch: process.arch, libc: hostLibc() },
  resolve: (request) => require.resolve(request),
  isFile,
  version,
});
if (!found.ok) {
  process.stderr.write(`${found.message}\n`);
  process.exit(FAILURE);
}

// A signal sent to the launcher (a terminal's Ctrl-C, an editor stopping `krepis lsp`, a CI
// timeout) is passed on, so the binary never outlives it. Windows has no such signals to pass.
// The handlers are in place before the binary starts: the binary writes to the same terminal or
// pipe directly, so whoever reads its first output may signal the launcher at once.
const SIGNALS = process.platform === "win32" ? [] : ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];
const forward = {};
let child = null;
for (const signal of SIGNALS) {
  forward[signal] = () => {
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
    }
  };
  try {
    process.on(signal, forward[signal]);
  } catch {
    // A runtime that cannot listen for this signal simply does not forward it.
  }
}

child = spawn(found.path, process.argv.slice(2), { stdio: "inherit", windowsHide: false });

child.on("error", (error) => {
  process.stderr.write(`krepis: could not run ${found.path} (from ${found.from}): ${error.message}\n`);
  process.exit(FAILURE);
});

child.on("exit", (code, signal) => {
  if (signal !== null) {
    // Die of the same signal, so whoever started the launcher sees what happened to the binary.
    for (const name of SIGNALS) {
      process.removeListener(name, forward[name]);
    }
    try {
      process.kill(process.pid, signal);
    } catch {
      // Fall back to the shell's convention below.
    }
    process.exit(128 + (os.constants.signals[signal] || 0));
  }
  process.exit(code === null ? FAILURE : code);
});
