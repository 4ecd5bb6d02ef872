"""`shapecheck conform`: check a real PyTorch module against its spec.

The spec's proof holds for every size; this module shows that the model code
people ship agrees with the spec at several distinct sizes chosen from the
spec's `require`s. At each sample it

* builds the module with a user *factory* called with the spec's dimension
  values as keyword arguments (only those its signature accepts);
* runs the spec with NumPy at the same sizes (:mod:`shapecheck.execute`),
  recording every block call (inputs, results, weights created) and every
  weight with the statement that created it;
* feeds the module random inputs of the spec's input shapes and dtypes (int
  inputs in range of the embedding that reads them), with forward hooks on the
  submodules the spec's blocks are mapped to;
* compares: the returned shapes and dtypes (SC801, SC804), the parameter count
  with tied parameters counted once and each mapped weight by shape (SC802),
  and each mapped submodule call's input and result shapes, parameter count and
  number of calls against the block calls (SC803).

Findings are diagnostics on the spec's lines; everything is rendered by the
usual output machinery. Torch is imported only here (and in the strategy and
testing helpers that call it), never by the core, lint, report or verify.

The mapping from spec names to module names (see :func:`mapping_from_comments`
and the ``[tool.shapecheck.conform.<model>]`` table in ``pyproject.toml``) has
one entry per spec name; a value is a glob pattern or a list of them, matched
against qualified module or parameter names, ``*`` standing for one dotted
segment and ``**`` for any number::

    [tool.shapecheck.conform.gpt2]
    wte = "transformer.wte.weight"                # a spec `param`
    causal_self_attention = "transformer.h.*.attn"  # a block: its calls
    "causal_self_attention.q" = "transformer.h.*.attn.c_attn.*"  # the weights of a statement

A block name maps to submodules; a `param` name, ``block.target`` (the weights
created by the statement assigning ``target`` in ``block``, ``block.return`` for
its `return`) or a model-level ``target`` maps to parameters. A module
parameter matches a spec weight when its shape is the same or reversed
(PyTorch's ``nn.Linear`` stores ``[out, in]``, the spec's ``linear`` ``[in, out]``).
"""
from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Optional

from .diagnostics import Diagnostic, Note
from .span import Span

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

OUTPUT, PARAMS, CALLS, DTYPE, MODULE_ERROR, MAPPING = "SC801", "SC802", "SC803", "SC804", "SC805", "SC806"


class UsageError(Exception):
    """Bad input to `conform` (unreadable spec, unknown model, bad factory, bad --bind)."""


# ---- the spec side: an adapter to the numeric interpreter's internals (kept in one place) ------------


def _chooser():
    """``(choose_bindings, BindingError)`` wherever the size chooser lives."""
    try:
        from .sizes import BindingError, choose_bindings   # type: ignore[attr-defined]
    except ImportError:
        from .execute import BindingError, choose_bindings
    return choose_bindings, BindingError


@dataclass
class SpecCall:
    """One block call of the NumPy run."""
    block: str
    path: tuple                 # ("gpt2", "causal_self_attention@37")
    span: Span                  # the call
    decl: object                # the ir.Block
    inputs: list = field(default_factory=list)    # (param name, shape) of the tensor arguments
    outputs: list = field(default_factory=list)   # shapes of the results
    params: int = 0             # weights created inside the block (nested calls included)
    start: Optional[int] = None


@dataclass
class SpecWeight:
    """One weight created by the NumPy run, with the statement that created it."""
    key: str                    # "wte", "causal_self_attention.q", "causal_self_attention.return"
    span: Span                  # the statement
    shape: tuple
    op: str = ""                # the operation that created it ("linear", "layer_norm", ...; "param")

    def matches(self, key: str) -> bool:
        """Is this weight named by a mapping key (``NAME`` or ``NAME/op``)?"""
        name, _, op = key.partition("/")
        return self.key == name and (not op or self.op == op)


@dataclass
class SpecRun:
    """What the spec says at one set of sizes."""
    values: dict
    inputs: list                # (name, shape, dtype, int_high or None)
    outputs: list               # (shape, dtype)
    params: int
    calls: list
    weights: list


