"use strict";
// bin/krepis.cjs as a process: arguments, standard streams, exit codes and signals reach the
// binary and come back. The binary is a shell script named by KREPIS_BINARY.
const assert = require("node:assert/strict");
const { spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { after, describe, it } = require("node:test");

const launcher = path.join(__dirname, "..", "bin", "krepis.cjs");
const skip = process.platform === "win32" ? "shell scripts stand in for the binary" : false;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "krepis-launcher-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function fakeBinary(name, body) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

function run(binary, args, input) {
  return spawnSync(process.execPath, [launcher, ...args], {
    env: { ...process.env, KREPIS_BINARY: binary },
    input,
    encoding: "utf8",
    timeout: 20000,
  });
}

describe("bin/krepis.cjs", { skip }, () => {
  it("passes the arguments and returns the exit code", () => {
    const bin = fakeBinary("args", 'for a in "$@"; do echo "[$a]"; done; echo oops >&2; exit 3');
    const r = run(bin, ["check", "src dir", "--format", "json"]);
    assert.equal(r.stdout, "[check]\n[src dir]\n[--format]\n[json]\n");
    assert.equal(r.stderr, "oops\n");
    assert.equal(r.status, 3);
  });

  it("hands standard input to the binary (as `krepis lsp` needs)", () => {
    const bin = fakeBinary("cat", "tr a-z A-Z");
    const r = run(bin, [], "content-length: 2\r\n\r\n{}");
    assert.equal(r.stdout, "CONTENT-LENGTH: 2\r\n\r\n{}");
    assert.equal(r.status, 0);
  });

  it("dies of the signal that killed the binary", () => {
    const bin = fakeBinary("killed", "kill -TERM $$");
    const r = run(bin, []);
    assert.equal(r.signal, "SIGTERM");
  });

  it("passes a signal it receives on to the binary", { timeout: 20000 }, async () => {
    const mark = path.join(dir, "got-term");
    const bin = fakeBinary("trap", `trap 'echo term > "${mark}"; exit 7' TERM; echo "ready $$"; while :; do sleep 0.05; done`);
    const child = spawn(process.execPath, [launcher], { env: { ...process.env, KREPIS_BINARY: bin }, stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    let binaryPid;
    try {
      binaryPid = await new Promise((resolve, reject) => {
        child.stdout.on("data", (chunk) => {
          const ready = /ready (\d+)/.exec(String(chunk));
          if (ready) resolve(Number(ready[1]));
        });
        exited.then(() => reject(new Error("the launcher exited before the binary was ready")));
      });
      child.kill("SIGTERM");
      const result = await exited;
      assert.deepEqual(result, { code: 7, signal: null }, "the binary's own exit code after handling SIGTERM");
      assert.equal(fs.readFileSync(mark, "utf8"), "term\n");
    } finally {
      // Whatever happened, leave no binary behind holding the pipe open.
      child.stdout.destroy();
      if (binaryPid !== undefined) {
        try {
          process.kill(binaryPid, "SIGKILL");
        } catch {
          // Already gone, as it should be.
        }
      }
    }
  });

  it("exits 2 with a message when KREPIS_BINARY names nothing", () => {
    const r = run(path.join(dir, "missing"), ["check"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /KREPIS_BINARY is set to ".*missing", which is not a file/);
  });

  it("exits 2 with a message when the binary cannot be run", () => {
    const file = path.join(dir, "not-executable");
    fs.writeFileSync(file, "#!/bin/sh\nexit 0\n", { mode: 0o644 });
    const r = run(file, ["check"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /could not run .*not-executable \(from KREPIS_BINARY\): .*EACCES/);
  });
});
