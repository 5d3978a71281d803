#!/usr/bin/env python3
"""Language-server latency benchmark: indexing time, edit-to-diagnostics latency, server RSS.

    python3 bench/lsp.py [TREE] [--edits 200] [--file PATH] [--facts] [--binary target/release/krepis]

TREE defaults to bench/out/project-5000 (made by gen_project.py, see check.sh); any other tree
works too (a real one: give the file to edit with --file, relative to TREE). The script starts
`krepis lsp` in TREE, measures the time from `initialized` to the end of the indexing progress,
then opens the file (by default the first application-layer file of the generated tree) and edits
it, each time measuring from sending `didChange` to receiving the `publishDiagnostics` of that
version. Peak RSS is read from /proc/PID/status (VmHWM) at the end.

Edits: by default a comment in the middle of the file changes (the facts stay equal). With
--facts, every edit changes what the analysis sees: an exported async function and an import at
the top of the file appear in one edit and go in the next, so the module's facts, its importers'
signatures and the import graph change each time.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

from lspclient import Server

HERE = Path(__file__).resolve().parent


# Added at the top of the file and taken away again, in turn.
FACTS_TEXT = 'import { join as krepisBenchJoin } from "node:path";\nexport async function krepisBenchProbe(name: string): Promise<string> { return krepisBenchJoin(name); }\n'


def facts_change(i: int) -> dict:
    """Edit `i` of --facts: odd edits insert FACTS_TEXT at the top, even ones remove it."""
    if i % 2 == 0:
        return {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                "text": FACTS_TEXT}
    return {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}}, "text": ""}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", nargs="?", default=str(HERE / "out" / "project-5000"))
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--file", help="the file to edit, relative to TREE")
    parser.add_argument("--facts", action="store_true", help="edits that change the module's facts")
    parser.add_argument("--binary", default=str(HERE.parent / "target" / "release" / "krepis"))
    args = parser.parse_args()
    args.binary = str(Path(args.binary).resolve())
    tree = Path(args.tree).resolve()
    if args.file is None and not (tree / "src").is_dir():
        sys.exit(f"no generated tree at {tree}: run bench/check.sh once or gen_project.py, or give --file")

    server = Server(args.binary, tree, {"window": {"workDoneProgress": True}})
    indexing = server.index()

    if args.file:
        target = tree / args.file
        if not target.is_file():
            sys.exit(f"no file {target}")
    else:
        target = next(iter(sorted((tree / "src").glob("*/application/*.ts"))))
    uri = target.as_uri()
    lines = target.read_text().split("\n")
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "typescript", "version": 1, "text": "\n".join(lines)}})
    server.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri)

    latencies = []
    for i in range(args.edits):
        version = i + 2
        # A one-line edit in the middle of the file: a comment whose text changes every time.
        line = len(lines) // 2
        if args.facts:
            change = facts_change(i)
        elif i == 0:
            change = {"range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}},
                      "text": f"// edit {i}\n"}
        else:
            change = {"range": {"start": {"line": line, "character": 3}, "end": {"line": line, "character": 3 + len(f"edit {i - 1}")}},
                      "text": f"edit {i}"}
        sent = time.monotonic()
        server.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version}, "contentChanges": [change]})
        server.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
             and m["params"]["uri"] == uri and m["params"].get("version") == version)
        latencies.append((time.monotonic() - sent) * 1000)

    rss_mb = server.peak_rss_mb()
    server.shutdown()

    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(round(0.99 * (len(latencies) - 1))))]
    files = sum(1 for _ in tree.rglob("*.ts"))
    kind = "facts-changing" if args.facts else "one-line comment"
    print(f"krepis lsp on {tree.name} ({files} files), {args.edits} {kind} edits of {target.relative_to(tree)}\n")
    print("| measure | value | target |")
    print("|---|---:|---:|")
    print(f"| initial indexing | {indexing:.2f} s | < 3 s |")
    print(f"| didChange → publishDiagnostics, median | {statistics.median(latencies):.2f} ms | < 5 ms |")
    print(f"| didChange → publishDiagnostics, p99 | {p99:.2f} ms | < 20 ms |")
    print(f"| server peak RSS | {rss_mb:.0f} MB | < 500 MB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
