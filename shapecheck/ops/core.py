"""The operation table: each built-in declares its signature, its symbolic
shape rule, the parameters and FLOPs it costs, and (in the same module) its
NumPy kernel and numeric FLOP count.

A shape rule receives a :class:`Rule` context (provided by the symbolic
interpreter) and the bound arguments: tensors as :class:`TensorArg`, dimensions
as the interpreter's dimension expressions, and plain values. It returns an
:class:`Out` (or a tuple of them); ints may stand for constant dimensions there.

Rules import no algebra of their own: they combine dimensions with ``+ - *``
and ``//`` (floor division, on expressions as on ints), and ask the context
for everything else: constants (``r.integer``), ``r.floor``, ``r.ceiling``,
``r.min``, ``r.max``, products (``r.prod``, ``r.numel``), conversion
(``r.expr``) and display for messages (``r.show``, ``r.show_shape``). The
symbolic interpreter's context gets them from :class:`shapecheck.dims.Algebra`
(sympy). So no module of ``ops/`` imports sympy, the prover or the symbolic
interpreter, at import time or later, and the numeric interpreter, which runs
only the kernels and counts, loads the table without them (both are checked
by ``tests/test_execute.py``). Rules never import NumPy; kernels get it from
their context (``k.np``) or import it lazily.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

#: argument kinds
TENSOR = "tensor"        # a tensor (a dimension or number is promoted to a scalar)
OPT_TENSOR = "tensor?"   # a tensor or none
DIM = "dim"              # a dimension expression
AXIS = "axis"            # an integer constant, may be negative
NUMBER = "number"        # a numeric constant
BOOL = "bool"
STR = "str"
TENSORS = "tensors"      # a list of tensors
SHAPE = "shape"          # a list of dimension expressions (and *variadics)
AXES = "axes*"           # any number of positional axes (permute); a kind ending in * is varargs
TENSOR_ARGS = "tensors*"  # any number of positional tensors (einsum's operands)
AXES_OPT = "axes?"       # none, an integer constant, or a list of them: None, an int or a tuple of ints
DIMS = "dims"            # a dimension expression or a list of them: one expression or a tuple (or none)
PADDING = "dims|str"     # as DIMS, or a string (`padding="same"`)
DIM_OR_TENSOR = "dim|tensor"   # a dimension (kept as one) or a tensor (embedding's vocabulary)
SUBSCRIPTS = "subscripts"      # an index's items, filled in by the interpreter (never written by a user)

#: what each kind accepts, in words (both interpreters' "`x` must be ..." messages)
WANT = {TENSOR: "a tensor", OPT_TENSOR: "a tensor or none", DIM: "a dimension", AXIS: "an integer axis",
        NUMBER: "a number", BOOL: "true or false", STR: "a string", TENSORS: "a list of tensors",
        SHAPE: "a list of dimensions", AXES: "integer axes", TENSOR_ARGS: "tensors",
        AXES_OPT: "an integer axis or a list of them", DIMS: "a dimension or a list of dimensions",
        PADDING: "a dimension, a list of dimensions or a string",
        DIM_OR_TENSOR: "a dimension or a tensor", SUBSCRIPTS: "index items"}
#: every argument kind an operation may declare
KINDS = tuple(WANT)

REQUIRED = object()


@dataclass(frozen=True)
class Arg:
    name: str
    kind: str
    default: Any = REQUIRED


@dataclass(frozen=True)
class Variadic:
    """``*name`` inside a shape: any number of dimensions."""
    name: str

    def __str__(self) -> str:
        return f"*{self.name}"


@dataclass(frozen=True)
class TensorArg:
    """What a shape rule sees of a tensor: its shape and dtype."""
    shape: tuple
    dtype: str = "float"

    @property
    def rank(self) -> int:
        return len(self.shape)


@dataclass(frozen=True)
class Out:
    shape: tuple
    dtype: str = "float"
    params: Any = 0
    flops: Any = 0
    buffers: Any = 0     # state that is not a parameter (batch norm's running statistics)


@dataclass(frozen=True)
class Op:
    name: str
    args: tuple
    rule: Callable[..., Any]
    kernel: Optional[Callable[..., Any]] = None
    varkw: Optional[str] = None     # kind of extra keyword arguments (rearrange's axes)
    doc: str = ""
    count: Optional[Callable[..., Any]] = None   # FLOPs of a NumPy call: count(kernel args, result) -> int


OPS: dict[str, Op] = {}

#: the operation each operator of the language applies (to tensors; `+ - * / // % **` of two
#: dimensions is dimension arithmetic instead)
BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div", "//": "floordiv", "%": "mod", "@": "matmul",
          "**": "pow", "==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge",
          "&": "bitwise_and", "|": "bitwise_or"}
UNARY = {"-": "neg", "~": "bitwise_not"}
#: the operators of dimension arithmetic (the others always apply their operation)
DIM_ARITHMETIC = frozenset({"+", "-", "*", "/", "//", "%", "**"})
#: operations reached only through an operator or indexing, not callable by name
INTERNAL = frozenset({"index", "add", "sub", "mul", "div", "floordiv", "mod", "neg", "pow"})


def op(name: str, *args: Arg, kernel=None, varkw=None, count=None):
    """Register a shape rule under ``name`` (decorator). ``count(args, result)``
    gives the FLOPs of one NumPy call (the same count as the rule's). An
    argument kind outside :data:`KINDS` is refused here, at import: both
    interpreters convert every kind in it."""
    unknown = [a.kind for a in args if a.kind not in KINDS]
    if unknown:
        raise ValueError(f"operation {name}: unknown argument kind {unknown[0]!r} (see ops.core.KINDS)")

    def deco(rule):
        OPS[name] = Op(name, tuple(args), rule, kernel, varkw, (rule.__doc__ or "").strip(), count)
        return rule
    return deco


class ArgError(Exception):
    """Call arguments that do not match a signature (an operation's or a
    block's): the message, where (None: the whole call), notes ``(span,
    text)`` and the code (a block call's findings; None for an operation's,
    which the interpreter reports with the signature)."""

    def __init__(self, message: str, span=None, notes=(), code=None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.notes = tuple(notes)
        self.code = code


def match_args(o: Op, positional: list, keywords: list) -> dict:
    """Match call arguments to ``o``'s signature.

    ``positional`` is a list of values, ``keywords`` of ``(name, value, span)``.
    Returns ``{name: value}`` with defaults filled in and extra keywords (for a
    ``varkw`` operation) under ``"**"``. Raises :class:`ArgError`.
    """
    out: dict = {}
    params = list(o.args)
    if params and params[-1].kind.endswith("*"):
        fixed = params[:-1]
        if len(positional) < len(fixed):
            raise ArgError(f"{o.name}() takes at least {len(fixed)} arguments, got {len(positional)}")
        for a, v in zip(fixed, positional):
            out[a.name] = v
        out[params[-1].name] = list(positional[len(fixed):])
    else:
        if len(positional) > len(params):
            raise ArgError(f"{o.name}() takes at most {len(params)} positional arguments, "
                            f"got {len(positional)}")
        for a, v in zip(params, positional):
            out[a.name] = v
    extra = {}
    names = {a.name for a in params}
    for name, value, span in keywords:
        if name in out or name in extra:
            raise ArgError(f"{o.name}() got argument `{name}` twice", span)
        if name in names:
            out[name] = value
        elif o.varkw is not None:
            extra[name] = value
        else:
            allowed = ", ".join(a.name for a in params) or "none"
            raise ArgError(f"{o.name}() has no argument `{name}` (arguments: {allowed})", span)
    for a in params:
        if a.name not in out:
            if a.default is REQUIRED:
                raise ArgError(f"{o.name}() is missing argument `{a.name}`")
            out[a.name] = a.default
    out["**"] = extra
    return out


def signature(o: Op) -> str:
    parts = []
    for a in o.args:
        if a.kind.endswith("*"):
            parts.append(f"*{a.name}")
        elif a.default is REQUIRED:
            parts.append(a.name)
        else:
            d = a.default
            parts.append(f"{a.name}={'none' if d is None else str(d).lower() if isinstance(d, bool) else d}")
    if o.varkw:
        parts.append("axis=dim, ...")
    return f"{o.name}({', '.join(parts)})"


class Rule:
    """The checks a shape rule may ask for, and the dimension algebra it computes
    with (both implemented by the interpreter).

    ``expected``/``found`` are dimension expressions; ``what`` names the check
    in the message ("linear: input features").
    """

    # ---- the dimension algebra ----

    def integer(self, n: int):  # pragma: no cover - interface
        """The constant dimension ``n``."""
        raise NotImplementedError

    def expr(self, v):  # pragma: no cover
        """``v`` (an int or a dimension) as a dimension expression."""
        raise NotImplementedError

    def prod(self, dims):  # pragma: no cover
        """The product of ``dims`` (1 for none)."""
        raise NotImplementedError

    def floor(self, e):  # pragma: no cover
        raise NotImplementedError

    def ceiling(self, e):  # pragma: no cover
        raise NotImplementedError

    def min(self, *es):  # pragma: no cover
        raise NotImplementedError

    def max(self, *es):  # pragma: no cover
        raise NotImplementedError

    def show(self, e) -> str:  # pragma: no cover
        """A dimension in spec syntax (``d / h``), for messages."""
        raise NotImplementedError

    def show_shape(self, shape) -> str:  # pragma: no cover
        """``[b, l, d / h]`` (variadics as ``*name``), for messages."""
        raise NotImplementedError

    def numel(self, shape):  # pragma: no cover
        """The number of elements of ``shape`` (a ``*variadic`` counts as one
        symbol, ``numel(*name)``, which a block call replaces by the product it binds)."""
        raise NotImplementedError

    # ---- the checks ----

    def fail(self, code: str, message: str):  # pragma: no cover - interface
        raise NotImplementedError

    def same(self, expected, found, what: str, code: str = "SC305") -> None:  # pragma: no cover
        raise NotImplementedError

    def div(self, a, b, what: str):  # pragma: no cover
        raise NotImplementedError

    def at_most(self, a, b, what: str, code: str = "SC307") -> None:  # pragma: no cover
        raise NotImplementedError

    def positive(self, e, what: str) -> None:  # pragma: no cover
        raise NotImplementedError

    def broadcast(self, a: tuple, b: tuple, what: str) -> tuple:  # pragma: no cover
        raise NotImplementedError

    def is_one(self, e) -> bool:  # pragma: no cover
        """Is ``e`` equal to 1 under the facts?"""
        raise NotImplementedError

    def sign(self, e):  # pragma: no cover
        """-1 when ``e <= -1`` is proved, 1 when ``e >= 0`` is, None otherwise."""
        raise NotImplementedError


def promote(*dtypes: str) -> str:
    """NumPy's (and PyTorch's) promotion of tensor dtypes: float over int over bool."""
    if "float" in dtypes:
        return "float"
    if "int" in dtypes:
        return "int"
    return "bool"


def fixed(r: Rule, x: TensorArg, what: str) -> tuple:
    """``x``'s shape, failing if it holds a ``*variadic``."""
    if any(isinstance(d, Variadic) for d in x.shape):
        r.fail("SC304", f"{what} needs a tensor of known rank, got {r.show_shape(x.shape)}")
    return x.shape


def axis(r: Rule, shape: tuple, a: int, what: str, extra: int = 0) -> int:
    """Normalise axis ``a`` of a rank-``len(shape)`` tensor (``extra`` allows
    one past the end, as for ``stack``)."""
    n = len(shape) + extra
    i = a + n if a < 0 else a
    if not 0 <= i < n:
        r.fail("SC304", f"{what}: axis {a} is out of range for a tensor of rank {len(shape)} "
                        f"{r.show_shape(shape)}")
    var = [k for k, d in enumerate(shape) if isinstance(d, Variadic)]
    if var and ((a >= 0 and i >= var[0]) or (a < 0 and i <= var[-1])):
        r.fail("SC304", f"{what}: axis {a} of {r.show_shape(shape)} crosses the variadic dimensions")
    return i


def last(r: Rule, x: TensorArg, what: str):
    if not x.shape or isinstance(x.shape[-1], Variadic):
        r.fail("SC304", f"{what} needs at least one trailing dimension, got {r.show_shape(x.shape)}")
    return x.shape[-1]

