"use strict";
// The platform → package mapping the launcher and the packing script share, the launcher's choice
// of binary, and the launcher's package.json against the Cargo version.
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { describe, it } = require("node:test");
const { TARGETS, byTarget, describeHost, hostLibc, packageName, targetFor } = require("../lib/platforms.cjs");
const { findBinary } = require("../lib/launcher.cjs");

const root = path.join(__dirname, "..");

describe("targetFor", () => {
  it("maps each supported machine to its package", () => {
    const cases = [
      [{ platform: "linux", arch: "x64", libc: "glibc" }, "@krepis/cli-linux-x64-gnu"],
      [{ platform: "linux", arch: "arm64", libc: "glibc" }, "@krepis/cli-linux-arm64-gnu"],
      [{ platform: "darwin", arch: "x64", libc: null }, "@krepis/cli-darwin-x64"],
      [{ platform: "darwin", arch: "arm64", libc: null }, "@krepis/cli-darwin-arm64"],
      [{ platform: "win32", arch: "x64", libc: null }, "@krepis/cli-win32-x64-msvc"],
    ];
    for (const [host, name] of cases) {
      const row = targetFor(host);
      assert.ok(row, `no target for ${describeHost(host)}`);
      assert.equal(packageName(row.target), name);
    }
  });

  it("has no binary for musl, 32-bit or Windows on Arm", () => {
    for (const host of [
      { platform: "linux", arch: "x64", libc: "musl" },
      { platform: "linux", arch: "arm", libc: "glibc" },
      { platform: "linux", arch: "ia32", libc: "glibc" },
      { platform: "win32", arch: "arm64", libc: null },
      { platform: "freebsd", arch: "x64", libc: null },
    ]) {
      assert.equal(targetFor(host), undefined, describeHost(host));
    }
  });

  it("declares npm's os/cpu/libc spellings and a binary name per target", () => {
    assert.deepEqual(
      TARGETS.map((t) => t.target),
      ["linux-x64-gnu", "linux-arm64-gnu", "darwin-x64", "darwin-arm64", "win32-x64-msvc"],
    );
    for (const t of TARGETS) {
      assert.ok(["linux", "darwin", "win32"].includes(t.os), t.target);
      assert.ok(["x64", "arm64"].includes(t.cpu), t.target);
      assert.equal(t.libc, t.os === "linux" ? "glibc" : null, t.target);
      assert.equal(t.binary, t.os === "win32" ? "krepis.exe" : "krepis", t.target);
      assert.equal(byTarget(t.target), t);
    }
    assert.equal(byTarget("linux-x64-musl"), undefined);
  });
});

describe("hostLibc", () => {
  const noFiles = { readdirSync: () => ["libc.so.6"], existsSync: () => false };
  it("believes Node's report of glibc", () => {
    const proc = { platform: "linux", report: { getReport: () => ({ header: { glibcVersionRuntime: "2.39" } }) } };
    assert.equal(hostLibc(proc, { readdirSync: () => ["ld-musl-x86_64.so.1"], existsSync: () => true }), "glibc");
  });
  it("finds musl's loader when the report names no glibc", () => {
    const proc = { platform: "linux", report: { getReport: () => ({ header: {} }) } };
    assert.equal(hostLibc(proc, { readdirSync: () => ["ld-musl-x86_64.so.1"], existsSync: () => false }), "musl");
    assert.equal(hostLibc({ platform: "linux" }, { readdirSync: () => [], existsSync: (f) => f === "/etc/alpine-release" }), "musl");
  });
  it("defaults to glibc on Linux and is null elsewhere", () => {
    assert.equal(hostLibc({ platform: "linux", report: { getReport: () => { throw new Error("no"); } } }, noFiles), "glibc");
    assert.equal(hostLibc({ platform: "darwin" }, noFiles), null);
    assert.equal(hostLibc({ platform: "win32" }, noFiles), null);
  });
});

