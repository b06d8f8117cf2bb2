"""`vjp(op, args, cotangent, **params)`: the reference's gradients under the adapter protocol's call.

Returns one gradient per array argument, in order: `vjp("conv", (x, w), dy, ...)` is `(dx, dw)`,
`vjp("conv", (x, w, b), dy, ...)` is `(dx, dw, db)`, `vjp("max_pool", (x,), dy, ...)` is `(dx,)`.
The ops are the op table's differentiable ones (`cnnspec.spec.ops`); op `name`'s gradient is
`<reference>_vjp` of the op's reference module, called with every array argument (None for an
absent optional one), the cotangent and the keywords.
"""

from __future__ import annotations

from ..ops import OPS as TABLE
from . import activations, convolution, pooling, resampling

_MODULES = (activations, convolution, pooling, resampling)


def _gradient(reference: str):
    """`<reference>_vjp`, from whichever reference module defines it."""
    return next(getattr(m, f"{reference}_vjp") for m in _MODULES if hasattr(m, f"{reference}_vjp"))


_VJP = {name: _gradient(op.reference) for name, op in TABLE.items() if op.differentiable}

OPS = tuple(sorted(_VJP))


def vjp(op: str, args: tuple, cotangent, **params) -> tuple:
    """Vector-Jacobian product of reference op `op` at `args`, one gradient per array argument."""
    args = tuple(args)
    if op not in _VJP:
        raise ValueError(f"vjp: op={op!r} has no reference gradient; the ops are {', '.join(OPS)}")
    arrays = TABLE[op].arrays
    if not len(TABLE[op].required) <= len(args) <= len(arrays):
        forms = [arrays[:n] for n in range(len(TABLE[op].required), len(arrays) + 1)]
        spelled = " or ".join(f"({', '.join(a.name for a in form)}{',' * (len(form) == 1)})"
                              for form in forms)
        raise ValueError(f"vjp({op!r}): args must be {spelled}, got {len(args)} arrays")
    grads = _VJP[op](*args, *(None,) * (len(arrays) - len(args)), cotangent, **params)
    return (grads,) if len(arrays) == 1 else tuple(grads[:len(args)])