def _spec_run(prog, model: str, values: dict, seed: int = 0) -> SpecRun:
    """Run ``model`` of ``prog`` with NumPy at ``values``, recording block calls,
    weights and the bound of each int input. Raises ``execute.ExecError``."""
    from . import ir
    from . import execute as X

    class Recorder(X._Runner):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            self.calls, self.weights, self.stack, self.stmts = [], [], [], []
            self.input_ids, self.bounds, self.inputs, self.ops = {}, {}, [], []
            plain = self.k.weight

            def weight(shape):
                w = plain(shape)
                if self.stmts:
                    frame, st = self.stmts[-1]
                    if isinstance(st, (ir.Input, ir.ParamDecl)):
                        name = st.name
                    elif isinstance(st, ir.Assign):
                        name = st.targets[0]
                    elif isinstance(st, ir.Return):
                        name = "return"
                    else:
                        name = type(st).__name__.lower()
                    key = name if frame.block.is_model else f"{frame.block.name}.{name}"
                    op = self.ops[-1] if self.ops else "param"
                    self.weights.append(SpecWeight(key, st.span, tuple(int(d) for d in w.shape), op))
                return w
            self.k.weight = weight

        def stmt(self, frame, st):
            self.stmts.append((frame, st))
            try:
                out = super().stmt(frame, st)
            finally:
                self.stmts.pop()
            if isinstance(st, ir.Input) and st.name in frame.vars:
                v = frame.vars[st.name]
                self.input_ids[id(v)] = st.name
                self.inputs.append((st.name, tuple(int(d) for d in v.shape), st.shape.dtype or "float"))
            return out

        def call_block(self, frame, e, block):
            rec = SpecCall(block.name, frame.path + (f"{block.name}@{e.span.line}",), e.span, block)
            self.stack.append(rec)
            self.calls.append(rec)
            try:
                out = super().call_block(frame, e, block)
            finally:
                self.stack.pop()
            rec.params = self.k.params - (rec.start if rec.start is not None else self.k.params)
            outs = out.items if isinstance(out, X.TupleV) else (out,)
            rec.outputs = [tuple(int(d) for d in o.shape) for o in outs if hasattr(o, "shape")]
            return out

        def unify(self, sub, block, p, arr, sp, generics, pending):
            if self.stack and self.stack[-1].decl is block:
                self.stack[-1].inputs.append((p.name, tuple(int(d) for d in arr.shape)))
                if self.stack[-1].start is None:
                    self.stack[-1].start = self.k.params
            return super().unify(sub, block, p, arr, sp, generics, pending)

        def prepass(self, frame, at=None):
            if at is not None and self.stack and self.stack[-1].start is None:
                self.stack[-1].start = self.k.params
            return super().prepass(frame, at)

        def apply_op(self, frame, o, pos, kws, span, raw=None):
            if o.name == "embedding" and len(pos) >= 2:
                name = self.input_ids.get(id(pos[0].value))
                table = pos[1].value
                high = table.shape[0] if getattr(table, "ndim", 0) >= 1 else getattr(table, "value", None)
                if name is not None and isinstance(high, int):
                    self.bounds[name] = min(high, self.bounds.get(name, high))
            self.ops.append(o.name)
            try:
                return super().apply_op(frame, o, pos, kws, span, raw)
            finally:
                self.ops.pop()

    r = Recorder(prog, values, seed, None)
    outs = r.run_model(prog.models[model])
    inputs = [(n, s, d, r.bounds.get(n)) for n, s, d in r.inputs]
    outputs = [(tuple(int(d) for d in o.shape), X.dtype_name(o)) for o in outs]
    return SpecRun(dict(values), inputs, outputs, r.param_count, r.calls, r.weights)


def _call_sigmas(model) -> dict:
    """``{call path: {callee dim name: caller expression}}`` from the symbolic
    analysis, to show a block's shape in the model's own dimension names."""
    try:
        from .infer import CallSite
    except ImportError:   # pragma: no cover - a restructured interpreter
        return {}
    out: dict = {}

    def walk(items, outer):
        for it in items:
            if not isinstance(it, CallSite):
                continue
            sigma = {}
            for k, v in it.sigma.items():
                try:
                    sigma[k] = v.xreplace(outer) if outer else v
                except AttributeError:
                    sigma[k] = v
            out.setdefault(it.prefix, {str(k).lstrip("_"): v for k, v in sigma.items()})
            walk(it.items, sigma)
    try:
        walk(model.items, {})
    except Exception:   # the display is a courtesy; never fail a check for it
        return out
    return out


def _show_ir_shape(sh) -> str:
    from .execute import _show_ir_shape as show
    return show(sh)


# ---- mapping ---------------------------------------------------------------------------------------------


_COMMENT = re.compile(r"^\s*#\s*conform(?:\((?P<model>[A-Za-z_][A-Za-z0-9_]*)\))?\s*:\s*(?P<rest>.*)$")
_ENTRY = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?(?:/[A-Za-z_][A-Za-z0-9_]*)?)"
                    r"\s*=\s*(?P<value>.+?)\s*$")


