"""Every finding's message, declared once (as pyflakes' ``messages.py`` and ruff's violations).

Each entry is a :class:`Message`: a stable name (the constant's name, never
reused for another meaning), the code it is reported under and a
``str.format`` template. The codes themselves (severity, summary) are
registered in :mod:`shapecheck.codes`; a template only names one. A template
whose code is ``None`` is a piece of a message: a note under a finding, or a
part that several findings share.

Fields are texts the checker has already rendered (a dimension through
``dims.show``, a shape through ``show_shape``, a name as written). Templates are
constants of this module: text from a spec is only ever a field's value, never
a template, and nothing is evaluated.

Three fields carry the wording of a three-valued check, so it is written once:

- ``{fails}``, in a refuted check's message: the sizes where it fails,
  ``" (fails at n=3, m=4)"`` (:data:`FAILS_AT`), or nothing when the prover
  gave no sizes;
- ``{fix}``, in a refuted check's message: the ``require`` that would exclude
  those sizes, ``"; add `require n >= 1`"`` (:data:`ADD_REQUIRE`), or, when
  that ``require`` contradicts the ones in force, that none can
  (:data:`NOTHING_FIXES`): advice never suggests an impossible ``require``;
- ``{advice}``, in an undecided check's warning: the ``require`` that would
  settle it, ``"; add `require n >= 1` to settle it"`` (:data:`ADVICE`).

:meth:`shapecheck.infer.Checker.settle` fills them. The checks of an
operation's shape rule (``Rule.same``, ``at_most``, ...) take their code from
the operation; the template's code is their default.

The messages of the operations' own shape rules (``r.fail(...)`` in
``shapecheck/ops/``) stay beside their rule, as ruff's violations stay with
their rule: each names one operation's argument.
"""
from __future__ import annotations

from dataclasses import dataclass
from string import Formatter
from typing import Optional


@dataclass(frozen=True)
class Message:
    code: Optional[str]      # None: a note or a shared part, not a finding of its own
    template: str
    detail: bool = False     # a headline: the message goes on with the detail (SHAPE_MISMATCH)

    def format(self, **fields) -> str:
        return self.template.format(**fields)

    @property
    def fields(self) -> tuple:
        """The names of the template's fields, in order."""
        return tuple(f for _, f, _, _ in Formatter().parse(self.template) if f is not None)


def sizes(values: dict) -> str:
    """Sizes as a message shows them: ``n=3, m=4``."""
    return ", ".join(SIZE.format(name=k, value=v) for k, v in values.items())


def fails(res) -> str:
    """The ``{fails}`` field of a refuted check: where it fails, or nothing."""
    found = getattr(res, "counterexample", None)
    return FAILS_AT.format(sizes=sizes(found)) if found else ""


def say(reporter, msg: Message, span, notes=(), evidence=None, code=None, **fields) -> None:
    """Report the finding ``msg`` (its template filled with ``fields``) on
    ``reporter``, under its code or ``code`` where the caller chooses it (the
    checks of an operation's rule)."""
    reporter.report(code or msg.code, span, msg.format(**fields), notes, evidence)


def advice(require: str) -> str:
    """The ``{advice}`` field of an undecided check: the ``require`` that settles it."""
    return ADVICE.format(require=require)


# ---- the shared wording of three-valued checks ----------------------------------------------------

FAILS_AT = Message(None, " (fails at {sizes})")
SIZE = Message(None, "{name}={value}")
ADVICE = Message(None, "; add `require {require}` to settle it")
#: the ``{fix}`` of a refuted check: the `require` that excludes the failing sizes, unless it
#: contradicts the ones in force (then no `require` can)
ADD_REQUIRE = Message(None, "; add `require {require}`")
NOTHING_FIXES = Message(None, "; no `require` can fix it: it fails at every size the `require`s allow")
#: the ``{fix}`` or ``{advice}`` of a check on the pass index of `repeat i in n`: a `require`
#: (stated outside the loop) cannot name `i`
PASS_INDEX = Message(None, "; it depends on the pass index `{index}`, which no `require` can name")
#: ``{what}: `` before a message, when the check has a name
WHAT = Message(None, "{what}: ")
#: a close name, after "undefined name" or "unknown operation"
DID_YOU_MEAN = Message(None, "; did you mean `{name}`?")
#: the note under most block-argument findings
PARAM_DECLARED = Message(None, "parameter declared here")

