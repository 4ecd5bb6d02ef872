"""Masks and positions: comparisons (`==` ... `>=`, bool results), bitwise `&`,
`|`, `~` and the `logical_*` functions, `arange`, `tril`/`triu`. NumPy
broadcasting and dtypes (PyTorch's agree)."""
from __future__ import annotations

from .core import DIM, TENSOR, Arg, Out, TensorArg, fixed, op

#: the comparison operators and the operations they apply
COMPARISONS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_NP_COMPARE = {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal", "gt": "greater",
               "ge": "greater_equal"}


def _what(name) -> str:
    """How messages name an operation that also has an operator: "`<` (lt)"."""
    sym = {v: k for k, v in {**COMPARISONS, "&": "bitwise_and", "|": "bitwise_or", "~": "bitwise_not"}.items()}
    return f"`{sym[name]}` ({name})" if name in sym else f"`{name}`"


def _compare(name):
    def rule(r, a: TensorArg, b: TensorArg):
        shape = r.broadcast(a.shape, b.shape, _what(name))
        return Out(shape, "bool", flops=r.numel(shape))

    def kernel(k, a, b):
        return getattr(k.np, _NP_COMPARE[name])(a, b)

    rule.__doc__ = f"`{name}(a, b)`: elementwise comparison, NumPy broadcasting; a bool tensor."
    op(name, Arg("a", TENSOR), Arg("b", TENSOR), kernel=kernel)(rule)


for _name in COMPARISONS.values():
    _compare(_name)


def _bitwise_dtype(r, name, *dtypes):
    if "float" in dtypes:
        r.fail("SC308", f"{_what(name)} needs bool or int tensors, got float (NumPy refuses it)")
    return "int" if "int" in dtypes else "bool"


def _bitwise(name, np_name):
    def rule(r, a: TensorArg, b: TensorArg):
        shape = r.broadcast(a.shape, b.shape, _what(name))
        return Out(shape, _bitwise_dtype(r, name, a.dtype, b.dtype), flops=r.numel(shape))

    def kernel(k, a, b):
        return getattr(k.np, np_name)(a, b)

    rule.__doc__ = f"`{name}(a, b)`: elementwise on bool (or int) tensors, NumPy broadcasting."
    op(name, Arg("a", TENSOR), Arg("b", TENSOR), kernel=kernel)(rule)


_bitwise("bitwise_and", "bitwise_and")
_bitwise("bitwise_or", "bitwise_or")


@op("bitwise_not", Arg("x", TENSOR), kernel=lambda k, x: k.np.invert(x))
def bitwise_not(r, x):
    """`bitwise_not(x)` (`~x`): same shape; bool stays bool, int stays int."""
    return Out(x.shape, _bitwise_dtype(r, "bitwise_not", x.dtype), flops=r.numel(x.shape))


def _logical(name):
    def rule(r, a: TensorArg, b: TensorArg):
        shape = r.broadcast(a.shape, b.shape, f"`{name}`")
        return Out(shape, "bool", flops=r.numel(shape))

    def kernel(k, a, b):
        return getattr(k.np, name)(a, b)

    rule.__doc__ = f"`{name}(a, b)`: elementwise truth of any dtypes, NumPy broadcasting; bool."
    op(name, Arg("a", TENSOR), Arg("b", TENSOR), kernel=kernel)(rule)


_logical("logical_and")
_logical("logical_or")


@op("logical_not", Arg("x", TENSOR), kernel=lambda k, x: k.np.logical_not(x))
def logical_not(r, x):
    """`logical_not(x)`: same shape, bool."""
    return Out(x.shape, "bool", flops=r.numel(x.shape))


def _arange_kernel(k, start, end, step):
    np = k.np
    return np.arange(0, start, dtype=np.int64) if end is None else np.arange(start, end, step, dtype=np.int64)


@op("arange", Arg("start", DIM), Arg("end", DIM, None), Arg("step", DIM, 1), kernel=_arange_kernel)
def arange(r, start, end, step):
    """`arange(n)`: `[n] int` (0 .. n-1); `arange(start, end, step=1)`: `[ceil((end - start) / step)] int`."""
    if end is None:
        if step != 1:
            r.fail("SC105", "arange: a step needs both start and end")
        return Out((start,), "int")
    r.positive(step, "arange: the step")
    return Out((r.ceiling((end - start) / step),), "int")


def _tri(name):
    def rule(r, x, diagonal):
        shape = fixed(r, x, name)
        if len(shape) < 2:
            r.fail("SC304", f"{name} needs a tensor of rank 2 or more, got {r.show_shape(shape)}")
        return Out(x.shape, x.dtype)

    def kernel(k, x, diagonal):
        return getattr(k.np, name)(x, diagonal)

    below = "on and below" if name == "tril" else "on and above"
    rule.__doc__ = f"`{name}(x, diagonal=0)`: same shape; the last two axes keep the elements {below} the diagonal."
    op(name, Arg("x", TENSOR), Arg("diagonal", DIM, 0), kernel=kernel)(rule)


_tri("tril")
_tri("triu")

