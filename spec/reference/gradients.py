"""`vjp(op, args, cotangent, **params)`: the reference's gradients under the adapter protocol's call.

Returns one gradient per array argument, in order: `vjp("conv", (x, w), dy, ...)` is `(dx, dw)`,
`vjp("conv", (x, w, b), dy, ...)` is `(dx, dw, db)`, `vjp("max_pool", (x,), dy, ...)` is `(dx,)`.
"""

from __future__ import annotations

from . import activations, convolution, pooling, resampling

_UNARY = {
    "max_pool": pooling.max_pool_vjp,
    "avg_pool": pooling.avg_pool_vjp,
    "softmax": activations.softmax_vjp,
    "log_softmax": activations.log_softmax_vjp,
    "sigmoid": activations.sigmoid_vjp,
    "tanh": activations.tanh_vjp,
    "relu": activations.relu_vjp,
    "leaky_relu": activations.leaky_relu_vjp,
    "relu6": activations.relu6_vjp,
    "elu": activations.elu_vjp,
    "adaptive_avg_pool": pooling.adaptive_avg_pool_vjp,
    "adaptive_max_pool": pooling.adaptive_max_pool_vjp,
    "upsample_nearest": resampling.upsample_nearest_vjp,
    "pixel_shuffle": resampling.pixel_shuffle_vjp,
}
_WEIGHTED = {"conv": convolution.conv_vjp, "conv_transpose": convolution.conv_transpose_vjp}

OPS = tuple(sorted(_UNARY) + sorted(_WEIGHTED))


def vjp(op: str, args: tuple, cotangent, **params) -> tuple:
    """Vector-Jacobian product of reference op `op` at `args`, one gradient per array argument."""
    args = tuple(args)
    if op in _UNARY:
        if len(args) != 1:
            raise ValueError(f"vjp({op!r}): args must be (x,), got {len(args)} arrays")
        return (_UNARY[op](args[0], cotangent, **params),)
    if op in _WEIGHTED:
        if len(args) not in (2, 3):
            raise ValueError(f"vjp({op!r}): args must be (x, w) or (x, w, b), got {len(args)}")
        x, w, *bias = args
        dx, dw, db = _WEIGHTED[op](x, w, bias[0] if bias else None, cotangent, **params)
        return (dx, dw, db) if bias else (dx, dw)
    raise ValueError(f"vjp: op={op!r} has no reference gradient; the ops are {', '.join(OPS)}")