# ---- the run itself ------------------------------------------------------------------------------------

INTERNAL_ERROR = Message("SC003", "internal error: {kind}: {error} (at {where}); please report this")
CHECKS_ABOVE_HOLD = Message(None, "the checks above this point still hold")
NESTED_TOO_DEEPLY = Message("SC005", "the spec is nested too deeply to analyse")

# ---- loading a program: files, `use`, global names ----------------------------------------------------

FILE_TOO_LONG = Message("SC005", "file longer than {limit} characters")
USE_CYCLE = Message("SC004", "`use` cycle: {chain}")
CLOSES_CYCLE = Message(None, "the `use` that closes the cycle")
DIM_DEFINED_TWICE = Message("SC102", "dimension `{name}` is defined twice")
FIRST_DEFINED = Message(None, "first defined here")
DEFINED_TWICE = Message("SC102", "`{name}` is defined twice")

# ---- global phase: lets, requires, example values ---------------------------------------------------

EXAMPLE_NOT_POSITIVE = Message("SC204", "the example value of `{name}` must be a positive integer, got {value}")
EXAMPLE_BREAKS_REQUIRE = Message("SC205", "the example values break `require {relation}` ({values})")
UNSATISFIABLE_REQUIRE = Message("SC203", "no sizes satisfy `require {relation}` together with the `require`s "
                                         "before it")
ALREADY_DEFINED = Message("SC102", "`{name}` is already defined")
LET_CYCLE = Message("SC206", "`let {name}` depends on itself: {chain}")
DEFINED_HERE = Message(None, "`{name}` is defined here")

# ---- blocks and statements --------------------------------------------------------------------------

RECURSIVE_BLOCK = Message("SC406", "block `{block}` calls itself ({chain}); blocks cannot be recursive")
TWO_VARIADICS = Message("SC304", "parameter `{param}`: a shape may have at most one *variadic (found {found})")
PARAM_DEFINED_TWICE = Message("SC102", "parameter `{param}` is defined twice")
NEVER_RETURNS = Message("SC405", "block `{block}` never returns a value")
UNREACHABLE = Message("SC106", "statement after `return` is never reached")
NESTED_REQUIRE = Message("SC106", "`require` must be at the top level of a block or model")
INPUT_IN_BLOCK = Message("SC106", "`input` is only allowed in a model; a block takes parameters")
FIXED_RANK = Message("SC106", "`{what} {name}` needs a fixed rank (no *variadic)")
UNPACK_COUNT = Message("SC105", "{targets} names on the left but {values} values on the right")
UNPACK_ONE = Message("SC105", "{targets} names on the left but one value on the right")
ANNOTATION_TARGETS = Message("SC106", "an annotation needs a single target")
TARGET_KIND = Message("SC103", "`{name}` must be a tensor or a dimension, got {kind}")
TENSOR_SHADOWS_DIM = Message("SC102", "`{name}` is a dimension here; use another name for the tensor")
ANNOTATED_DIM = Message("SC103", "a shape annotation on a dimension value")
RETURN_NOT_TENSOR = Message("SC103", "`return` needs a tensor, got {kind}")
RETURN_IN_REPEAT = Message("SC106", "`return` inside `repeat`")
RESULT_COUNT = Message("SC405", "`{block}` declares {declared} results but returns {returned}")

# ---- declared dimensions ----------------------------------------------------------------------------

DIM_BELOW_ONE = Message("SC202", "dimension {dim} can be less than 1{fails}{fix}")
DIM_UNDECIDED = Message("SC503", "cannot prove dimension {dim} is at least 1{advice}")

# ---- shapes compared with a declaration (annotation, declared result, loop) --------------------------
# A headline (``detail=True``) is the finding: its message is the headline, then the detail of
# the mismatch (:data:`SHAPE_MISMATCH`), a rank or the dimensions that differ.

