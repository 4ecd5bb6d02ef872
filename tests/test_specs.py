"""The spec library in specs/: every spec lints clean, and the parameter totals
at the example values equal the published counts of the real models.

The reference numbers come from the published models (HuggingFace transformers,
torchvision), not from shapecheck, which is what makes these checks honest.
"""
import glob
import os
import re
import subprocess
import sys

import pytest

from conftest import LANGUAGE_MD, ROOT
from shapecheck.api import check_path

SPECS = os.path.join(ROOT, "specs")
SPEC_FILES = sorted(glob.glob(os.path.join(SPECS, "*.shape")))

#: spec file -> (model name, published parameter count, source)
PUBLISHED = {
    "gpt2.shape": ("gpt2", 124_439_808, "HF GPT2LMHeadModel('gpt2')"),
    "bert_base.shape": ("bert_base", 109_482_240, "HF BertModel(bert-base-uncased), with pooler"),
    "llama.shape": ("llama", 6_738_415_616, "HF LlamaForCausalLM(Llama-2-7b-hf)"),
    "vit_b16.shape": ("vit_b16", 86_567_656, "torchvision vit_b_16"),
    "resnet50.shape": ("resnet50", 25_557_032, "torchvision resnet50"),
    "mobilenet_v2.shape": ("mobilenet_v2", 3_504_872, "torchvision mobilenet_v2"),
    "convnext_tiny.shape": ("convnext_tiny", 28_589_128, "torchvision convnext_tiny"),
    "efficientnet_b0.shape": ("efficientnet_b0", 5_288_548, "torchvision efficientnet_b0"),
    "densenet121.shape": ("densenet121", 7_978_856, "torchvision densenet121"),
    "gpt2_kv_cache.shape": ("gpt2_kv_cache", 124_439_808, "HF GPT2LMHeadModel('gpt2'), one decoding step"),
    "moe_top2.shape": ("moe_top2", 1_409_318_912,
                       "HF MixtralSparseMoeBlock(Mixtral-8x7B config), counted from the module definition"),
    "mamba.shape": ("mamba", 129_135_360,
                    "HF MambaForCausalLM(state-spaces/mamba-130m-hf config), counted from the module definitions"),
}


def _spec_id(path):
    return os.path.basename(path)


def _total(model, **overrides):
    values = {**model.examples, **overrides}
    return model.params.subs({model.dims[k]: v for k, v in values.items()})


def test_library_is_present():
    names = {os.path.basename(p) for p in SPEC_FILES}
    assert {"transformer.shape", "gpt2.shape", "bert_base.shape", "llama.shape", "vit_b16.shape"} <= names


@pytest.mark.parametrize("path", SPEC_FILES, ids=_spec_id)
def test_spec_lints_clean(path):
    res = check_path(path)
    assert res.diagnostics == [], "\n".join(
        f"{d.span.file}:{d.span.line}: {d.code} {d.message}" for d in res.diagnostics)
    assert res.models, f"{path} defines no model"


@pytest.mark.parametrize("path", SPEC_FILES, ids=_spec_id)
def test_spec_starts_with_header_comment(path):
    with open(path, encoding="utf-8") as f:
        assert f.readline().startswith("# "), f"{path} must start with a header comment"


@pytest.mark.parametrize("path", SPEC_FILES, ids=_spec_id)
def test_every_dim_has_an_example_value(path):
    model = next(iter(check_path(path).models.values()))
    missing = sorted(set(model.dims) - set(model.examples))
    if os.path.basename(path) in ("transformer.shape", "gpt2.shape"):
        return   # verbatim copies of LANGUAGE.md, whose batch/sequence dims have no example
    assert not missing, f"dims without an example value: {missing}"


def test_cli_lints_the_library_with_exit_0():
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.run([sys.executable, "-m", "shapecheck", "lint", SPECS], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 errors, 0 warnings" in proc.stdout


@pytest.mark.parametrize("filename", sorted(PUBLISHED))
def test_parameter_total_matches_published_count(filename):
    name, expected, source = PUBLISHED[filename]
    model = check_path(os.path.join(SPECS, filename)).models[name]
    assert _total(model) == expected, f"{filename}: expected {expected:,} ({source})"


def test_llama_grouped_query_attention_total():
    """n_kv_heads = 8 (else LLaMA-2-7B): by hand, 32 layers x (2*4096^2 + 2*4096*1024
    + 3*4096*11008 + 2*4096) + 2*32000*4096 + 4096 = 5,933,109,248."""
    model = check_path(os.path.join(SPECS, "llama.shape")).models["llama"]
    assert _total(model, n_kv_heads=8) == 5_933_109_248


def _language_examples():
    with open(LANGUAGE_MD, encoding="utf-8") as f:
        return re.findall(r"```\n(.*?)```", f.read(), re.S)


@pytest.mark.skipif(not os.path.exists(LANGUAGE_MD), reason="LANGUAGE.md not available")
@pytest.mark.parametrize("filename,marker", [("transformer.shape", "model transformer {"),
                                             ("gpt2.shape", "model gpt2 {")])
def test_contract_examples_are_verbatim(filename, marker):
    block = next(b for b in _language_examples() if marker in b)
    with open(os.path.join(SPECS, filename), encoding="utf-8") as f:
        text = f.read()
    body = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#")).lstrip("\n")
    assert body == block


def test_resnet50_batch_norm_buffers_by_hand():
    """Running mean and variance of every batch norm, counted apart from the
    parameters. By hand, the batch-normed channels: stem 64; stage 1:
    3 x (64 + 64 + 256) + 256 (projection) = 1,408; stage 2: 4 x (128 + 128 + 512)
    + 512 = 3,584; stage 3: 6 x (256 + 256 + 1024) + 1024 = 10,240; stage 4:
    3 x (512 + 512 + 2048) + 2048 = 11,264; in all 26,560, two buffers each."""
    model = check_path(os.path.join(SPECS, "resnet50.shape")).models["resnet50"]
    assert model.buffers == 2 * 26_560