describe("findBinary", () => {
  const linux = { platform: "linux", arch: "x64", libc: "glibc" };
  const installedAt = (dir) => (request) => {
    if (request === "@krepis/cli-linux-x64-gnu/package.json") return path.join(dir, "package.json");
    throw Object.assign(new Error(`Cannot find module '${request}'`), { code: "MODULE_NOT_FOUND" });
  };
  const nothing = (request) => {
    throw Object.assign(new Error(`Cannot find module '${request}'`), { code: "MODULE_NOT_FOUND" });
  };
  const pkg = path.join("/p", "node_modules", "@krepis", "cli-linux-x64-gnu");
  const binary = path.join(pkg, "bin", "krepis");

  it("runs the platform package's bin/krepis", () => {
    const r = findBinary({ env: {}, host: linux, resolve: installedAt(pkg), isFile: (f) => f === binary, version: "1.2.3" });
    assert.deepEqual(r, { ok: true, path: binary, from: "@krepis/cli-linux-x64-gnu" });
  });

  it("runs krepis.exe on Windows", () => {
    const winPkg = path.join("/p", "node_modules", "@krepis", "cli-win32-x64-msvc");
    const exe = path.join(winPkg, "bin", "krepis.exe");
    const resolve = (request) => {
      assert.equal(request, "@krepis/cli-win32-x64-msvc/package.json");
      return path.join(winPkg, "package.json");
    };
    const r = findBinary({ env: {}, host: { platform: "win32", arch: "x64", libc: null }, resolve, isFile: (f) => f === exe, version: "1.2.3" });
    assert.deepEqual(r, { ok: true, path: exe, from: "@krepis/cli-win32-x64-msvc" });
  });

  it("prefers KREPIS_BINARY, even when the package is installed", () => {
    const r = findBinary({ env: { KREPIS_BINARY: "/opt/krepis" }, host: linux, resolve: installedAt(pkg), isFile: () => true, version: "1.2.3" });
    assert.deepEqual(r, { ok: true, path: "/opt/krepis", from: "KREPIS_BINARY" });
  });

  it("reports a KREPIS_BINARY that is not a file instead of falling back", () => {
    const r = findBinary({ env: { KREPIS_BINARY: "/nowhere/krepis" }, host: linux, resolve: installedAt(pkg), isFile: (f) => f === binary, version: "1.2.3" });
    assert.equal(r.ok, false);
    assert.match(r.message, /KREPIS_BINARY is set to "\/nowhere\/krepis", which is not a file/);
  });

  it("names the missing platform package, its version and the fix", () => {
    const r = findBinary({ env: { KREPIS_BINARY: "  " }, host: linux, resolve: nothing, isFile: () => true, version: "1.2.3" });
    assert.equal(r.ok, false);
    assert.match(r.message, /the package @krepis\/cli-linux-x64-gnu is not installed/);
    assert.match(r.message, /this platform \(linux x64 \(glibc\)\)/);
    assert.match(r.message, /--omit=optional/);
    assert.match(r.message, /npm install --save-dev @krepis\/cli-linux-x64-gnu@1\.2\.3/);
    assert.match(r.message, /KREPIS_BINARY/);
  });

  it("says when the package is there without its binary", () => {
    const r = findBinary({ env: {}, host: linux, resolve: installedAt(pkg), isFile: () => false, version: "1.2.3" });
    assert.equal(r.ok, false);
    assert.match(r.message, /@krepis\/cli-linux-x64-gnu is installed .* but holds no bin\/krepis/);
  });

  it("lists the prebuilt platforms on a machine without one", () => {
    const r = findBinary({ env: {}, host: { platform: "linux", arch: "x64", libc: "musl" }, resolve: nothing, isFile: () => true, version: "1.2.3" });
    assert.equal(r.ok, false);
    assert.match(r.message, /no prebuilt krepis binary for this platform \(linux x64 \(musl\)\)/);
    for (const t of TARGETS) assert.ok(r.message.includes(packageName(t.target)), t.target);
    assert.match(r.message, /cargo install/);
  });
});

describe("package.json", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));

  it("has the version of the krepis crate", async () => {
    const { cargoVersion } = await import(path.join(root, "scripts", "pack.mjs"));
    assert.equal(manifest.version, cargoVersion(), "packages/cli/package.json's version differs from the Cargo workspace's");
  });

  it("depends, optionally and at its own version, on exactly the platform packages", () => {
    const expected = Object.fromEntries(TARGETS.map((t) => [packageName(t.target), manifest.version]));
    assert.deepEqual(manifest.optionalDependencies, expected);
    assert.equal(manifest.dependencies, undefined, "the launcher has no dependencies");
    assert.equal(manifest.scripts.postinstall, undefined, "nothing is downloaded at install time");
    assert.equal(manifest.scripts.install, undefined);
  });

  it("ships the launcher and what it requires", () => {
    assert.deepEqual(manifest.bin, { krepis: "bin/krepis.cjs" });
    for (const file of manifest.files) assert.ok(fs.existsSync(path.join(root, file)), file);
    const launcher = fs.readFileSync(path.join(root, "bin", "krepis.cjs"), "utf8");
    assert.match(launcher, /^#!\/usr\/bin\/env node\n/);
    for (const [, required] of launcher.matchAll(/require\("\.\.\/([^"]+)"\)/g)) {
      assert.ok(required === "package.json" || manifest.files.includes(required), `${required} is not in "files"`);
    }
  });
});