ANNOTATION_MISMATCH = Message("SC301", "`{name}` is {shape} but is annotated {expected}", detail=True)
ANNOTATION_CHECKED = Message(None, "the annotation is checked for every size the `require`s allow")
RETURN_MISMATCH = Message("SC403", "returns {shape} where `{block}` promises {expected}", detail=True)
DECLARED_RESULT = Message(None, "the declared result shape")
SHAPE_MISMATCH = Message(None, "{headline}: {detail}")
RANK_DETAIL = Message(None, "rank {rank} vs {expected}")
DIM_DETAIL = Message(None, "dimension {axis} is {found}, expected {expected}{fails}")
DETAIL_SEPARATOR = Message(None, "; ")
#: what a shape's dtype and undecided-dimension findings are about
NAMED = Message(None, "`{name}`")
SHAPE_DTYPE = Message("SC308", "{subject} has dtype {dtype}, expected {expected}")
SHAPE_DIM_UNDECIDED = Message("SC501", "{subject}: cannot decide whether dimension {axis} {found} equals "
                                       "{expected}{advice}")
ORIGIN = Message(None, "dimension {axis} ({dim}) comes from {what}")

# ---- repeat -------------------------------------------------------------------------------------------

REPEAT_BELOW_ONE = Message("SC202", "the repeat count {count} can be less than 1{fails}")
REPEAT_UNDECIDED = Message("SC505", "cannot prove the repeat count {count} is at least 1{advice}")
LOOP_VALUE_CHANGE = Message("SC404", "`{name}` is {new} after one pass of `repeat {count}` but {old} before it{fails}")
LOOP_VALUE_UNDECIDED = Message("SC501", "`{name}`: cannot decide whether {new} after one pass of `repeat {count}` "
                                        "equals {old} before it{advice}")
LOOP_KEEPS_VALUE = Message(None, "a value carried around the loop must not change")
LOOP_SHAPE_CHANGE = Message("SC404", "`{name}` is {shape} after one pass of `repeat {count}` but {before} before it",
                            detail=True)
LOOP_KEEPS_SHAPE = Message(None, "a tensor carried around the loop must keep its shape")
NAME_THE_INDEX = Message(None, "to let it grow by the same amount each pass, name the pass index: `repeat i in ...`")
# `repeat i in n`: the induction over the passes
INDEX_DEFINED = Message("SC102", "`{name}` is already defined; the pass index of `repeat` needs a name of its own")
LOOPS_TOO_DEEP = Message("SC005", "`repeat ... in` loops that carry a value nested deeper than {limit} levels")
REPEAT_IN = Message(None, "`repeat {index} in {count}`")
STEP_VALUE_MISMATCH = Message("SC404", "`{name}` is {new} after pass {index} of {loop}, but {want} by the growth "
                                       "of its first pass{fails}")
STEP_VALUE_UNDECIDED = Message("SC501", "`{name}`: cannot decide whether {new} after pass {index} of {loop} equals "
                                        "{want}, the growth of its first pass{advice}")
STEP_SHAPE_CHANGE = Message("SC404", "`{name}` is {shape} after pass {index} of {loop} but {before} before it",
                            detail=True)
STEP_SHAPE_MISMATCH = Message("SC404", "`{name}` is {shape} after pass {index} of {loop}, but {want} by the growth "
                                       "of its first pass", detail=True)
STEP_AFFINE = Message(None, "a value carried around the loop must grow by the same amount each pass (an affine "
                            "function of the pass index)")
STEP_KEEP_OR_GROW = Message(None, "a value carried around the loop must keep its shape or grow by the same amount "
                                  "each pass")

# ---- names and dimension expressions ----------------------------------------------------------------
# where a dimension expression is expected (the ``{where}`` of NOT_A_DIMENSION)
IN_REPEAT = Message(None, "`repeat`")
IN_EXAMPLE = Message(None, "the example value of `{name}`")
IN_LET = Message(None, "`let {name}`")
IN_REQUIRE = Message(None, "a `require`")
IN_SHAPE = Message(None, "a shape")
IN_SLICE = Message(None, "a slice bound")
IN_INDEX = Message(None, "an index")
IN_CALL = Message(None, "{name}()")
IN_DEFAULT = Message(None, "a parameter default")
# where a dimension comes from (the ``{what}`` of ORIGIN; an operation or block is NAMED)
FROM_PARAMETER = Message(None, "parameter `{name}`")
FROM_DECLARATION = Message(None, "{what} `{name}`")