@dataclass
class Entry:
    """One mapping entry: a spec name and the module name patterns it stands for."""
    key: str
    patterns: tuple
    span: Optional[Span] = None     # the spec comment, when it comes from one
    origin: str = ""                # "spec comment" or the pyproject path


def mapping_from_comments(text: str, path: str, model: str) -> tuple:
    """Entries from ``# conform: NAME = PATTERN[, PATTERN...]`` comments (``# conform(MODEL): ...``
    for one model only), and located errors for malformed ones.

    >>> es, errs = mapping_from_comments('# conform: wte = transformer.wte.weight\\n'
    ...                                  '# conform(other): x = "a.*"\\n# conform: nonsense', "m.shape", "gpt2")
    >>> [(e.key, e.patterns, e.span.line) for e in es], [(d.code, d.span.line) for d in errs]
    ([('wte', ('transformer.wte.weight',), 1)], [('SC806', 3)])
    """
    entries, errors = [], []
    for i, line in enumerate(text.split("\n"), 1):
        m = _COMMENT.match(line)
        if not m or (m.group("model") and m.group("model") != model):
            continue
        span = Span(path, i, line.index("#") + 1, i, len(line.rstrip("\r")) + 1)
        e = _ENTRY.match(m.group("rest"))
        if not e:
            errors.append(Diagnostic(MAPPING, span, "a conform mapping comment reads "
                                                    "`# conform: NAME = PATTERN[, PATTERN...]`"))
            continue
        pats = tuple(p.strip().strip("\"'") for p in e.group("value").split(","))
        if not all(pats):
            errors.append(Diagnostic(MAPPING, span, "an empty pattern in a conform mapping comment"))
            continue
        entries.append(Entry(e.group("key"), pats, span, "spec comment"))
    return entries, errors


def mapping_from_table(table, where: str) -> list:
    """Entries from a ``[tool.shapecheck.conform.<model>]`` table (or a plain dict).
    Raises :class:`UsageError` for a malformed one."""
    if table is None:
        return []
    if not isinstance(table, dict):
        raise UsageError(f"{where} must be a table of NAME = \"pattern\" or [\"pattern\", ...]")
    out = []
    for k, v in table.items():
        if isinstance(v, str):
            v = [v]
        if not isinstance(k, str) or not _ENTRY.match(f"{k} = x") or not isinstance(v, (list, tuple)) \
                or not v or not all(isinstance(p, str) and p for p in v):
            raise UsageError(f"{where}: `{k}` must map a spec name to a pattern or a list of patterns")
        out.append(Entry(k, tuple(v), None, where))
    return out


def _glob(pattern: str):
    """A regex for a dotted-name glob: ``*`` one segment, ``**`` any, ``?`` one character.

    >>> bool(_glob("h.*.attn").fullmatch("h.0.attn")), bool(_glob("h.*.attn").fullmatch("h.0.x.attn"))
    (True, False)
    >>> bool(_glob("**.c_attn.*").fullmatch("transformer.h.0.attn.c_attn.weight"))
    True
    """
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^.]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^.]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def _matching(names, patterns) -> list:
    regs = [_glob(p) for p in patterns]
    return [n for n in names if any(r.fullmatch(n) for r in regs)]


# ---- the module side ----------------------------------------------------------------------------------


def load_factory(spec: str) -> Callable:
    """The callable named by ``MODULE:FUNC`` (the current directory on ``sys.path``).
    Raises :class:`UsageError` with the reason."""
    mod_name, sep, func = spec.partition(":")
    if not sep or not mod_name or not func or not all(
            re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p) for p in mod_name.split(".") + func.split(".")):
        raise UsageError(f"--factory {spec!r}: use MODULE:FUNC (e.g. mymodels:build_gpt2)")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        obj = importlib.import_module(mod_name)
    except ModuleNotFoundError as e:
        raise UsageError(f"--factory {spec}: cannot import `{mod_name}`: {e}") from None
    except Exception as e:   # the user's module failed while importing
        raise UsageError(f"--factory {spec}: importing `{mod_name}` failed: {type(e).__name__}: {e}") from None
    for part in func.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"--factory {spec}: `{mod_name}` has no attribute `{func}`")
        obj = getattr(obj, part)
    if not callable(obj):
        raise UsageError(f"--factory {spec}: `{func}` is not callable")
    return obj


