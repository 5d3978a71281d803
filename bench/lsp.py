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
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", nargs="?", default=str(HERE / "out" / "project-5000"))
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--binary", default=str(HERE.parent / "target" / "release" / "krepis"))
    args = parser.parse_args()
    tree = Path(args.tree).resolve()
    if not (tree / "src").is_dir():
        sys.exit(f"no generated tree at {tree}: run bench/check.sh once or gen_project.py")

    server = subprocess.Popen([args.binary, "lsp"], cwd=tree, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    messages: "queue.Queue[dict]" = queue.Queue()

    def read() -> None:
        out = server.stdout
        while True:
            line = out.readline()
            if not line:
                return
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
                while out.readline() not in (b"\r\n", b"\n", b""):
                    pass
                messages.put(json.loads(out.read(length)))

    threading.Thread(target=read, daemon=True).start()

    def send(message: dict) -> None:
        body = json.dumps(message).encode()
        server.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        server.stdin.flush()

    def wait(accept, timeout=120.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = messages.get(timeout=max(0.0, deadline - time.monotonic()))
            if "method" in message and "id" in message:  # a request from the server: answer it
                send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            if accept(message):
                return message

    root_uri = tree.as_uri()
    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "processId": os.getpid(), "rootUri": root_uri,
        "workspaceFolders": [{"uri": root_uri, "name": tree.name}],
        "capabilities": {"window": {"workDoneProgress": True}}}})
    wait(lambda m: m.get("id") == 1 and "result" in m)
    start = time.monotonic()
    send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    wait(lambda m: m.get("method") == "$/progress" and m["params"]["value"].get("kind") == "end")
    indexing = time.monotonic() - start

    target = next(iter(sorted((tree / "src").glob("*/application/*.ts"))))
    uri = target.as_uri()
    lines = target.read_text().split("\n")
    send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "typescript", "version": 1, "text": "\n".join(lines)}}})
    wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri)

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
        send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}})
        wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
             and m["params"]["uri"] == uri and m["params"].get("version") == version)
        latencies.append((time.monotonic() - sent) * 1000)

    rss_kb = 0
    for row in Path(f"/proc/{server.pid}/status").read_text().splitlines():
        if row.startswith("VmHWM:"):
            rss_kb = int(row.split()[1])
    send({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None})
    wait(lambda m: m.get("id") == 2)
    send({"jsonrpc": "2.0", "method": "exit", "params": None})
    server.wait(timeout=30)

    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(round(0.99 * (len(latencies) - 1))))]
    files = sum(1 for _ in tree.rglob("*.ts"))
    print(f"krepis lsp on {tree.name} ({files} files), {args.edits} one-line edits\n")
    print("| measure | value | target |")
    print("|---|---:|---:|")
    print(f"| initial indexing | {indexing:.2f} s | < 3 s |")
    print(f"| didChange → publishDiagnostics, median | {statistics.median(latencies):.2f} ms | < 5 ms |")
    print(f"| didChange → publishDiagnostics, p99 | {p99:.2f} ms | < 20 ms |")
    print(f"| server peak RSS | {rss_kb / 1024:.0f} MB | < 500 MB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
