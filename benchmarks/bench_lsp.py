"""Language server round trips through the real protocol (stdio, JSON-RPC).

Starts `python -m shapecheck lsp`, opens a spec (default specs/gpt2.shape),
then after a warm-up measures:

- didChange -> publishDiagnostics: each edit gives a new text (an example size
  changed to a value not used before, so nothing is served from a cache of
  whole results: a real re-check every time; the debounce delay is included),
  timed from writing the notification to reading the diagnostics of that
  document version;
- hover: a request on a tensor inside a block (`weights`), timed to its response;
- inlay hints over the whole file.

Prints the median and 90th percentile of each, and the ratio to its target
(didChange <= 50 ms, hover <= 20 ms).

    PYTHONPATH=$PWD python benchmarks/bench_lsp.py [SPEC] [--runs N]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"didChange -> publishDiagnostics": 50.0, "hover": 20.0}


class Server:
    def __init__(self):
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen([sys.executable, "-m", "shapecheck", "lsp"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env)
        self.next_id = 0

    def send(self, method: str, params, request: bool = False):
        msg = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            msg["id"] = self.next_id
        data = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.proc.stdin.flush()
        return msg.get("id")

    def read(self) -> dict:
        length = None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the server closed its output")
            line = line.strip()
            if not line:
                break
            k, _, v = line.partition(b":")
            if k.lower() == b"content-length":
                length = int(v)
        return json.loads(self.proc.stdout.read(length))

    def until(self, pred) -> dict:
        while True:
            m = self.read()
            if pred(m):
                return m

    def request(self, method: str, params) -> dict:
        i = self.send(method, params, request=True)
        return self.until(lambda m: m.get("id") == i and "method" not in m)

    def close(self):
        try:
            self.request("shutdown", None)
            self.send("exit", None)
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()


def _ms(xs):
    xs = sorted(xs)
    return statistics.median(xs), xs[int(0.9 * (len(xs) - 1))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("spec", nargs="?", default=str(ROOT / "specs" / "gpt2.shape"))
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=8)
    args = ap.parse_args(argv)

    path = Path(args.spec).resolve()
    text = path.read_text(encoding="utf-8")
    uri = path.as_uri()
    # the edits: one example size changed, each time to a new value (the whole spec is checked again)
    def edited(i: int) -> str:
        if "n_layers = 12" in text:
            return text.replace("n_layers = 12", f"n_layers = {13 + i}")
        return text + f"\nlet _bench_edit = {i + 1}\n"
    needle = "weights = " if "weights = " in text else "= "
    off = text.index(needle) + 2
    hover_pos = {"line": text.count("\n", 0, off), "character": off - (text.rfind("\n", 0, off) + 1)}

    srv = Server()
    t0 = time.perf_counter()
    srv.request("initialize", {"processId": os.getpid(), "rootUri": ROOT.as_uri(), "capabilities": {}})
    srv.send("initialized", {})
    srv.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "shape", "version": 1,
                                                       "text": text}})
    srv.until(lambda m: m.get("method") == "textDocument/publishDiagnostics")
    startup = (time.perf_counter() - t0) * 1000

    version = 1
    change_ms = []
    for i in range(args.warmup + args.runs):
        version += 1
        body = edited(i)
        t = time.perf_counter()
        srv.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                            "contentChanges": [{"text": body}]})
        srv.until(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                  and m["params"]["uri"] == uri and m["params"].get("version") == version)
        if i >= args.warmup:
            change_ms.append((time.perf_counter() - t) * 1000)
    # back to the original text for the read-only requests
    version += 1
    srv.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                        "contentChanges": [{"text": text}]})
    srv.until(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"].get("version") == version)

    hover_ms, hint_ms = [], []
    shown = None
    for i in range(args.warmup + args.runs):
        t = time.perf_counter()
        r = srv.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": hover_pos})
        if i >= args.warmup:
            hover_ms.append((time.perf_counter() - t) * 1000)
        shown = r.get("result")
    n_lines = text.count("\n") + 1
    for i in range(args.warmup + args.runs):
        t = time.perf_counter()
        srv.request("textDocument/inlayHint", {"textDocument": {"uri": uri}, "range": {
            "start": {"line": 0, "character": 0}, "end": {"line": n_lines, "character": 0}}})
        if i >= args.warmup:
            hint_ms.append((time.perf_counter() - t) * 1000)
    st = srv.request("shapecheck/stats", {}).get("result") or {}
    srv.close()

    print(f"spec: {os.path.relpath(path)} ({n_lines} lines); {args.runs} runs after {args.warmup} warm-up")
    print(f"startup (initialize + first diagnostics): {startup:.0f} ms")
    for name, xs in (("didChange -> publishDiagnostics", change_ms), ("hover", hover_ms),
                     ("inlay hints (whole file)", hint_ms)):
        med, p90 = _ms(xs)
        target = TARGETS.get(name)
        ratio = f"; {med / target:.2f} of the {target:.0f} ms target" if target else ""
        print(f"{name}: median {med:.1f} ms, p90 {p90:.1f} ms{ratio}")
    cpu = st.get("check_cpu_ms") or []
    if len(cpu) > args.warmup:
        med, p90 = _ms(cpu[args.warmup + 1:])
        print(f"server CPU per re-check (process time, insensitive to other load): median {med:.1f} ms, "
              f"p90 {p90:.1f} ms ({st.get('checks')} checks, {st.get('reused')} reused)")
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        print(f"note: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: wall times include waiting")
    if shown is None:
        print("warning: the hover returned nothing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
