//! The Deno SDK (`packages/sdk`) against this library, with a real Deno binary: the npm package
//! `deno` pinned in `packages/sdk/package.json` (`.ci/run` installs it), or `DENO` / `deno` on PATH.

use std::path::{Path, PathBuf};
use std::process::Command;

fn library() -> PathBuf {
    // The test binary lives in target/<profile>/deps, beside the cdylib that `cargo test` built
    // with this test's features; `cargo build` copies one up to target/<profile>.
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let name = format!(
        "{}krepis_bridge{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let path = [deps.join(&name), deps.parent().unwrap().join(&name)]
        .into_iter()
        .find(|path| path.exists());
    path.unwrap_or_else(|| {
        panic!(
            "{name} is missing beside {}: build the bridge first (`cargo build -p krepis-bridge`)",
            deps.display()
        )
    })
}

fn deno(sdk: &Path) -> PathBuf {
    if let Ok(path) = std::env::var("DENO") {
        return PathBuf::from(path);
    }
    let pinned = sdk.join("node_modules/.bin/deno");
    if pinned.exists() {
        return pinned;
    }
    PathBuf::from("deno")
}

#[test]
fn the_deno_sdk_passes_its_tests_against_the_real_library() {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../packages/sdk")
        .canonicalize()
        .unwrap();
    let output = Command::new(deno(&sdk))
        .args(["test", "--allow-ffi", "--allow-env", "--no-check=remote", "mod_test.ts"])
        .current_dir(&sdk)
        .env("KREPIS_BRIDGE_LIB", library())
        .env("KREPIS_EXPECT_ENGINE", krepis_kernel::engine::kernel().name())
        .env("NO_COLOR", "1")
        .env("DENO_NO_UPDATE_CHECK", "1")
        .output()
        .expect("a Deno binary is needed: `npm install --prefix packages/sdk` (.ci/run does it) or set DENO");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "deno test failed:\n{log}");
    assert!(
        log.contains("1 passed") && log.contains("0 failed"),
        "{log}"
    );
}
