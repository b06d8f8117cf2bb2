"""What the float64 reference expects for a call, with the tolerance policy that applies: the
reduction length K and the magnitude of the summed terms (the reference on |x| and |w|)."""

from __future__ import annotations

import math

import numpy as np

from cnnspec.spec import conv_transpose_roundtrip_padding
from cnnspec.spec import reference as ref

from .tolerance import Tolerance, policy


def representable(want, dtype) -> np.ndarray:
    """The float64 reference where `dtype` can hold it, and +-inf where correct rounding to
    `dtype` overflows (IEEE 754, 4.3: a result past the largest finite number rounds to
    infinity), e.g. leaky_relu(-max, alpha=1.5) in float32."""
    want = np.asarray(want, dtype=np.float64)
    with np.errstate(over="ignore"):
        rounded = want.astype(dtype).astype(np.float64)
    return np.where(np.isinf(rounded) & np.isfinite(want), rounded, want)


def conv(x, w, b, params) -> tuple[np.ndarray, np.ndarray, Tolerance]:
    expected = ref.conv(x, w, b, **params)
    scale = ref.conv(np.abs(x.astype(np.float64)), np.abs(w.astype(np.float64)),
                     None if b is None else np.abs(b.astype(np.float64)), **params)
    return expected, scale, policy("reduction", x.dtype, w.shape[1] * math.prod(w.shape[2:]))


def conv_transpose(x, w, b, params) -> tuple[np.ndarray, np.ndarray, Tolerance]:
    expected = ref.conv_transpose(x, w, b, **params)
    scale = ref.conv_transpose(np.abs(x.astype(np.float64)), np.abs(w.astype(np.float64)),
                               None if b is None else np.abs(b.astype(np.float64)), **params)
    return expected, scale, policy("reduction", x.dtype, w.shape[0] * math.prod(w.shape[2:]))


def avg_pool(x, params) -> tuple[np.ndarray, np.ndarray, Tolerance]:
    expected = ref.avg_pool(x, **params)
    scale = ref.avg_pool(np.abs(x.astype(np.float64)), **params)
    return expected, scale, policy("reduction", x.dtype, math.prod(params["kernel_shape"]))


def softmax_tolerance(x, axis=-1) -> Tolerance:
    return policy("transcendental", x.dtype, x.shape[axis])


def _shifted(x, axis):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        gap = np.abs(x - x.max(axis=axis, keepdims=True))
    return np.where(np.isfinite(gap), gap, 0.0), ref.softmax(x, axis=axis)


def softmax_scale(x, axis=-1) -> np.ndarray:
    """The terms of the shifted softmax: `s_i * (1 + |x_i - M| + sum_j s_j |x_j - M|)`.

    Rounding `x_i - M` costs `|x_i - M| u` relative in `exp` (Blanchard, Higham & Higham 2021,
    Theorem 4.3: the `2 (x_max - x_min) u` term), in each numerator and in the denominator."""
    gap, s = _shifted(x, axis)
    s = np.nan_to_num(s)
    return s * (1 + gap + (s * gap).sum(axis=axis, keepdims=True))


def log_softmax_scale(x, axis=-1) -> np.ndarray:
    """The terms of `x - M - log(sum exp(x - M))`: `|x_i - M| + 1 + sum_j s_j |x_j - M|`.

    `log` turns the relative error of the sum (>= 1) into an absolute one: the `(n + 1) u`
    absolute term of the log-sum-exp bound (Blanchard, Higham & Higham 2021, section 3)."""
    gap, s = _shifted(x, axis)
    return gap + 1 + (np.nan_to_num(s) * gap).sum(axis=axis, keepdims=True)


def sigmoid_grad_scale(x) -> np.ndarray:
    """The terms of `s - s^2`, the derivative every framework forms from the rounded `s`."""
    s = ref.sigmoid(x)
    return s + s * s


def tanh_grad_scale(x) -> np.ndarray:
    """The terms of `1 - t^2`."""
    t = ref.tanh(x)
    return 1 + t * t


def roundtrip_output_padding(x_shape, w_shape, params) -> tuple[int, ...]:
    """The output padding with which the transposed conv maps a conv's output back to `x_shape`."""
    return tuple(conv_transpose_roundtrip_padding(i, k, stride=s, pads=p, dilation=d)
                 for i, k, s, p, d in zip(x_shape[2:], w_shape[2:], params["strides"],
                                          params["pads"], params["dilations"]))


def elu_scale(x, alpha) -> np.ndarray:
    """The terms of ELU's formula: `|x|` above 0, `alpha * (e^x + 1)` below (`alpha * (e^x - 1)`
    evaluated as written subtracts two terms of that size)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        return np.where(x > 0, np.abs(x), alpha * (np.exp(np.minimum(x, 0)) + 1))
