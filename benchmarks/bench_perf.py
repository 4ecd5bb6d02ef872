"""Performance targets of shapecheck, measured as ratios (issue: performance).

    python benchmarks/bench_perf.py            # every section
    python benchmarks/bench_perf.py P1 P4      # some sections

Each figure is the median of several whole-process runs on this machine; the
ratio is what the target bounds. Not part of the test run (machines are noisy).

P1  lint of the seed transformer vs `python -c "import sympy, lark"`   (<= 1.5x)
P2  report of GPT-2 at n_layers=96 vs n_layers=2                      (<= 1.1x)
P3  report of GPT-2 (all dims symbolic) vs torch.export of GPT-2 with dynamic
    batch and sequence (optional: needs `pip install torch==2.13.0 transformers`
    outside the project's dependencies)                                (>= 10x faster)
P4  a spec with 400 explicit block calls vs one with 50               (<= 9x)
P5  verify of GPT-2 small at batch 2, sequence 7 vs a plain NumPy forward
    pass written here with the same sizes                             (aim <= 1.5x)
P5b verify of the ResNet-50 spec at batch 2, 224x224 vs a plain NumPy forward
    of the same network written here with im2col + matmul             (<= 1.5x)
    and a table: verify of every shipped spec at its example sizes    (each <= 30 s)

Environment: BENCH_RUNS (default 7) runs per figure. The machine's other load
shows in wall times; the figures are medians, each ratio of two commands run
alternately.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = sys.executable
RUNS = int(os.environ.get("BENCH_RUNS", "7"))


def timed(cmd, runs=RUNS, env=None) -> float:
    """Median wall time of a command (whole process), after one warm-up run."""
    env = {**os.environ, "PYTHONPATH": ROOT, **(env or {})}
    subprocess.run(cmd, capture_output=True, env=env, cwd=ROOT)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, env=env, cwd=ROOT)
        times.append(time.perf_counter() - t)
        if p.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr.decode()[-2000:]}")
    return statistics.median(times)


def timed_pair(cmd_a, cmd_b, runs=RUNS, env=None) -> tuple:
    """Median wall times of two commands run alternately (A B A B ...), so that a
    drift in the machine's load touches both alike."""
    env = {**os.environ, "PYTHONPATH": ROOT, **(env or {})}
    for cmd in (cmd_a, cmd_b):
        subprocess.run(cmd, capture_output=True, env=env, cwd=ROOT)
    times = ([], [])
    for _ in range(runs):
        for i, cmd in enumerate((cmd_a, cmd_b)):
            t = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, env=env, cwd=ROOT)
            times[i].append(time.perf_counter() - t)
            if p.returncode not in (0, 1):
                raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr.decode()[-2000:]}")
    return statistics.median(times[0]), statistics.median(times[1])


def row(name, a_label, a, b_label, b, target):
    print(f"{name}: {a_label} {a:.3f}s / {b_label} {b:.3f}s = {a / b:.2f}x  (target {target})")


def p1():
    lint, base = timed_pair([PY, "-m", "shapecheck", "lint", "-q", os.path.join(ROOT, "specs", "transformer.shape")],
                            [PY, "-c", "import sympy, lark"])
    row("P1 startup", "lint seed", lint, "import sympy, lark", base, "<= 1.5x")


def _report_cmd(spec, binds):
    have_report = subprocess.run([PY, "-m", "shapecheck", "report", "--help"], capture_output=True,
                                 env={**os.environ, "PYTHONPATH": ROOT}).returncode == 0
    if have_report:
        return [PY, "-m", "shapecheck", "report", spec, "--format", "json", "-o", os.devnull,
                "--bind", ",".join(f"{k}={v}" for k, v in binds.items())] if binds else \
               [PY, "-m", "shapecheck", "report", spec, "--format", "json", "-o", os.devnull]
    # without the report command: check and evaluate the totals at the bindings
    code = ("import sys, shapecheck; r = shapecheck.check_path(sys.argv[1]); m = r.models['gpt2']; "
            "env = {m.dims[k]: v for k, v in {**m.examples, **dict(a.split('=') for a in sys.argv[2:])}.items()}; "
            "print(m.params.subs({k: int(v) for k, v in env.items()}))")
    return [PY, "-c", code, spec] + [f"{k}={v}" for k, v in binds.items()]


def p2():
    spec = os.path.join(ROOT, "specs", "gpt2.shape")
    big, small = timed_pair(_report_cmd(spec, {"n_layers": 96, "batch": 2, "seq_len": 7}),
                            _report_cmd(spec, {"n_layers": 2, "batch": 2, "seq_len": 7}))
    row("P2 repeat is free", "n_layers=96", big, "n_layers=2", small, "<= 1.1x")


