"""Values both interpreters pass around besides tensors and dimensions:
literals and lists. (Each interpreter has its own tensor and dimension values:
sympy shapes on one side, NumPy arrays and ints on the other.)"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lit:
    value: object                   # str, bool, float or None


@dataclass(frozen=True)
class ListV:
    items: tuple


@dataclass(frozen=True)
class TupleV:
    items: tuple


def describe(v) -> str:
    """What kind of value ``v`` is, for messages ("a string", "a list", ...)."""
    if isinstance(v, ListV):
        return "a list"
    if isinstance(v, TupleV):
        return f"{len(v.items)} values"
    if isinstance(v, Lit):
        return {str: "a string", bool: "a boolean", float: "a number", type(None): "none"}.get(
            type(v.value), "a constant")
    return "a value"
