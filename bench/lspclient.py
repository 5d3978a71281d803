"""A small JSON-RPC client for the language-server benchmarks: one `krepis lsp` process over pipes."""

import json
import os
import queue
import subprocess
import threading
import time
from pathlib import Path


class Server:
    def __init__(self, binary: str, tree: Path, capabilities: dict):
        self.tree = tree
        self.process = subprocess.Popen([binary, "lsp"], cwd=tree, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.messages: "queue.Queue[dict]" = queue.Queue()
        self.next_id = 1
        threading.Thread(target=self._read, daemon=True).start()
        root_uri = tree.as_uri()
        self.request("initialize", {
            "processId": os.getpid(), "rootUri": root_uri,
            "workspaceFolders": [{"uri": root_uri, "name": tree.name}],
            "capabilities": capabilities})

    def _read(self) -> None:
        out = self.process.stdout
        while True:
            line = out.readline()
            if not line:
                return
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
                while out.readline() not in (b"\r\n", b"\n", b""):
                    pass
                self.messages.put(json.loads(out.read(length)))

    def send(self, message: dict) -> None:
        message = {"jsonrpc": "2.0", **message}
        body = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.process.stdin.flush()

    def notify(self, method: str, params) -> None:
        self.send({"method": method, "params": params})

    def wait(self, accept, timeout: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = self.messages.get(timeout=max(0.0, deadline - time.monotonic()))
            if "method" in message and "id" in message:  # a request from the server: answer it
                self.send({"id": message["id"], "result": None})
            if accept(message):
                return message

    def request(self, method: str, params):
        ident = self.next_id
        self.next_id += 1
        self.send({"id": ident, "method": method, "params": params})
        response = self.wait(lambda m: m.get("id") == ident and "method" not in m)
        if "error" in response:
            raise RuntimeError(f"{method} failed: {response['error']}")
        return response.get("result")

    def index(self) -> float:
        """Sends `initialized` and waits for the end of the indexing progress; returns seconds."""
        start = time.monotonic()
        self.notify("initialized", {})
        self.wait(lambda m: m.get("method") == "$/progress" and m["params"]["value"].get("kind") == "end")
        return time.monotonic() - start

    def peak_rss_mb(self) -> float:
        for row in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024
        return 0.0

    def shutdown(self) -> None:
        self.request("shutdown", None)
        self.notify("exit", None)
        self.process.wait(timeout=30)