def factory_kwargs(factory: Callable, values: dict, name: str = "the factory") -> dict:
    """The dimension values ``factory`` accepts (all of them with ``**kwargs``).
    Raises :class:`UsageError` when it needs an argument the spec has no dimension for.

    >>> def f(d_model, num_heads=1, *, bias=True): pass
    >>> factory_kwargs(f, {"d_model": 8, "num_heads": 2, "batch": 3})
    {'d_model': 8, 'num_heads': 2}
    """
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return dict(values)
    params = sig.parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return dict(values)
    accepted = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    missing = [p.name for p in params if p.default is p.empty and p.kind in
               (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY, p.POSITIONAL_ONLY) and p.name not in values]
    if missing:
        raise UsageError(f"{name} needs `{missing[0]}`, which is not a dimension of the spec "
                         f"(dimensions: {', '.join(values)}); give it a default")
    return {k: v for k, v in values.items() if k in accepted}


def _dtype(t) -> str:
    import torch
    if t.dtype == torch.bool:
        return "bool"
    if t.is_floating_point():
        return "float"
    if t.is_complex():
        return "complex"
    return "int"


def _tensors(out, names: Optional[tuple] = None) -> list:
    """The tensors a forward returned: a tensor, a tuple/list, or a mapping /
    ModelOutput (its fields in order, or the named ones)."""
    import torch
    if torch.is_tensor(out):
        return [out]
    if names:
        got = []
        for n in names:
            try:
                v = out[n]
            except (KeyError, TypeError, IndexError):
                v = getattr(out, n, None)
            if v is None:
                raise KeyError(n)
            got.append(v)
        return [t for t in got if torch.is_tensor(t)]
    if isinstance(out, dict) or hasattr(out, "keys"):
        return [v for v in out.values() if torch.is_tensor(v)]
    if isinstance(out, (tuple, list)):
        return [v for v in out if torch.is_tensor(v)]
    return []


def _first_tensors(args, kwargs) -> list:
    import torch
    found = [a for a in args if torch.is_tensor(a)]
    found += [v for v in (kwargs or {}).values() if torch.is_tensor(v)]
    return found


@dataclass
class ModuleCall:
    name: str                   # qualified submodule name
    inputs: list                # shapes of the tensor arguments (positional first)
    outputs: list               # shapes of the tensors returned
    params: int


@dataclass
class ModuleRun:
    outputs: list               # (shape, dtype)
    params: int
    named: dict                 # parameter name -> shape (tied parameters under each name)
    ids: dict                   # parameter name -> id of the tensor
    modules: list               # qualified submodule names
    calls: dict                 # block name -> [ModuleCall]


def _run_module(module, inputs, hooks: dict, names: Optional[tuple]) -> ModuleRun:
    """Run ``module`` on ``inputs`` with forward hooks on the submodules ``hooks``
    (block name -> qualified names) and collect what conform compares."""
    import torch
    params = {id(p): p.numel() for p in module.parameters()}
    named = {n: tuple(p.shape) for n, p in module.named_parameters(remove_duplicate=False)}
    ids = {n: id(p) for n, p in module.named_parameters(remove_duplicate=False)}
    modules = dict(module.named_modules(remove_duplicate=False))
    calls: dict = {b: [] for b in hooks}
    handles = []
    try:
        for block, qnames in hooks.items():
            for q in qnames:
                sub = modules[q]
                count = sum({id(p): p.numel() for p in sub.parameters()}.values())

                def hook(mod, args, kwargs, out, block=block, q=q, count=count):
                    calls[block].append(ModuleCall(q, [tuple(t.shape) for t in _first_tensors(args, kwargs)],
                                                   [tuple(t.shape) for t in _tensors(out)], count))
                handles.append(sub.register_forward_hook(hook, with_kwargs=True))
        module.eval()
        with torch.no_grad():
            out = module(*inputs)
    finally:
        for h in handles:
            h.remove()
    tensors = _tensors(out, names)
    return ModuleRun([(tuple(t.shape), _dtype(t)) for t in tensors], sum(params.values()), named, ids,
                     list(modules), calls)


def _make_inputs(spec_inputs, seed: int):
    import torch
    g = torch.Generator().manual_seed(seed)
    out = []
    for _name, shape, dtype, high in spec_inputs:
        if dtype == "int":
            out.append(torch.randint(0, max(1, high or min(shape, default=1)), shape, generator=g))
        elif dtype == "bool":
            out.append(torch.rand(shape, generator=g) < 0.5)
        else:
            out.append(torch.randn(shape, generator=g))
    return out


# ---- the report ------------------------------------------------------------------------------------------


