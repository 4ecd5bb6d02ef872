"""Built-in operations: one module per family, each operation's shape rule,
parameters, FLOPs and NumPy kernel side by side. Importing this package
registers them all in :data:`OPS`."""
from .core import OPS, Arg, Op, Out, Rule, TensorArg, Variadic, match_args, ArgError, signature  # noqa: F401
from . import elementwise, linear, shape, reduce, conv  # noqa: F401  (registration)
from . import index, sequence, resample, mask, pool, norm  # noqa: F401  (registration)