UNKNOWN_VARIADIC = Message("SC101", "unknown variadic dimension `*{name}`")
UNKNOWN_VARIADIC_IN_SHAPE = Message("SC101", "unknown variadic dimension `*{name}` (variadics are bound by a "
                                             "block's parameters)")
NOT_A_DIMENSION = Message("SC103", "{where} needs a dimension expression, got {kind}")
BLOCK_AS_VALUE = Message("SC103", "`{name}` is a block; call it: {name}(...)")
VARIADIC_AS_VALUE = Message("SC103", "`{name}` is variadic; write `*{name}` inside a shape")
UNDEFINED_NAME = Message("SC101", "undefined name `{name}`{hint}")
DIVISION_BY_ZERO = Message("SC204", "division by zero in a dimension expression")
DIVISOR_BELOW_ONE = Message("SC204", "the divisor {dim} can be zero or negative{fails}{fix}")
DIVISOR_UNDECIDED = Message("SC503", "cannot prove the divisor {dim} is at least 1{advice}")
INEXACT_DIVISION = Message("SC201", "{what}{quotient} is not a whole number for every allowed size{fails}{fix}")
DIVISION_UNDECIDED = Message("SC502", "{what}cannot prove that {quotient} is a whole number{advice}")
ONE_DIMENSION_ARGUMENT = Message("SC105", "{name}() takes one dimension expression")
TWO_DIMENSION_ARGUMENTS = Message("SC105", "{name}() of dimensions needs at least two arguments")
UNKNOWN_OPERATION = Message("SC104", "unknown operation `{name}`: neither a built-in nor a block{hint}")

# ---- operations ----------------------------------------------------------------------------------------

OP_BAD_ARGUMENTS = Message("SC105", "{problem}; expected {signature}")
OP_KEYWORD_NOT_DIMENSION = Message("SC103", "{op}: `{name}=` needs a dimension, got {kind}")
OP_DIM_BELOW_ONE = Message("SC202", "`{op}` gives a dimension {dim} that can be less than 1{fails}")
OP_DIM_UNDECIDED = Message("SC503", "`{op}`: cannot prove the dimension {dim} is at least 1{advice}")
OP_AXIS_NOT_CONSTANT = Message("SC103", "{op}: `{arg}` must be an integer constant, got {value}")
OP_AXES_NOT_CONSTANT = Message("SC103", "{op}: `{arg}` must be integer constants, got {value}")
OP_ARGUMENT_KIND = Message("SC103", "{op}: `{arg}` must be {want}, got {kind}")
OP_SHAPE_NOT_DIMENSIONS = Message("SC103", "{op}: `{arg}` must list dimensions, found {kind}")

# the checks an operation's shape rule asks for (``ops.core.Rule``); the operation may choose the code
RULE_MISMATCH = Message("SC305", "{what}: expected {expected}, found {found}{fails}")
RULE_EQUALITY_UNDECIDED = Message("SC501", "{what}: cannot decide whether {found} equals {expected}{advice}")
RULE_DIVISION_BY_ZERO = Message("SC204", "{what}: division by zero")
RULE_EXCEEDS = Message("SC307", "{what}: {a} > {b}")
RULE_EXCEEDS_BY = Message("SC307", "{what}: {a} exceeds {b} by {gap} at every size{fails}")
RULE_EXCEEDS_ALWAYS = Message("SC307", "{what}: {a} exceeds {b} at every size the `require`s allow{fails}")
RULE_CAN_EXCEED = Message("SC307", "{what}: {a} can exceed {b}{fails}{fix}")
ADD_REQUIRE_IF_INTENDED = Message(None, "; add `require {require}` if that is intended")
RULE_BOUND_UNDECIDED = Message("SC503", "{what}: cannot prove {a} <= {b}{advice}")
RULE_BELOW_ONE = Message("SC202", "{what} can be less than 1{fails}")
RULE_POSITIVE_UNDECIDED = Message("SC503", "{what}: cannot prove it is at least 1{advice}")
RULE_BROADCAST_VARIADIC = Message("SC302", "{what}: cannot broadcast {a} with {b}: {x} against {y}")
RULE_BROADCAST = Message("SC302", "{what}: cannot broadcast {a} with {b}: {x} vs {y}{fails}")
RULE_BROADCAST_UNDECIDED = Message("SC501", "{what}: cannot decide whether {x} and {y} broadcast{advice}")

