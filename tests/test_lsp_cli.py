"""`shapecheck lsp` as a command: the lint path never imports the server,
a missing extra is a clear error, and `--tcp PORT` serves the protocol."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
SPEC = "dim batch, d = 4\nmodel m {\n    input x: [batch, d]\n    return linear(x, d)\n}\n"


def test_lint_imports_no_language_server(tmp_path):
    (tmp_path / "good.shape").write_text(SPEC)
    code = ("import sys, shapecheck.cli as c; rc = c.main(['lint', %r]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol', 'cattrs') "
            "or m.startswith('shapecheck.lsp'))); sys.exit(rc)") % str(tmp_path / "good.shape")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == "[]"


def test_lsp_without_the_extra_says_how_to_install_it():
    code = ("import sys; sys.modules['pygls'] = None; sys.modules['pygls.lsp.server'] = None; "
            "import shapecheck.cli as c; sys.exit(c.main(['lsp']))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=60)
    assert p.returncode == 2
    assert "pip install 'shapecheck[lsp]'" in p.stderr
    assert "Traceback" not in p.stderr


def _message(body: dict) -> bytes:
    data = json.dumps(body).encode()
    return b"Content-Length: %d\r\n\r\n" % len(data) + data


def _read(sock) -> dict:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        assert chunk, "connection closed"
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    n = int(next(h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")))
    while len(rest) < n:
        rest += sock.recv(4096)
    return json.loads(rest[:n])


def test_tcp_mode_answers_initialize():
    pytest.importorskip("pygls", reason="needs the lsp extra")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "shapecheck", "lsp", "--tcp", str(port)], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "server did not listen"
                time.sleep(0.1)
        with sock:
            sock.sendall(_message({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                   "params": {"processId": None, "rootUri": None, "capabilities": {}}}))
            reply = _read(sock)
            assert reply["id"] == 1
            caps = reply["result"]["capabilities"]
            assert caps["hoverProvider"] and caps["definitionProvider"] and caps["inlayHintProvider"]
            assert reply["result"]["serverInfo"]["name"] == "shapecheck"
    finally:
        proc.kill()
        proc.wait(timeout=10)
        proc.stderr.close()