@dataclass
class Sample:
    """One size assignment and how the module compared there."""
    label: str
    values: dict
    compared: int = 0
    findings: int = 0
    params_spec: Optional[int] = None
    params_module: Optional[int] = None
    seconds: float = 0.0
    failed: Optional[str] = None

    def line(self, model: str) -> str:
        head = f"{model} [{self.label}] {_sizes(self.values)}"
        if self.failed is not None:
            return f"{head}: {self.failed} ({self.seconds:.2f} s)"
        verdict = "agree" if not self.findings else f"{self.findings} finding" + ("s" if self.findings != 1 else "")
        return f"{head}: {self.compared} checks, {self.params_module:,} parameters; {verdict} ({self.seconds:.2f} s)"


@dataclass
class ConformReport:
    path: str
    model: str = ""
    diagnostics: list = field(default_factory=list)
    samples: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)

    @property
    def errors(self) -> list:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_FINDINGS

    def text(self) -> str:
        """The diagnostics with carets, then one line per sample and a verdict."""
        from .diagnostics import format_text
        out = [format_text(self.diagnostics, self.sources)] if self.diagnostics else []
        out += [f"note: {n}" for n in self.notes]
        out += [s.line(self.model) for s in self.samples]
        n = len(self.errors)
        out.append(f"{self.path}: model `{self.model}` " + (
            f"conforms at {len(self.samples)} size assignment{'s' if len(self.samples) != 1 else ''}" if not n else
            f"does not conform: {n} finding{'s' if n != 1 else ''}"))
        return "\n".join(out)