# ---- block calls ---------------------------------------------------------------------------------------

# matching a call's arguments to the block's parameters (shapecheck.skeleton, for both interpreters)
BLOCK_ARITY = Message("SC105", "`{block}` takes {count} arguments, got {given}")
BLOCK_NO_PARAMETER = Message("SC105", "`{block}` has no parameter `{name}`{hint} (parameters: {params})")
BLOCK_GIVEN_TWICE = Message("SC105", "`{block}`: parameter `{name}` given twice")
BLOCK_MISSING_ARGUMENT = Message("SC105", "`{block}` is missing argument `{param}`")
BLOCK_DEFAULTS_CYCLE = Message("SC105", "`{block}`: the parameter defaults refer to each other in a cycle")
ARGUMENT_KIND = Message("SC103", "argument `{param}` of `{block}` must be {want}, got {kind}")
ARGUMENT_DTYPE = Message("SC308", "argument `{param}` of `{block}` has dtype {dtype}, expected {expected}")
CALL_DIM_BELOW_ONE = Message("SC202", "call to `{block}` makes its dimension `{sym}` {value}, which can be "
                                      "less than 1{fails}")
CALL_DIM_UNDECIDED = Message("SC503", "call to `{block}`: cannot prove its dimension `{sym}` = {value} is at "
                                      "least 1{advice}")
CHECKED_AT_LEAST_ONE = Message(None, "`{block}` is checked for `{sym}` >= 1")
VARIADIC_CLASH = Message("SC401", "argument `{param}` of `{block}`: `*{name}` is {here} here but {before} in an "
                                  "earlier argument{fails}")
VARIADIC_UNDECIDED = Message("SC501", "argument `{param}` of `{block}`: cannot decide whether `*{name}` ({here} "
                                      "here, {before} before) is the same{advice}")
VARIADIC_AGAINST_DIM = Message("SC401", "argument `{param}` of `{block}`: a variadic dimension {variadic} cannot "
                                        "match `{dim}`")
ARGUMENT_RANK = Message("SC401", "argument `{param}` of `{block}` is {shape} (rank {rank}) but the parameter is "
                                 "{expected}")
CANNOT_INFER = Message("SC401", "argument `{param}` of `{block}`: cannot infer `{sym}` from {value} = {pattern}")
INFERRING = Message(None, "inferring `{sym}` for `{block}`")
ARGUMENT_MISMATCH = Message("SC401", "argument `{param}` of `{block}` is {given}: `{pattern}` must be {expected}, "
                                     "found {found}{fails}")
ARGUMENT_UNDECIDED = Message("SC501", "argument `{param}` of `{block}`: cannot decide whether {found} equals "
                                      "{expected}{advice}")
PARAM_DECLARED_AS = Message(None, "parameter `{param}` is declared {shape}")
BOUND_BY = Message(None, "`{sym}` was bound to {value} by argument `{param}`")
PRECONDITION_IMPOSSIBLE = Message("SC402", "call to `{block}` needs {relation}, which contradicts the `require`s "
                                           "here: no sizes allow this call")
PRECONDITION_FAILS = Message("SC402", "call to `{block}` needs {relation}, which the `require`s here do not "
                                      "guarantee{fails}{fix}")
PRECONDITION_UNDECIDED = Message("SC504", "call to `{block}` needs {relation}; cannot prove it from the "
                                          "`require`s here{advice}")
BLOCK_REQUIRES = Message(None, "`{block}` requires {relation}{why}")
WHY = Message(None, " ({why})")
INHERITED = Message(None, "inherited from `{block}`")

#: every template, by its stable name
MESSAGES: dict = {name: m for name, m in globals().items() if isinstance(m, Message)}
