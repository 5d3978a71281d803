#!/usr/bin/env python3
"""Language-server latency benchmark: indexing time, edit-to-diagnostics latency, server RSS.

    python3 bench/lsp.py [TREE] [--edits 200] [--binary target/release/krepis]

TREE defaults to bench/out/project-5000 (made by gen_project.py, see check.sh). The script starts
`krepis lsp` in TREE, measures the time from `initialized` to the end of the indexing progress,
then opens one application-layer file and makes one-line edits, each time measuring from sending
`didChange` to receiving the `publishDiagnostics` of that version. Peak RSS is read from
/proc/PID/status (VmHWM) at the end.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

from lspclient import Server

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", nargs="?", default=str(HERE / "out" / "project-5000"))
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--binary", default=str(HERE.parent / "target" / "release" / "krepis"))
    args = parser.parse_args()
    args.binary = str(Path(args.binary).resolve())
    tree = Path(args.tree).resolve()
    if not (tree / "src").is_dir():
        sys.exit(f"no generated tree at {tree}: run bench/check.sh once or gen_project.py")

    server = Server(args.binary, tree, {"window": {"workDoneProgress": True}})
    indexing = server.index()

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
        change = {"range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}},
                  "text": f"// edit {i}\n" if i == 0 else ""}
        if i > 0:
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
    print(f"krepis lsp on {tree.name} ({files} files), {args.edits} one-line edits\n")
    print("| measure | value | target |")
    print("|---|---:|---:|")
    print(f"| initial indexing | {indexing:.2f} s | < 3 s |")
    print(f"| didChange → publishDiagnostics, median | {statistics.median(latencies):.2f} ms | < 5 ms |")
    print(f"| didChange → publishDiagnostics, p99 | {p99:.2f} ms | < 20 ms |")
    print(f"| server peak RSS | {rss_mb:.0f} MB | < 500 MB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