def _sizes(values: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def _shape(s) -> str:
    return str(list(s))


# ---- choosing sizes ------------------------------------------------------------------------------------


def choose_samples(model, binds: Optional[dict] = None, samples: int = 3, seed: int = 0,
                   max_memory: int = 2 ** 31) -> list:
    """``samples`` distinct size assignments of ``model`` (an :class:`shapecheck.api.Model`):
    each satisfies every `require`, its free sizes small and pairwise distinct
    where possible; ``binds`` are kept. Fewer when no more distinct ones exist.
    Raises :class:`UsageError` when none can be chosen."""
    choose, BindingError = _chooser()
    out, seen = [], set()
    for i in range(samples):
        for retry in range(12):
            try:
                b = choose(model, dict(binds or {}), seed + 1 + i + 1000 * retry, use_examples=False,
                           max_memory=max_memory)
            except BindingError as e:
                if not out:
                    raise UsageError(str(e)) from None
                return out
            key = tuple(sorted(b.values.items()))
            if key not in seen:
                seen.add(key)
                out.append(dict(b.values))
                break
    return out


# ---- the comparison -------------------------------------------------------------------------------------


class _Checker:
    def __init__(self, path, model, prog, sym_model, entries, diag_span, mapping_errors):
        self.path = path
        self.model = model
        self.prog = prog
        self.sym = sym_model
        self.entries = entries
        self.model_span = diag_span
        self.diags: dict = {}          # key -> (Diagnostic, [sizes of later repeats])
        self.count = 0                 # findings reported (repeats included)
        self.sigmas = _call_sigmas(sym_model)
        for d in mapping_errors:
            self._add(("maperr", d.span, d.message), d)

    def _add(self, key, d: Diagnostic, sizes: str = "") -> None:
        self.count += 1
        if key in self.diags:
            d, more = self.diags[key]
            if sizes and sizes not in more and sizes not in d.message:
                more.append(sizes)
        else:
            self.diags[key] = (d, [])

    def entry_span(self, e: Entry) -> Span:
        return e.span or self.model_span

    def entry_note(self, e: Entry) -> tuple:
        return () if e.span else (Note(None, f"mapping `{e.key}` from {e.origin}"),)

    def check_mapping(self, spec: SpecRun, mod: ModuleRun) -> None:
        blocks = set(self.prog.blocks)
        keys = {w.key for w in spec.weights}
        for e in self.entries:
            if e.key not in blocks and not any(w.matches(e.key) for w in spec.weights):
                self._add(("mapkey", e.key), Diagnostic(
                    MAPPING, self.entry_span(e),
                    f"`{e.key}` names neither a block nor a weight of model `{self.model}` "
                    f"(blocks: {', '.join(sorted(blocks)) or 'none'}; weights: {', '.join(sorted(keys)) or 'none'})",
                    self.entry_note(e)))

    def hooks(self, mod_names) -> dict:
        out = {}
        for e in self.entries:
            if e.key in self.prog.blocks:
                out[e.key] = _matching(mod_names, e.patterns)
        return out

    def compare(self, spec: SpecRun, mod: ModuleRun, sample: Sample) -> None:
        at = _sizes(spec.values)
        n = 0
        # returned values
        ret = self.prog.models[self.model]
        ret_span = next((st.span for st in _walk(ret.body) if type(st).__name__ == "Return"), self.model_span)
        if len(mod.outputs) < len(spec.outputs):
            self._add(("nret",), Diagnostic(OUTPUT, ret_span,
                                            f"the module returned {len(mod.outputs)} tensor(s); the spec returns "
                                            f"{len(spec.outputs)} at {at}"), at)
        for i, ((ss, sd), (ms, md)) in enumerate(zip(spec.outputs, mod.outputs)):
            n += 2
            which = f"result {i + 1}" if len(spec.outputs) > 1 else "the result"
            if tuple(ss) != tuple(ms):
                self._add(("out", i), Diagnostic(OUTPUT, ret_span,
                                                 f"the module's {which} is {_shape(ms)}; the spec returns "
                                                 f"{_shape(ss)} at {at}"), at)
            if sd != md:
                self._add(("dtype", i), Diagnostic(DTYPE, ret_span,
                                                   f"the module's {which} has dtype {md}; the spec returns "
                                                   f"{sd} at {at}"), at)
        # parameter count
        n += 1
        if spec.params != mod.params:
            self._add(("params",), Diagnostic(PARAMS, self.model_span,
                                              f"the module has {mod.params:,} parameters (tied ones counted once); "
                                              f"the spec creates {spec.params:,} at {at}"), at)
        # mapped weights
        for e in self.entries:
            if e.key in self.prog.blocks:
                continue
            weights = [w for w in spec.weights if w.matches(e.key)]
            if not weights:
                continue
            names = _matching(list(mod.named), e.patterns)
            seen_ids, mine = set(), []
            for nm in names:
                if mod.ids[nm] not in seen_ids:
                    seen_ids.add(mod.ids[nm])
                    mine.append((nm, mod.named[nm]))
            n += 1
            span = weights[0].span
            if not mine:
                self._add(("nomatch", e.key), Diagnostic(
                    MAPPING, self.entry_span(e), f"`{' , '.join(e.patterns)}` matches no parameter of the module "
                                                 f"(mapped to `{e.key}`, the weights of line {span.line})",
                    self.entry_note(e)), at)
                continue
            left = Counter(w.shape for w in weights)
            extra = []
            for nm, shp in mine:
                if left[shp] > 0:
                    left[shp] -= 1
                elif left[tuple(reversed(shp))] > 0:
                    left[tuple(reversed(shp))] -= 1
                else:
                    extra.append((nm, shp))
            missing = +left
            if extra or missing:
                spec_side = _counted(Counter(w.shape for w in weights))
                mod_side = _counted(Counter(s for _, s in mine))
                example = f" (e.g. {extra[0][0]} is {_shape(extra[0][1])})" if extra else ""
                self._add(("weights", e.key), Diagnostic(
                    PARAMS, span, f"the module's {', '.join(e.patterns)} {'is' if len(mine) == 1 else 'are'} "
                                  f"{mod_side}{example}; line {span.line} creates {spec_side} "
                                  f"(`{e.key}`) at {at}", self.entry_note(e)), at)
        # mapped block calls
        for block, mcalls in mod.calls.items():
            entry = next(e for e in self.entries if e.key == block)
            scalls = [c for c in spec.calls if c.block == block]
            if not scalls:
                continue
            n += 1
            if not any(True for _ in self.hooks_for(entry, mod)):
                self._add(("nomodule", block), Diagnostic(
                    MAPPING, self.entry_span(entry), f"`{', '.join(entry.patterns)}` matches no submodule "
                                                     f"(mapped to block `{block}`)", self.entry_note(entry)), at)
                continue
            if len(mcalls) != len(scalls):
                where = sorted({c.span.line for c in scalls})
                self._add(("ncalls", block), Diagnostic(
                    CALLS, scalls[0].span,
                    f"the module calls {', '.join(entry.patterns)} {len(mcalls)} time(s); the spec calls "
                    f"`{block}` {len(scalls)} time(s) (line{'s' if len(where) > 1 else ''} "
                    f"{', '.join(map(str, where))}) at {at}"), at)
            for sc, mc in zip(scalls, mcalls):
                n += 3
                self._compare_call(sc, mc, at)
        sample.compared = n

    def hooks_for(self, entry, mod):
        return _matching(mod.modules, entry.patterns)

    def _compare_call(self, sc: SpecCall, mc: ModuleCall, at: str) -> None:
        decl = sc.decl
        sigma = self.sigmas.get(sc.path, {})
        tensor_params = [p for p in decl.params if type(p).__name__ == "TensorParam"]

        def declared(sh) -> str:
            text = _show_ir_shape(sh)
            names = [nm for nm in dict.fromkeys(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)) if nm in sigma]
            from .dims import show
            where = ", ".join(f"{nm}={show(sigma[nm])}" for nm in names if str(sigma[nm]) != nm)
            return text + (f" ({where})" if where else "")
        # the first tensor argument
        if sc.inputs and mc.inputs:
            pname, sshape = sc.inputs[0]
            if tuple(mc.inputs[0]) != tuple(sshape):
                p = next((q for q in tensor_params if q.name == pname), None)
                says = f"{declared(p.shape)} = {_shape(sshape)}" if p is not None else _shape(sshape)
                self._add(("callin", sc.block, sc.span), Diagnostic(
                    CALLS, sc.span, f"{mc.name} received {_shape(mc.inputs[0])}; line {sc.span.line} passes "
                                    f"`{pname}` of `{sc.block}` as {says} at {at}",
                    (Note(decl.name_span, f"`{sc.block}` is declared here"),)), at)
        for i, sshape in enumerate(sc.outputs):
            if i >= len(mc.outputs):
                self._add(("callnout", sc.block, sc.span), Diagnostic(
                    CALLS, sc.span, f"{mc.name} returned {len(mc.outputs)} tensor(s); line {sc.span.line} expects "
                                    f"{len(sc.outputs)} from `{sc.block}` at {at}"), at)
                break
            if tuple(mc.outputs[i]) != tuple(sshape):
                rets = decl.returns or ()
                says = f"{declared(rets[i])} = {_shape(sshape)}" if i < len(rets) else _shape(sshape)
                self._add(("callout", sc.block, sc.span, i), Diagnostic(
                    CALLS, sc.span, f"{mc.name} returned {_shape(mc.outputs[i])}; line {sc.span.line} says "
                                    f"`{sc.block}` returns {says} at {at}",
                    (Note(decl.name_span, f"`{sc.block}` is declared here"),)), at)
        if mc.params != sc.params:
            self._add(("callparams", sc.block, sc.span), Diagnostic(
                PARAMS, sc.span, f"{mc.name} has {mc.params:,} parameters; the call of `{sc.block}` at line "
                                 f"{sc.span.line} creates {sc.params:,} at {at}",
                (Note(decl.name_span, f"`{sc.block}` is declared here"),)), at)

    def diagnostics(self) -> list:
        out = []
        for d, more in self.diags.values():
            if more:
                d = Diagnostic(d.code, d.span, d.message,
                               d.notes + (Note(None, f"the same at {'; '.join(more)}"),))
            out.append(d)
        return sorted(out, key=Diagnostic.sort_key)


