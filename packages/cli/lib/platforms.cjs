"use strict";
// The platforms Krepis ships a prebuilt binary for, and how a machine is mapped to one of them.
// The launcher (bin/krepis.cjs) and the packing script (scripts/pack.mjs) both read this table, so
// the package a machine asks for and the `os`/`cpu`/`libc` a platform package declares cannot
// disagree.

const fs = require("node:fs");

/**
 * One row per platform package `@krepis/cli-<target>`:
 * - `os`, `cpu`, `libc`: Node's `process.platform`, `process.arch` and the C library, exactly as
 *   npm's `os`/`cpu`/`libc` fields spell them (`libc` only on Linux);
 * - `rust`: the Rust target triple the binary is built for;
 * - `vsce`: the VS Code target of the platform-specific extension that bundles the same binary;
 * - `binary`: the file name inside the package's `bin/` folder.
 */
const TARGETS = Object.freeze([
  { target: "linux-x64-gnu", os: "linux", cpu: "x64", libc: "glibc", rust: "x86_64-unknown-linux-gnu", vsce: "linux-x64", binary: "krepis" },
  { target: "linux-arm64-gnu", os: "linux", cpu: "arm64", libc: "glibc", rust: "aarch64-unknown-linux-gnu", vsce: "linux-arm64", binary: "krepis" },
  { target: "darwin-x64", os: "darwin", cpu: "x64", libc: null, rust: "x86_64-apple-darwin", vsce: "darwin-x64", binary: "krepis" },
  { target: "darwin-arm64", os: "darwin", cpu: "arm64", libc: null, rust: "aarch64-apple-darwin", vsce: "darwin-arm64", binary: "krepis" },
  { target: "win32-x64-msvc", os: "win32", cpu: "x64", libc: null, rust: "x86_64-pc-windows-msvc", vsce: "win32-x64", binary: "krepis.exe" },
]);

const SCOPE = "@krepis";
const LAUNCHER = `${SCOPE}/cli`;

/** The npm package that holds the binary of a target (`@krepis/cli-linux-x64-gnu`). */
function packageName(target) {
  return `${LAUNCHER}-${target}`;
}

/** The row of a target name (`linux-x64-gnu`), or undefined. */
function byTarget(target) {
  return TARGETS.find((t) => t.target === target);
}

/**
 * The C library of this Linux machine: "glibc" or "musl" (null off Linux). Node reports the glibc
 * it runs on in its diagnostic report; a runtime that reports nothing (a musl build of Node, or
 * another runtime's Node compatibility layer) is asked the file system: musl's dynamic loader
 * lives at /lib/ld-musl-<arch>.so.1.
 */
function hostLibc(proc = process, files = fs) {
  if (proc.platform !== "linux") {
    return null;
  }
  try {
    const report = proc.report && typeof proc.report.getReport === "function" ? proc.report.getReport() : null;
    const header = report && (typeof report === "string" ? JSON.parse(report).header : report.header);
    if (header && header.glibcVersionRuntime) {
      return "glibc";
    }
  } catch {
    // No usable report; fall through to the file system.
  }
  try {
    if (files.readdirSync("/lib").some((f) => /^ld-musl-.*\.so\.1$/.test(f))) {
      return "musl";
    }
  } catch {
    // No /lib to read.
  }
  return files.existsSync("/etc/alpine-release") ? "musl" : "glibc";
}

/** A human description of a machine: `linux x64 (glibc)`, `darwin arm64`. */
function describeHost(host) {
  return host.libc ? `${host.platform} ${host.arch} (${host.libc})` : `${host.platform} ${host.arch}`;
}

/**
 * The target of a machine `{ platform, arch, libc }` (as `process.platform`, `process.arch` and
 * hostLibc() report them), or undefined when no prebuilt binary exists for it.
 */
function targetFor(host) {
  return TARGETS.find(
    (t) => t.os === host.platform && t.cpu === host.arch && (t.libc === null || t.libc === host.libc),
  );
}

module.exports = { TARGETS, LAUNCHER, packageName, byTarget, hostLibc, describeHost, targetFor };
