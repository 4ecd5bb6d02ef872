"""Factories of real PyTorch modules for the conformance tests (tests/test_conform*.py).

Each factory takes the spec's dimension values as keyword arguments and returns
a ``torch.nn.Module`` built from a config with random weights (nothing is
downloaded). The ``*_MAPPING`` dicts map spec names (blocks, weights) to module
names. ``BuggyGPT`` is a small GPT-2 written out by hand with a planted,
size-dependent bug.
"""
import math

import torch
from torch import nn

# ---- HuggingFace transformers -------------------------------------------------------------------------

GPT2_MAPPING = {
    "wte": "transformer.wte.weight",
    "wpe": "transformer.wpe.weight",
    "causal_self_attention": "transformer.h.*.attn",
    "mlp": "transformer.h.*.mlp",
    "causal_self_attention.q": "transformer.h.*.attn.c_attn.*",       # linear(x, 3 * d)
    "causal_self_attention.return": "transformer.h.*.attn.c_proj.*",
    "mlp.return": "transformer.h.*.mlp.*.*",                           # c_fc and c_proj
}


def gpt2(vocab_size, n_positions, d_model, num_heads, n_layers):
    """``GPT2LMHeadModel`` (the LM head tied to the token embedding)."""
    from transformers import GPT2Config, GPT2LMHeadModel
    cfg = GPT2Config(vocab_size=vocab_size, n_positions=n_positions, n_embd=d_model, n_head=num_heads,
                     n_layer=n_layers, bos_token_id=None, eos_token_id=None, use_cache=False)
    return GPT2LMHeadModel(cfg)


BERT_MAPPING = {
    "position_table": "bert.embeddings.position_embeddings.weight",
    "tok": "bert.embeddings.word_embeddings.weight",
    "typ": "bert.embeddings.token_type_embeddings.weight",
    "encoder_layer": "bert.encoder.layer.*",
    "self_attention.Q": "bert.encoder.layer.*.attention.self.query.*",
    "self_attention.K": "bert.encoder.layer.*.attention.self.key.*",
    "self_attention.V": "bert.encoder.layer.*.attention.self.value.*",
    "self_attention.return": "bert.encoder.layer.*.attention.output.dense.*",
    "encoder_layer.h": "bert.encoder.layer.*.intermediate.dense.*",
    "pooled": "bert.pooler.dense.*",
}


class Bert(nn.Module):
    """``BertModel`` with its pooler, taking the spec's inputs (ids, token types,
    padding true at padded tokens) in the spec's order."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, ids, token_types, padding):
        return self.bert(input_ids=ids, token_type_ids=token_types, attention_mask=(~padding).long())


def bert(vocab_size, max_positions, type_vocab_size, d_model, num_heads, d_ff, n_layers):
    from transformers import BertConfig, BertModel
    cfg = BertConfig(vocab_size=vocab_size, hidden_size=d_model, num_hidden_layers=n_layers,
                     num_attention_heads=num_heads, intermediate_size=d_ff,
                     max_position_embeddings=max_positions, type_vocab_size=type_vocab_size,
                     pad_token_id=0, hidden_act="gelu")
    return Bert(BertModel(cfg, add_pooling_layer=True))


LLAMA_MAPPING = {
    "gqa_attention": "model.layers.*.self_attn",
    "swiglu": "model.layers.*.mlp",
    "gqa_attention.Q": "model.layers.*.self_attn.q_proj.weight",
    "gqa_attention.K": "model.layers.*.self_attn.k_proj.weight",
    "gqa_attention.V": "model.layers.*.self_attn.v_proj.weight",
    "gqa_attention.return": "model.layers.*.self_attn.o_proj.weight",
    "swiglu.gate": "model.layers.*.mlp.gate_proj.weight",
    "swiglu.up": "model.layers.*.mlp.up_proj.weight",
    "x/embedding": "model.embed_tokens.weight",
    "x/rms_norm": "model.layers.*.*_layernorm.weight",
    "logits/linear": "lm_head.weight",
    "logits/rms_norm": "model.norm.weight",
}


def llama(vocab_size, d_model, n_layers, n_heads, n_kv_heads, d_ff):
    """``LlamaForCausalLM`` with grouped-query attention (``n_kv_heads`` K/V heads)."""
    from transformers import LlamaConfig, LlamaForCausalLM
    cfg = LlamaConfig(vocab_size=vocab_size, hidden_size=d_model, intermediate_size=d_ff,
                      num_hidden_layers=n_layers, num_attention_heads=n_heads, num_key_value_heads=n_kv_heads,
                      head_dim=d_model // n_heads, tie_word_embeddings=False, use_cache=False,
                      bos_token_id=None, eos_token_id=None, pad_token_id=None)
    return LlamaForCausalLM(cfg)


# ---- a hand-written GPT-2 with a planted bug -------------------------------------------------------------

BUGGY_MAPPING = {
    "wte": "wte.weight",
    "wpe": "wpe.weight",
    "causal_self_attention": "blocks.*.attn",
    "mlp": "blocks.*.mlp",
    "causal_self_attention.q": "blocks.*.attn.qkv.*",
    "causal_self_attention.return": "blocks.*.attn.proj.*",
}


class Attention(nn.Module):
    def __init__(self, d, heads, bug):
        super().__init__()
        self.heads = heads
        self.head_dim = d // heads
        # the bug: the fused projection's width assumes GPT-2 small's 12 heads
        width = 12 * self.head_dim if bug else d
        self.qkv = nn.Linear(d, 3 * width)
        self.proj = nn.Linear(width, d)
        self.width = width

    def forward(self, x):
        b, l, _ = x.shape
        q, k, v = self.qkv(x).split(self.width, dim=-1)
        h = self.width // self.head_dim
        q, k, v = (t.view(b, l, h, self.head_dim).transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        mask = torch.ones(l, l, dtype=torch.bool).triu(1)
        w = scores.masked_fill(mask, -1e9).softmax(-1)
        return self.proj((w @ v).transpose(1, 2).reshape(b, l, self.width))


class MLP(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, 4 * d)
        self.out = nn.Linear(4 * d, d)

    def forward(self, x):
        return self.out(nn.functional.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, d, heads, bug):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = Attention(d, heads, bug)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = MLP(d)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class BuggyGPT(nn.Module):
    def __init__(self, vocab_size, n_positions, d_model, num_heads, n_layers, bug=True):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, d_model)
        self.wpe = nn.Embedding(n_positions, d_model)
        self.blocks = nn.ModuleList(Block(d_model, num_heads, bug) for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(d_model)

    def forward(self, ids):
        x = self.wte(ids) + self.wpe.weight[:ids.shape[1]]
        for blk in self.blocks:
            x = blk(x)
        return self.ln_f(x) @ self.wte.weight.T


def buggy_gpt(vocab_size, n_positions, d_model, num_heads, n_layers):
    return BuggyGPT(vocab_size, n_positions, d_model, num_heads, n_layers, bug=True)


def fixed_gpt(vocab_size, n_positions, d_model, num_heads, n_layers):
    return BuggyGPT(vocab_size, n_positions, d_model, num_heads, n_layers, bug=False)
