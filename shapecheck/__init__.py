"""shapecheck: a symbolic shape checker for neural-network model specs.

>>> import shapecheck
>>> result = shapecheck.check_source('''
... dim batch, seq, d_model = 8, heads = 2
... require d_model % heads == 0
... model tiny {
...     input x: [batch, seq, d_model]
...     h = rearrange(x, "b l (h k) -> b h l k", h=heads) : [batch, heads, seq, d_model / heads]
...     return h
... }''', "tiny.shape")
>>> result.ok, result.diagnostics
(True, [])
>>> result.models["tiny"].shapes()["h"]
'[batch, heads, seq, d_model / heads]'
"""
from .api import Model, Result, check_path, check_source, spec_files
from .codes import CODES, Code
from .diagnostics import Diagnostic, Note, format_text
from .span import Span

__all__ = ["check_source", "check_path", "spec_files", "Result", "Model", "Diagnostic", "Note",
           "Span", "CODES", "Code", "format_text"]
__version__ = "0.1.0"
