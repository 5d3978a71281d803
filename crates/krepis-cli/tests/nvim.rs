//! End to end with real headless Neovim: its built-in client starts `krepis lsp` through the
//! shipped Lua setup, receives diagnostics, applies the quick fix and writes the file.

#[path = "support/fixtures.rs"]
mod fixtures;

use std::path::Path;
use std::process::Command;

use fixtures::fixture_copy;

#[test]
fn neovim_applies_the_context_quick_fix() {
    let dir = fixture_copy("shop");
    let file = dir.path().join("src/billing/application/invoice.ts");
    let before = std::fs::read_to_string(&file).unwrap();
    let nvim_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../editors/nvim");
    let output = Command::new("nvim")
        .args(["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c"])
        .arg(format!(
            "luafile {}",
            nvim_dir.join("test/quickfix.lua").display()
        ))
        .env("KREPIS_BIN", env!("CARGO_BIN_EXE_krepis"))
        .env("KREPIS_FILE", &file)
        .env("KREPIS_RULE", "explicit-context")
        .env("KREPIS_NVIM_DIR", &nvim_dir)
        .current_dir(dir.path())
        .output()
        .expect("Neovim must be installed (apt-get install neovim); .ci/run installs it");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "nvim failed:\n{log}");
    let after = std::fs::read_to_string(&file).unwrap();
    let expected = before.replace(
        "export async function tenantOfRequest(): Promise",
        "export async function tenantOfRequest(ctx: KrepisContext): Promise",
    );
    assert_ne!(before, expected);
    assert_eq!(after, expected, "nvim log:\n{log}");
}