def p3():
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        print("P3 against torch.export: skipped (install outside the project: "
              "pip install torch==2.13.0 transformers)")
        return
    script = r'''
import torch
from transformers import GPT2Config, GPT2LMHeadModel
model = GPT2LMHeadModel(GPT2Config()).eval()
ids = torch.zeros(2, 7, dtype=torch.long)
batch = torch.export.Dim("batch", min=1, max=64)
seq = torch.export.Dim("seq", min=2, max=1024)
torch.export.export(model, (ids,), dynamic_shapes={"input_ids": {0: batch, 1: seq}}, strict=False)
'''
    export = timed([PY, "-c", script], runs=3)
    ours = timed(_report_cmd(os.path.join(ROOT, "specs", "gpt2.shape"), {}), runs=3)
    print(f"P3 against torch.export: shapecheck {ours:.3f}s vs torch.export {export:.3f}s = "
          f"{export / ours:.1f}x faster  (target >= 10x)")


def _calls_spec(n: int) -> str:
    lines = ["dim batch, seq, d = 64, heads = 4", "require d % heads == 0", "",
             "block layer(x: [b, l, e], h: dim) -> [b, l, e] {",
             "    require e % h == 0",
             "    q = rearrange(linear(x, e), \"b l (h k) -> b h l k\", h=h)",
             "    s = softmax(q @ transpose(q, -2, -1), axis=-1)",
             "    return x + linear(rearrange(s @ q, \"b h l k -> b l (h k)\"), e)",
             "}", "", "model deep {", "    input x: [batch, seq, d]"]
    lines += [f"    x = layer(x, heads)" for _ in range(n)]
    lines += ["    return x", "}"]
    return "\n".join(lines) + "\n"


def p4():
    tmp = tempfile.mkdtemp()
    try:
        paths = {}
        for n in (50, 400):
            paths[n] = os.path.join(tmp, f"calls{n}.shape")
            with open(paths[n], "w") as f:
                f.write(_calls_spec(n))
        t400, t50 = timed_pair([PY, "-m", "shapecheck", "lint", "-q", paths[400]],
                               [PY, "-m", "shapecheck", "lint", "-q", paths[50]])
        row("P4 linear scale", "400 calls", t400, "50 calls", t50, "<= 9x")
    finally:
        shutil.rmtree(tmp)


_NUMPY_GPT2 = r'''
import numpy as np
rng = np.random.default_rng(0)
B, L, V, P, D, H, N = 2, 7, 50257, 1024, 768, 12, 12
def w(*s): return rng.standard_normal(s, dtype=np.float32) * 0.02
def ln(x, g, b):
    m = x.mean(-1, keepdims=True); v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-5) * g + b
def gelu(x): return 0.5 * x * (1 + np.tanh(0.7978845608 * (x + 0.044715 * x ** 3)))
wte, wpe = w(V, D), w(P, D)
layers = [dict(g1=w(D), b1=w(D), wqkv=w(D, 3 * D), bqkv=w(3 * D), wo=w(D, D), bo=w(D),
               g2=w(D), b2=w(D), w1=w(D, 4 * D), c1=w(4 * D), w2=w(4 * D, D), c2=w(D)) for _ in range(N)]
gf, bf = w(D), w(D)
ids = rng.integers(0, V, (B, L))
x = wte[ids] + wpe[:L]
mask = np.triu(np.ones((L, L), bool), 1)
for p in layers:
    h = ln(x, p["g1"], p["b1"]) @ p["wqkv"] + p["bqkv"]
    q, k, v = (t.reshape(B, L, H, D // H).transpose(0, 2, 1, 3) for t in np.split(h, 3, -1))
    s = np.where(mask, -1e9, q @ k.transpose(0, 1, 3, 2) / np.sqrt(D // H))
    s = np.exp(s - s.max(-1, keepdims=True)); s /= s.sum(-1, keepdims=True)
    x = x + (s @ v).transpose(0, 2, 1, 3).reshape(B, L, D) @ p["wo"] + p["bo"]
    x = x + gelu(ln(x, p["g2"], p["b2"]) @ p["w1"] + p["c1"]) @ p["w2"] + p["c2"]
logits = ln(x, gf, bf) @ wte.T
assert logits.shape == (B, L, V)
'''