def _walk(body):
    for st in body:
        yield st
        inner = getattr(st, "body", None)
        if isinstance(inner, (list, tuple)):
            yield from _walk(inner)


def _counted(c: Counter) -> str:
    return ", ".join(f"{k} x {_shape(s)}" if k != 1 else _shape(s) for s, k in sorted(c.items()))


# ---- the entry point ------------------------------------------------------------------------------------


def checked_model(spec, model: Optional[str] = None) -> tuple:
    """``(result, model name)`` for ``spec`` (a path or a checked :class:`shapecheck.api.Result`);
    the name is the spec's only model when ``model`` is None. Raises :class:`UsageError`
    for an unreadable or unparsable spec or an unknown model."""
    from .api import Result, check_path

    res = spec if isinstance(spec, Result) else check_path(str(spec))
    if res.module is None or any(d.code in ("SC001", "SC002") for d in res.diagnostics):
        raise UsageError(next((f"{d.span}: {d.code} {d.message}" for d in res.diagnostics),
                              f"cannot read {res.path}"))
    if model is None:
        if len(res.models) != 1:
            raise UsageError(f"{res.path} has {len(res.models) or 'no'} models; choose one with --model "
                             f"({', '.join(res.models) or 'none'})")
        model = next(iter(res.models))
    if model not in res.models:
        raise UsageError(f"{res.path} has no model `{model}` (models: {', '.join(res.models) or 'none'})")
    return res, model


