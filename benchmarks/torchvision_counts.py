"""Cross-check the CNN specs' parameter and buffer counts against torchvision.

Run it in an environment that has torchvision (it is not a test dependency: on
x86_64 here, ``python3 -m venv /tmp/tv && /tmp/tv/bin/pip install torch==2.14.1
torchvision==0.29.1 && /tmp/tv/bin/pip install -e .``):

    /tmp/tv/bin/python benchmarks/torchvision_counts.py

It prints, per model, the spec's count at its example values and torchvision's
(``weights=None``; buffers without ``num_batches_tracked``) and exits 1 on any
difference.
"""
from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

#: spec file -> torchvision constructor
MODELS = {
    "resnet50.shape": "resnet50",
    "mobilenet_v2.shape": "mobilenet_v2",
    "convnext_tiny.shape": "convnext_tiny",
    "efficientnet_b0.shape": "efficientnet_b0",
    "densenet121.shape": "densenet121",
    "vit_b16.shape": "vit_b_16",
}


def spec_counts(path: str) -> tuple:
    from shapecheck.api import check_path
    m = next(iter(check_path(path).models.values()))
    env = {m.dims[k]: v for k, v in m.examples.items()}
    return int(m.params.subs(env)), int(m.buffers.subs(env))


def torchvision_counts(name: str) -> tuple:
    import torchvision.models as tvm
    net = getattr(tvm, name)(weights=None)
    params = sum(p.numel() for p in net.parameters())
    buffers = sum(b.numel() for n, b in net.named_buffers() if not n.endswith("num_batches_tracked"))
    return params, buffers


def main() -> int:
    bad = 0
    print(f"{'spec':24} {'params (spec)':>14} {'(torchvision)':>14} {'buffers (spec)':>15} {'(torchvision)':>14}")
    for spec, name in MODELS.items():
        sp, sb = spec_counts(os.path.join(ROOT, "specs", spec))
        tp, tb = torchvision_counts(name)
        mark = "" if (sp, sb) == (tp, tb) else "   DIFFERENT"
        bad += bool(mark)
        print(f"{spec:24} {sp:>14,} {tp:>14,} {sb:>15,} {tb:>14,}{mark}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