def p5():
    plain = timed([PY, "-c", _NUMPY_GPT2], runs=3)
    ours = timed([PY, "-m", "shapecheck", "verify", os.path.join(ROOT, "specs", "gpt2.shape"),
                  "--bind", "batch=2,seq_len=7", "--samples", "0"], runs=3)
    row("P5 numeric", "verify gpt2", ours, "plain NumPy forward", plain, "aim <= 1.5x")


_NUMPY_RESNET50 = r'''
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
rng = np.random.default_rng(0)
def w(*s):   # drawn as shapecheck draws weights: float32 uniform, scaled by the fan-in
    a = rng.random(s, dtype=np.float32); a -= 0.5; a *= 2.0 / np.sqrt(s[0]) if len(s) > 1 else 2.0
    return a
def conv(x, out, k, s=1, p=0):      # im2col + one matmul
    B, C, H, W = x.shape
    if p:
        x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    if k == 1:
        cols = x[:, :, ::s, ::s].transpose(0, 2, 3, 1).reshape(B * Ho * Wo, C)
    else:
        v = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]          # [B, C, Ho, Wo, k, k]
        cols = v.transpose(0, 2, 3, 1, 4, 5).reshape(B * Ho * Wo, C * k * k)
    y = cols @ w(C * k * k, out)
    return y.reshape(B, Ho, Wo, out).transpose(0, 3, 1, 2)
def bn(x):
    c = x.shape[1]
    g, b = w(c), w(c)
    return x * (g / np.sqrt(1 + 1e-5))[None, :, None, None] + b[None, :, None, None]
def relu(x): return np.maximum(x, 0)
def bottleneck(x, width, stride, project):
    y = relu(bn(conv(x, width, 1)))
    y = relu(bn(conv(y, width, 3, stride, 1)))
    y = bn(conv(y, 4 * width, 1))
    return relu(y + (bn(conv(x, 4 * width, 1, stride)) if project else x))
x = rng.standard_normal((2, 3, 224, 224), dtype=np.float32)
x = relu(bn(conv(x, 64, 7, 2, 3)))
x = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
x = sliding_window_view(x, (3, 3), axis=(2, 3))[:, :, ::2, ::2].max(axis=(4, 5))
for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
    x = bottleneck(x, width, stride, True)
    for _ in range(blocks - 1):
        x = bottleneck(x, width, 1, False)
logits = x.mean(axis=(2, 3)) @ w(2048, 1000) + w(1000)
assert logits.shape == (2, 1000)
'''


def p5b():
    plain, ours = timed_pair([PY, "-c", _NUMPY_RESNET50],
                             [PY, "-m", "shapecheck", "verify", os.path.join(ROOT, "specs", "resnet50.shape"),
                              "--bind", "batch=2,img=224", "--samples", "0"], runs=min(RUNS, 5))
    row("P5b numeric CNN", "verify resnet50", ours, "plain NumPy im2col forward", plain, "<= 1.5x")
    print("P5b verify of every shipped spec at its example sizes (--samples 0; target: each <= 30 s)")
    print(f"    {'spec':24s} {'median':>8s}   split of the last run (verify --verbose)")
    import glob
    import re
    env = {**os.environ, "PYTHONPATH": ROOT}
    worst = 0.0
    for spec in sorted(glob.glob(os.path.join(ROOT, "specs", "*.shape"))):
        cmd = [PY, "-m", "shapecheck", "verify", spec, "--samples", "0", "--verbose"]
        times, split = [], ""
        for _ in range(min(RUNS, 3)):
            t = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, env=env, cwd=ROOT, text=True)
            times.append(time.perf_counter() - t)
            if p.returncode != 0:
                raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
            m = re.search(r"time: (.*)", p.stdout)
            split = m.group(1) if m else ""
        med = statistics.median(times)
        worst = max(worst, med)
        print(f"    {os.path.basename(spec):24s} {med:7.2f}s   {split}")
    print(f"    slowest {worst:.2f}s (target <= 30 s)")


SECTIONS = {"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": p5, "P5B": p5b}

def _compile_package():
    """Bytecode for the package, as `pip install` leaves it: this machine sets
    PYTHONDONTWRITEBYTECODE, so without it every run would compile our sources
    while sympy and lark load theirs precompiled."""
    import compileall
    compileall.compile_dir(os.path.join(ROOT, "shapecheck"), quiet=1)


if __name__ == "__main__":
    _compile_package()
    wanted = sys.argv[1:] or list(SECTIONS)
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} cores; median of {RUNS} runs per figure")
    for name in wanted:
        SECTIONS[name.upper()]()