def conform(path: str, factory, model: Optional[str] = None, binds: Optional[dict] = None, samples: int = 3,
            seed: int = 0, output: Optional[str] = None, mapping: Optional[dict] = None,
            config_mapping: Optional[dict] = None, config_origin: str = "pyproject.toml",
            progress=None, max_memory: int = 2 ** 31) -> ConformReport:
    """Check the module built by ``factory`` (a callable or ``"MODULE:FUNC"``)
    against model ``model`` of the spec at ``path``, at ``samples`` distinct sizes.

    ``mapping`` (spec name -> pattern or list of patterns) adds to the spec's
    ``# conform:`` comments and ``config_mapping`` (the ``[tool.shapecheck.conform]``
    table: model name -> its mapping); a later source wins for the same name. ``output`` names the
    field(s) of a mapping-like result to compare (comma-separated). ``max_memory``
    bounds the spec's NumPy run at each sample (bytes; see ``verify``).
    Raises :class:`UsageError` for a usage problem.
    """
    from .execute import ExecError, load_program

    if isinstance(factory, str):
        factory = load_factory(factory)
    try:
        import torch  # noqa: F401
    except ImportError:
        raise UsageError("conform needs PyTorch: pip install 'shapecheck[torch]'") from None
    if not callable(factory):
        raise UsageError("the factory must be callable")
    res, model = checked_model(path, model)
    report = ConformReport(path, model, sources=dict(res.sources))
    if res.errors:
        report.diagnostics = list(res.diagnostics)
        report.notes.append("the spec has errors; fix them before checking a module against it")
        return report
    names = tuple(n.strip() for n in output.split(",") if n.strip()) if output else None
    sym = res.models[model]
    prog = load_program(path)
    block = prog.models[model]
    entries, map_errors = mapping_from_comments(res.sources.get(path, ""), path, model)
    by_key = {e.key: e for e in entries}
    for e in mapping_from_table((config_mapping or {}).get(model),
                                f"{config_origin}: [tool.shapecheck.conform.{model}]"):
        by_key[e.key] = e
    for e in mapping_from_table(mapping, "the mapping argument"):
        by_key[e.key] = e
    checker = _Checker(path, model, prog, sym, list(by_key.values()), block.name_span, map_errors)
    unknown = sorted(set(binds or {}) - set(sym.dims))
    if unknown:
        raise UsageError(f"--bind {unknown[0]}: the model has no dimension `{unknown[0]}` "
                         f"(dimensions: {', '.join(sym.dims)})")
    plans = choose_samples(sym, binds, samples, seed, max_memory=max_memory)
    for index, values in enumerate(plans):
        label = f"sample {index + 1}"
        if progress is not None:
            progress(model, label, index + 1, len(plans), _sizes(values))
        sample = Sample(label, values)
        report.samples.append(sample)
        t0 = time.perf_counter()
        before = checker.count
        try:
            spec = _spec_run(prog, model, values, seed)
        except ExecError as err:
            sample.failed = f"the NumPy run of the spec failed: {err.message}"
            checker._add(("exec", err.span), Diagnostic(MODULE_ERROR, err.span or block.name_span,
                                                        f"the spec's NumPy run failed at {_sizes(values)}: "
                                                        f"{err.message}"))
            sample.seconds = time.perf_counter() - t0
            continue
        sample.params_spec = spec.params
        kwargs = factory_kwargs(factory, values)
        try:
            module = factory(**kwargs)
        except Exception as e:
            sample.failed = f"the factory raised {type(e).__name__}"
            checker._add(("factory", type(e).__name__, str(e)), Diagnostic(
                MODULE_ERROR, block.name_span, f"the factory raised {type(e).__name__}: {_short(e)} at "
                                               f"{_sizes(values)}"), _sizes(values))
            sample.seconds = time.perf_counter() - t0
            continue
        if not isinstance(module, torch.nn.Module):
            raise UsageError(f"the factory returned {type(module).__name__}, not a torch.nn.Module")
        checker.check_mapping(spec, None)
        hooks = checker.hooks(list(dict(module.named_modules(remove_duplicate=False))))
        inputs = _make_inputs(spec.inputs, seed + index)
        try:
            mrun = _run_module(module, inputs, hooks, names)
        except KeyError as e:
            raise UsageError(f"--output: the module's result has no field {e}") from None
        except Exception as e:
            sample.failed = f"the module raised {type(e).__name__}"
            shapes = ", ".join(f"{n} {_shape(s)} {d}" for n, s, d, _ in spec.inputs)
            checker._add(("forward", type(e).__name__), Diagnostic(
                MODULE_ERROR, block.name_span, f"the module's forward raised {type(e).__name__}: {_short(e)} "
                                               f"on inputs {shapes} at {_sizes(values)}"), _sizes(values))
            sample.seconds = time.perf_counter() - t0
            continue
        sample.params_module = mrun.params
        checker.compare(spec, mrun, sample)
        sample.findings = checker.count - before
        sample.seconds = time.perf_counter() - t0
    report.diagnostics = list(res.diagnostics) + checker.diagnostics()
    report.diagnostics.sort(key=Diagnostic.sort_key)
    return report


def _short(e: Exception, limit: int = 300) -> str:
    text = " ".join(str(e).split())
    return text if len(text) <= limit else text[:limit] + " ..."
