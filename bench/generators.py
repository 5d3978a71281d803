#!/usr/bin/env python3
"""Latency of the "Implement port as an adapter" code action, end to end through `krepis lsp`.

    python3 bench/generators.py [TREE …] [--runs 100] [--binary target/release/krepis]

TREE defaults to a copy of fixtures/shop and, when it exists, bench/out/project-5000 (made by
gen_project.py, see check.sh). For each tree the script starts the server, opens a port file and
times `textDocument/codeAction` (only `refactor`) with the cursor in the interface, until the
answer holds the action with its workspace edit:

- after an edit: each request follows a one-line edit of the port file (and its diagnostics), so
  the generators run and their changes are previewed against the rules in the database;
- repeated: the same request again with no edit in between (the preview's verdict is reused, the
  generators still run).
"""

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lspclient import Server

HERE = Path(__file__).resolve().parent
CAPABILITIES = {
    "window": {"workDoneProgress": True},
    "workspace": {"workspaceEdit": {"documentChanges": True, "resourceOperations": ["create"]}},
    "textDocument": {"codeAction": {"disabledSupport": True}},
}


def port_file(tree: Path):
    """The first file declaring an exported interface under an application folder, and its line."""
    for path in sorted(tree.rglob("*.ts")):
        if "node_modules" in path.parts or "application" not in path.parts:
            continue
        for number, line in enumerate(path.read_text().split("\n")):
            match = re.match(r"export interface (\w+)", line)
            if match:
                return path, number, match.group(1)
    raise SystemExit(f"no exported interface in an application folder of {tree}")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def measure(binary: str, tree: Path, runs: int):
    server = Server(binary, tree, CAPABILITIES)
    server.index()
    path, line, name = port_file(tree)
    uri = path.as_uri()
    lines = path.read_text().split("\n")
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "typescript", "version": 1, "text": "\n".join(lines)}})
    title = f"Implement port `{name}` as an adapter"
    params = {"textDocument": {"uri": uri},
              "range": {"start": {"line": line, "character": 20}, "end": {"line": line, "character": 20}},
              "context": {"diagnostics": [], "only": ["refactor"]}}

    def ask() -> float:
        start = time.monotonic()
        actions = server.request("textDocument/codeAction", params)
        elapsed = (time.monotonic() - start) * 1000
        action = next((a for a in actions or [] if a["title"] == title), None)
        if action is None or "edit" not in action:
            raise SystemExit(f"no applicable `{title}` in {actions}")
        return elapsed

    after_edit, repeated = [], []
    end_line = len(lines)
    for i in range(runs):
        version = i + 2
        text = f"// edit {i}\n"
        server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [
            {"range": {"start": {"line": end_line, "character": 0}, "end": {"line": end_line + (1 if i else 0), "character": 0}},
             "text": text}]})
        server.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                    and m["params"]["uri"] == uri and m["params"].get("version") == version)
        after_edit.append(ask())
        repeated.append(ask())
    server.shutdown()
    files = sum(1 for p in tree.rglob("*.ts") if "node_modules" not in p.parts)
    return files, name, after_edit, repeated


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", nargs="*")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--binary", default=str(HERE.parent / "target" / "release" / "krepis"))
    args = parser.parse_args()
    args.binary = str(Path(args.binary).resolve())
    scratch = tempfile.TemporaryDirectory()
    trees = [Path(t).resolve() for t in args.trees]
    if not trees:
        shop = Path(scratch.name) / "shop"
        shutil.copytree(HERE.parent / "fixtures" / "shop", shop)
        trees.append(shop)
        generated = HERE / "out" / "project-5000"
        if (generated / "src").is_dir():
            trees.append(generated)
    print(f"`Implement port` code action, {args.runs} requests per row (ms)\n")
    print("| project | port | when | median | p95 |")
    print("|---|---|---|---:|---:|")
    for tree in trees:
        files, name, after_edit, repeated = measure(args.binary, tree, args.runs)
        for label, values in (("after an edit", after_edit), ("repeated", repeated)):
            print(f"| {tree.name} ({files} files) | `{name}` | {label} | "
                  f"{statistics.median(values):.2f} | {percentile(values, 0.95):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
