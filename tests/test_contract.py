"""LANGUAGE.md is the contract: each of its complete examples lints as its comments say."""
import os
import re

import pytest

import shapecheck
from conftest import LANGUAGE_MD

def examples():
    text = open(LANGUAGE_MD, encoding="utf-8").read()
    return [b for b in re.findall(r"```\n(.*?)```", text, re.S) if re.search(r"^(model|block) ", b, re.M)]


def test_there_are_three_complete_examples():
    assert len(examples()) == 3


def test_seed_transformer_is_clean():
    (seed,) = [b for b in examples() if "model transformer" in b]
    r = shapecheck.check_source(seed, "seed.shape")
    assert r.diagnostics == []
    m = r.models["transformer"]
    scores = {(n.path[-1].split("@")[0], n.shape_str()) for n in m.nodes if n.name == "scores"}
    # cross-attention scores are [tgt_len, src_len], self-attention ones square
    assert ("attention", "[batch, num_heads, tgt_len, src_len]") in scores
    assert ("attention", "[batch, num_heads, src_len, src_len]") in scores
    assert ("attention", "[batch, num_heads, tgt_len, tgt_len]") in scores


def test_gpt2_is_clean_and_counts_124439808_parameters():
    (gpt2,) = [b for b in examples() if "model gpt2" in b]
    r = shapecheck.check_source(gpt2, "gpt2.shape")
    assert r.diagnostics == []
    m = r.models["gpt2"]
    assert m.params.subs({m.dims[k]: v for k, v in m.examples.items()}) == 124_439_808


def test_gpt2_without_the_positions_require_flags_the_slice():
    (gpt2,) = [b for b in examples() if "model gpt2" in b]
    text = gpt2.replace(", seq_len <= n_positions", "")
    r = shapecheck.check_source(text, "gpt2.shape")
    (d,) = r.diagnostics
    assert d.code == "SC307"
    assert text.splitlines()[d.span.line - 1].lstrip().startswith("x = embedding(ids, wte) + wpe[:seq_len]")
    assert "require seq_len <= n_positions" in d.message


def test_averaged_heads_reported_on_the_return_line():
    (bad,) = [b for b in examples() if "attention_avg" in b]
    r = shapecheck.check_source(bad, "avg.shape")
    (d,) = r.diagnostics
    line = bad.splitlines()[d.span.line - 1]
    assert d.code == "SC403" and line.lstrip().startswith("return out")
    assert "[b, l, d / heads]" in d.message and "[b, l, d]" in d.message
    assert any("rearrange" in n.message and "d / heads" in n.message for n in d.notes)
