"""float64 reference softmax, log-softmax and activations, in their stable forms, with VJPs.

Stable forms (Blanchard, Higham & Higham 2021, doi:10.1093/imanum/draa038): softmax subtracts the row maximum
(`softmax(x) = exp(x - M) / sum(exp(x - M))`); log-softmax is `x - M - log(sum(exp(x - M)))`,
never `log(softmax(x))`; sigmoid is `1/(1+e^-x)` for x >= 0 and `e^x/(1+e^x)` for x < 0.
Conventions of the reference, where rules allow several: a row of all `-inf` gives NaN from
softmax (0/0, as PyTorch); derivatives at kinks are the one-sided ones PyTorch's autograd
uses (ReLU'(0) = 0, LeakyReLU'(0) = alpha, ReLU6'(0) = ReLU6'(6) = 0, ELU'(0) = alpha).
"""

from __future__ import annotations

import operator

import numpy as np

from .windows import as_float64


def _axis(x: np.ndarray, axis) -> int:
    try:
        index = operator.index(axis)
    except TypeError:
        index = None
    if index is None or isinstance(axis, bool) or not -x.ndim <= index < x.ndim:
        raise ValueError(
            f"axis={axis!r}: must be an int in [-{x.ndim}, {x.ndim - 1}] for x.shape={x.shape}")
    return index % x.ndim


def _shifted(x, axis):
    top = x.max(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", over="ignore"):
        return x - top  # NaN where the whole row is -inf (or +inf); -inf far below the top


def softmax(x, *, axis):
    """`exp(x - M) / sum(exp(x - M))` along `axis`, `M` the maximum [softmax.overflow, softmax.simplex]."""
    x = as_float64("x", x)
    axis = _axis(x, axis)
    e = np.exp(_shifted(x, axis))
    with np.errstate(invalid="ignore"):
        return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x, *, axis):
    """`x - M - log(sum(exp(x - M)))` along `axis` [log_softmax.stability]."""
    x = as_float64("x", x)
    axis = _axis(x, axis)
    shifted = _shifted(x, axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def sigmoid(x):
    """`1/(1+e^-x)` for x >= 0, `e^x/(1+e^x)` for x < 0: finite for every x [sigmoid.stability]."""
    x = as_float64("x", x)
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def tanh(x):
    """`tanh(x) = 2*sigmoid(2x) - 1`, odd, in [-1, 1] [activation.tanh]."""
    return np.tanh(as_float64("x", x))


def relu(x):
    """`max(0, x)`; NaN stays NaN [activation.relu]."""
    return np.maximum(as_float64("x", x), 0.0)


def leaky_relu(x, *, alpha):
    """`x` for x >= 0, `alpha * x` below [activation.leaky_relu]; as IEEE products, so
    leaky_relu(-inf, alpha=0) is NaN (0 * -inf), as in torch's `x * negative_slope`."""
    x = as_float64("x", x)
    with np.errstate(invalid="ignore", over="ignore"):  # alpha > 1 may pass float64's max
        return np.where(x >= 0, x, float(alpha) * x)


def relu6(x):
    """`min(max(0, x), 6)`; NaN stays NaN [activation.relu6]."""
    return np.clip(as_float64("x", x), 0.0, 6.0)


def elu(x, *, alpha):
    """`x` for x > 0, `alpha * (e^x - 1)` below, saturating at `-alpha` [activation.elu]."""
    x = as_float64("x", x)
    return np.where(x > 0, x, float(alpha) * np.expm1(np.minimum(x, 0.0)))


def softmax_vjp(x, cotangent, *, axis):
    """`s * (dy - sum(dy * s))` along `axis` [grad.softmax]."""
    x, dy = as_float64("x", x), as_float64("cotangent", cotangent)
    s = softmax(x, axis=axis)
    return s * (dy - (dy * s).sum(axis=_axis(x, axis), keepdims=True))


def log_softmax_vjp(x, cotangent, *, axis):
    """`dy - softmax(x) * sum(dy)` along `axis`."""
    x, dy = as_float64("x", x), as_float64("cotangent", cotangent)
    return dy - softmax(x, axis=axis) * dy.sum(axis=_axis(x, axis), keepdims=True)


def sigmoid_vjp(x, cotangent):
    """`dy * s * (1 - s)`, at most `dy / 4`, the maximum at 0 [grad.sigmoid.bounded]."""
    s = sigmoid(x)
    return as_float64("cotangent", cotangent) * s * (1.0 - s)


def tanh_vjp(x, cotangent):
    """`dy * (1 - tanh(x)^2)`."""
    t = tanh(x)
    return as_float64("cotangent", cotangent) * (1.0 - t * t)


def relu_vjp(x, cotangent):
    """`dy` where x > 0, else 0 (0 at exactly 0) [grad.relu.at_zero]."""
    return as_float64("cotangent", cotangent) * (as_float64("x", x) > 0)


def leaky_relu_vjp(x, cotangent, *, alpha):
    """`dy` where x > 0, `alpha * dy` at and below 0 [grad.kinks]."""
    return as_float64("cotangent", cotangent) * np.where(as_float64("x", x) > 0, 1.0,
                                                         float(alpha))


def relu6_vjp(x, cotangent):
    """`dy` where 0 < x < 6, else 0 [grad.kinks]."""
    x = as_float64("x", x)
    return as_float64("cotangent", cotangent) * ((x > 0) & (x < 6))


def elu_vjp(x, cotangent, *, alpha):
    """`dy` where x > 0, `dy * alpha * e^x` at and below 0 [grad.kinks]."""
    x = as_float64("x", x)
    slope = np.where(x > 0, 1.0, float(alpha) * np.exp(np.minimum(x, 0.0)))
    return as_float64("cotangent", cotangent) * slope
