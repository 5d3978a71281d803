"use strict";
// Which krepis binary the `krepis` command runs, and the message when there is none. Pure apart
// from the functions passed in, so the tests can drive it with any machine and any install.

const path = require("node:path");
const { LAUNCHER, TARGETS, describeHost, packageName, targetFor } = require("./platforms.cjs");

/** The environment variable that names a krepis binary to run instead of the packaged one. */
const OVERRIDE = "KREPIS_BINARY";

/**
 * Finds the binary to run.
 * - `env`: the environment (`KREPIS_BINARY` wins when it is set and not empty);
 * - `host`: `{ platform, arch, libc }` of this machine;
 * - `resolve(request)`: `require.resolve` as seen from the launcher package (throws when the
 *   request cannot be resolved);
 * - `isFile(file)`: whether a regular file exists there;
 * - `version`: the launcher's version (the platform package is published with the same one).
 * Returns `{ ok: true, path, from }` or `{ ok: false, message }`.
 */
function findBinary({ env, host, resolve, isFile, version }) {
  const override = (env[OVERRIDE] || "").trim();
  if (override !== "") {
    if (isFile(override)) {
      return { ok: true, path: override, from: OVERRIDE };
    }
    return {
      ok: false,
      message:
        `krepis: ${OVERRIDE} is set to "${override}", which is not a file.\n` +
        `Point it at a krepis binary, or unset it to use the binary from ${LAUNCHER}'s platform package.`,
    };
  }

  const target = targetFor(host);
  if (target === undefined) {
    const supported = TARGETS.map((t) => `  ${packageName(t.target)}`).join("\n");
    return {
      ok: false,
      message:
        `krepis: there is no prebuilt krepis binary for this platform (${describeHost(host)}).\n` +
        `Prebuilt binaries exist for:\n${supported}\n` +
        "Build one from source (`cargo install --git https://github.com/krepis/krepis krepis-cli`) " +
        `and set ${OVERRIDE} to its path.`,
    };
  }

  const name = packageName(target.target);
  let manifest;
  try {
    manifest = resolve(`${name}/package.json`);
  } catch {
    manifest = undefined;
  }
  if (manifest !== undefined) {
    const file = path.join(path.dirname(manifest), "bin", target.binary);
    if (isFile(file)) {
      return { ok: true, path: file, from: name };
    }
    return {
      ok: false,
      message:
        `krepis: the package ${name} is installed (${path.dirname(manifest)}) but holds no bin/${target.binary}.\n` +
        `Reinstall it: npm install --save-dev ${name}@${version}`,
    };
  }
  return {
    ok: false,
    message:
      `krepis: the package ${name} is not installed; it holds the krepis binary for this platform (${describeHost(host)}).\n` +
      `${LAUNCHER} lists it as an optional dependency, which package managers skip when optional dependencies are\n` +
      "omitted (npm --omit=optional, pnpm --no-optional, yarn --ignore-optional) or when the lockfile was written\n" +
      "on another platform without it.\n" +
      "To fix it, reinstall without omitting optional dependencies, or add the package next to the launcher:\n" +
      `  npm install --save-dev ${name}@${version}\n` +
      `Or set ${OVERRIDE} to the path of a krepis binary.`,
  };
}

module.exports = { OVERRIDE, findBinary };
