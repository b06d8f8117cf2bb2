"""Mutant adapters: the NumPy control with one planted bug each, and the rule that must catch it.

`MUTANTS` maps each class name to the rule id whose failure names the bug. They are loaded by
`cnnspec run --adapter tests/mutants.py:ClassName`, as a third party's adapter would be.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np

from cnnspec.adapters.numpy_adapter import NumpyAdapter
from cnnspec.spec import (adaptive_bins, pool_output_size, resolve_conv_transpose_pads,
                          resolve_pads, same_pads)
from cnnspec.spec import reference as ref


def _in_float32(x):
    """16-bit floats computed in float32, the rest in their own dtype, as a naive kernel would."""
    x = np.asarray(x)
    return x.astype(np.float32) if x.dtype.itemsize < 4 else x


class Mutant(NumpyAdapter):
    name = "mutant"


class NoPoolPaddingModes(Mutant):
    """A mutant whose max pooling takes explicit pads only, and says so."""

    def supports(self, op, **params):
        if op == "max_pool" and isinstance(params.get("pads"), str):
            return "max pooling takes explicit pads only"
        return super().supports(op, **params)


class NoKernelFlip(Mutant):
    """Transposed conv as zero insertion + padding + conv, forgetting to flip the kernel."""

    def conv_transpose(self, x, w, b=None, *, strides, pads, dilations, groups, output_padding):
        k = np.asarray(w).shape[2:]
        pads, output_padding = resolve_conv_transpose_pads(  # a mode string as (begin, end)
            pads, np.shape(x)[2:], k, strides=strides, dilations=dilations,
            output_padding=output_padding)
        padded = ref.pad(ref.zero_insert(np.asarray(x, np.float64), strides), tuple(
            (d * (kk - 1) - pb, d * (kk - 1) - pe + a)
            for kk, d, (pb, pe), a in zip(k, dilations, pads, output_padding)))
        c_in, group_out = np.asarray(w).shape[:2]
        swapped = (np.asarray(w, np.float64).reshape((groups, c_in // groups, group_out) + k)
                   .swapaxes(1, 2).reshape((groups * group_out, c_in // groups) + k))
        y = ref.conv(padded, swapped, b, strides=(1,) * len(k), pads="VALID",
                     dilations=dilations, groups=groups)
        return y.astype(np.asarray(x).dtype)


class FlippedKernelConv(Mutant):
    """Conv as true convolution: the kernel flipped."""

    def conv(self, x, w, b=None, *, strides, pads, dilations, groups):
        return super().conv(x, ref.flip(w).astype(np.asarray(w).dtype), b, strides=strides,
                            pads=pads, dilations=dilations, groups=groups)


class CeilKeepsWindowInEndPadding(Mutant):
    """Ceil mode without the last-window rule: a window starting in the end padding is kept."""

    def max_pool(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        if ceil_mode:
            pads = tuple((pb, pe + s - 1) for (pb, pe), s in zip(pads, strides))
        return super().max_pool(x, kernel_shape=kernel_shape, strides=strides, pads=pads,
                                dilations=dilations, ceil_mode=False)


class CountIncludePadInverted(Mutant):
    """Average pooling reads count_include_pad the wrong way round."""

    def avg_pool(self, x, *, kernel_shape, strides, pads, ceil_mode, count_include_pad):
        return super().avg_pool(x, kernel_shape=kernel_shape, strides=strides, pads=pads,
                                ceil_mode=ceil_mode, count_include_pad=not count_include_pad)


class NaiveSoftmax(Mutant):
    """exp(x) / sum(exp(x)) without subtracting the maximum."""

    def softmax(self, x, *, axis):
        with np.errstate(all="ignore"):
            e = np.exp(_in_float32(x))
            return (e / e.sum(axis=axis, keepdims=True)).astype(np.asarray(x).dtype)


class LogOfSoftmax(Mutant):
    """log_softmax as log(softmax(x)), which underflows to -inf."""

    def log_softmax(self, x, *, axis):
        with np.errstate(all="ignore"):
            s = _in_float32(self.softmax(x, axis=axis))
            return np.log(s).astype(np.asarray(x).dtype)


class UnstableSigmoid(Mutant):
    """sigmoid as e^x / (1 + e^x) everywhere: inf / inf = NaN for large x."""

    def sigmoid(self, x):
        with np.errstate(all="ignore"):
            e = np.exp(_in_float32(x))
            return (e / (1 + e)).astype(np.asarray(x).dtype)


def _max_pool_vjp_with(tie_rule, x, dy, kernel_shape, strides, pads, dilations, ceil_mode):
    """Max-pool VJP routing through windows one by one, with `tie_rule(is_max) -> weights`."""
    x = np.asarray(x, np.float64)
    dy = np.asarray(dy, np.float64)
    pads = resolve_pads(pads, x.shape[2:], kernel_shape, strides=strides, dilations=dilations)
    dx = np.zeros_like(x)
    out = dy.shape[2:]
    for n, c in np.ndindex(x.shape[:2]):
        for t in np.ndindex(*out):
            taps = [tuple(ti * s + m * d - pb for ti, m, s, d, (pb, _) in
                          zip(t, tap, strides, dilations, pads))
                    for tap in np.ndindex(*kernel_shape)]
            taps = [p for p in taps if all(0 <= q < n_ for q, n_ in zip(p, x.shape[2:]))]
            window = np.array([x[(n, c) + p] for p in taps])
            weights = tie_rule(window == window.max())
            for p, weight in zip(taps, weights):
                dx[(n, c) + p] += weight * dy[(n, c) + t]
    return dx


class TiedGradientSplit(Mutant):
    """Max-pool gradient split evenly among tied maxima, as a max reduction's gradient does."""

    def vjp(self, op, args, cotangent, **params):
        if op != "max_pool":
            return super().vjp(op, args, cotangent, **params)
        split = _max_pool_vjp_with(lambda is_max: is_max / is_max.sum(), args[0], cotangent,
                                   **params)
        return (split.astype(np.asarray(args[0]).dtype),)


class TiedGradientToLast(Mutant):
    """Max-pool gradient to the last tied maximum instead of the first."""

    def vjp(self, op, args, cotangent, **params):
        if op != "max_pool":
            return super().vjp(op, args, cotangent, **params)

        def last(is_max):
            weights = np.zeros(is_max.shape)
            weights[np.flatnonzero(is_max)[-1]] = 1
            return weights

        return (_max_pool_vjp_with(last, args[0], cotangent, **params)
                .astype(np.asarray(args[0]).dtype),)


class OverlapOverwritten(Mutant):
    """Max-pool gradient written with `=` instead of `+=`: overlapping windows overwrite."""

    def vjp(self, op, args, cotangent, **params):
        if op != "max_pool":
            return super().vjp(op, args, cotangent, **params)
        x = np.asarray(args[0])
        index = ref.max_pool_argmax(x, **params)
        dx = np.zeros((x.shape[0] * x.shape[1], int(np.prod(x.shape[2:]))))
        flat_index = index.reshape(dx.shape[0], -1)
        flat_dy = np.asarray(cotangent, np.float64).reshape(dx.shape[0], -1)
        for plane in range(dx.shape[0]):
            keep = flat_index[plane] >= 0
            dx[plane, flat_index[plane][keep]] = flat_dy[plane][keep]
        return (dx.reshape(x.shape).astype(x.dtype),)


class SameLowerForUpper(Mutant):
    """SAME_UPPER padding with the odd pixel put at the begin (SAME_LOWER)."""

    def conv(self, x, w, b=None, *, strides, pads, dilations, groups):
        if pads == "SAME_UPPER":
            pads = tuple(same_pads(i, k, stride=s, dilation=d, mode="SAME_LOWER")
                         for i, k, s, d in zip(np.shape(x)[2:], np.shape(w)[2:], strides,
                                               dilations))
        return super().conv(x, w, b, strides=strides, pads=pads, dilations=dilations,
                            groups=groups)


class PoolDilationIgnored(NoPoolPaddingModes):
    """Max pooling that ignores its dilations (but reports the dilated output size)."""

    def max_pool(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        out = tuple(pool_output_size(i, k, stride=s, pads=p, dilation=d, ceil_mode=ceil_mode)
                    for i, k, s, p, d in zip(np.shape(x)[2:], kernel_shape, strides, pads,
                                             dilations))
        wide = tuple((pb, pe + (d - 1) * (k - 1)) for (pb, pe), d, k in
                     zip(pads, dilations, kernel_shape))
        y = super().max_pool(x, kernel_shape=kernel_shape, strides=strides, pads=wide,
                             dilations=(1,) * len(kernel_shape), ceil_mode=ceil_mode)
        return y[(Ellipsis,) + tuple(slice(0, o) for o in out)]


class GroupsInterleaved(Mutant):
    """Grouped conv that deals input channels to groups round-robin (c -> c % g)."""

    def conv(self, x, w, b=None, *, strides, pads, dilations, groups):
        x = np.asarray(x)
        order = np.argsort(np.arange(x.shape[1]) % groups, kind="stable")
        return super().conv(x[:, order], w, b, strides=strides, pads=pads, dilations=dilations,
                            groups=groups)


class OutputPaddingIgnored(Mutant):
    """Transposed conv that drops output_padding."""

    def conv_transpose(self, x, w, b=None, *, strides, pads, dilations, groups, output_padding):
        return super().conv_transpose(x, w, b, strides=strides, pads=pads, dilations=dilations,
                                      groups=groups, output_padding=(0,) * len(strides))


class MaxPoolPadsWithZero(NoPoolPaddingModes):
    """Max pooling that pads with 0 instead of -inf."""

    def max_pool(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        padded = ref.pad(np.asarray(x), pads, 0.0).astype(np.asarray(x).dtype)
        return super().max_pool(padded, kernel_shape=kernel_shape, strides=strides,
                                pads=((0, 0),) * len(pads), dilations=dilations,
                                ceil_mode=ceil_mode)


class ReluGradientHalfAtZero(Mutant):
    """ReLU'(0) = 0.5, neither one-sided derivative."""

    def vjp(self, op, args, cotangent, **params):
        grads = super().vjp(op, args, cotangent, **params)
        if op == "relu":
            x = np.asarray(args[0])
            grads = (np.where(x == 0, 0.5 * np.asarray(cotangent), grads[0]).astype(x.dtype),)
        return grads


class IgnoresMemoryLayout(Mutant):
    """Reads the input buffer in memory order, as a C kernel handed `x.data` would."""

    def conv(self, x, w, b=None, *, strides, pads, dilations, groups):
        x = np.asarray(x)
        as_stored = x.ravel(order="K").reshape(x.shape)
        return super().conv(as_stored, w, b, strides=strides, pads=pads, dilations=dilations,
                            groups=groups)


class AcceptsChannelMismatch(Mutant):
    """Conv that recycles input channels when the weight expects another count."""

    def conv(self, x, w, b=None, *, strides, pads, dilations, groups):
        x = np.asarray(x)
        need = np.shape(w)[1] * groups
        if x.shape[1] != need:
            x = np.resize(x, (x.shape[0], need) + x.shape[2:])
        return super().conv(x, w, b, strides=strides, pads=pads, dilations=dilations,
                            groups=groups)


class SoftmaxGradientWithoutTheSum(Mutant):
    """Softmax VJP as s * dy, forgetting the - sum(dy * s) term."""

    def vjp(self, op, args, cotangent, **params):
        if op != "softmax":
            return super().vjp(op, args, cotangent, **params)
        s = ref.softmax(args[0], **params)
        return ((s * np.asarray(cotangent, np.float64)).astype(np.asarray(args[0]).dtype),)


class AdaptiveBinsFloorBothEnds(Mutant):
    """Adaptive average pooling with bins [floor(j*I/O), floor((j+1)*I/O)): some bins empty."""

    def adaptive_avg_pool(self, x, *, output_size):
        x = np.asarray(x)
        y = np.asarray(x, np.float64)
        for axis, (i, o) in enumerate(zip(x.shape[2:], output_size), start=2):
            averaging = np.zeros((o, i))
            for j in range(o):
                start, end = (j * i) // o, ((j + 1) * i) // o
                averaging[j, start:max(end, start + 1)] = 1.0 / max(end - start, 1)
            y = np.moveaxis(np.tensordot(y, averaging, axes=([axis], [1])), -1, axis)
        return y.astype(x.dtype)


class LeakyReluIgnoresAlpha(Mutant):
    """leaky_relu with the common default slope 0.01 whatever alpha says."""

    def leaky_relu(self, x, *, alpha):
        return super().leaky_relu(x, alpha=0.01)


class EluIgnoresAlpha(Mutant):
    """ELU with alpha fixed at 1, as tf.nn.elu, without saying so in `supports`."""

    def elu(self, x, *, alpha):
        return super().elu(x, alpha=1.0)


class LeakyReluAlphaInFloat16(Mutant):
    """leaky_relu that rounds alpha to float16 first, whatever the input's dtype."""

    def leaky_relu(self, x, *, alpha):
        return super().leaky_relu(x, alpha=float(np.float16(alpha)))


class SoftmaxOnLastAxis(Mutant):
    """softmax along the last axis whatever `axis` says."""

    def softmax(self, x, *, axis):
        return super().softmax(x, axis=-1)


class LogSoftmaxReadsOnlyNegativeAxes(Mutant):
    """log_softmax that takes a non-negative axis as counted from the end."""

    def log_softmax(self, x, *, axis):
        return super().log_softmax(x, axis=axis if axis < 0 else -1 - axis)


class SoftmaxGradientOnLastAxis(Mutant):
    """The softmax VJP along the last axis whatever `axis` says."""

    def vjp(self, op, args, cotangent, **params):
        if op == "softmax":
            params = {**params, "axis": -1}
        return super().vjp(op, args, cotangent, **params)


class EluGradientIgnoresAlpha(Mutant):
    """ELU's derivative below 0 as e^x, forgetting alpha."""

    def vjp(self, op, args, cotangent, **params):
        if op == "elu":
            params = {**params, "alpha": 1.0}
        return super().vjp(op, args, cotangent, **params)


class PoolSameLowerAsUpper(Mutant):
    """Max pooling that pads SAME_LOWER as SAME_UPPER (the odd pixel at the end)."""

    def max_pool(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        pads = "SAME_UPPER" if pads == "SAME_LOWER" else pads
        return super().max_pool(x, kernel_shape=kernel_shape, strides=strides, pads=pads,
                                dilations=dilations, ceil_mode=ceil_mode)


class ConvTransposeSameIsValid(Mutant):
    """A transposed conv that treats its SAME modes as no padding."""

    def conv_transpose(self, x, w, b=None, *, strides, pads, dilations, groups, output_padding):
        pads = "VALID" if pads in ("SAME_UPPER", "SAME_LOWER") else pads
        return super().conv_transpose(x, w, b, strides=strides, pads=pads, dilations=dilations,
                                      groups=groups, output_padding=output_padding)


class MaxPoolFromLowestFinite(Mutant):
    """Max pooling that starts each window at the dtype's lowest finite number, not -inf."""

    def max_pool(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        out = super().max_pool(x, kernel_shape=kernel_shape, strides=strides, pads=pads,
                               dilations=dilations, ceil_mode=ceil_mode)
        return np.maximum(out, ml_dtypes.finfo(out.dtype).min).astype(out.dtype)


class ConvTransposeInputGradientFlipped(Mutant):
    """A transposed conv's input gradient as a true convolution of dy (the kernel flipped)."""

    def vjp(self, op, args, cotangent, **params):
        if op != "conv_transpose":
            return super().vjp(op, args, cotangent, **params)
        x, w, *rest = args
        flipped = ref.flip(np.asarray(w)).astype(np.asarray(w).dtype)
        dx = super().vjp(op, (x, flipped, *rest), cotangent, **params)[0]
        return (dx,) + super().vjp(op, args, cotangent, **params)[1:]


class TanhGradientFromInput(Mutant):
    """tanh'(x) as 1 - x^2, the output's formula applied to the input."""

    def vjp(self, op, args, cotangent, **params):
        if op != "tanh":
            return super().vjp(op, args, cotangent, **params)
        x = np.asarray(args[0])
        with np.errstate(all="ignore"):
            dx = np.asarray(cotangent, np.float64) * (1 - x.astype(np.float64) ** 2)
            return (dx.astype(x.dtype),)


class LogSoftmaxGradientWithMean(Mutant):
    """log_softmax's VJP as dy - mean(dy): the uniform distribution in place of softmax(x)."""

    def vjp(self, op, args, cotangent, **params):
        if op != "log_softmax":
            return super().vjp(op, args, cotangent, **params)
        dy = np.asarray(cotangent, np.float64)
        dx = dy - dy.mean(axis=params["axis"], keepdims=True)
        return (dx.astype(np.asarray(args[0]).dtype),)


class AdaptiveAvgGradientOneBinEach(Mutant):
    """Adaptive average pooling's VJP that gives each element the share of its first bin only,
    as if the bins did not overlap."""

    def vjp(self, op, args, cotangent, **params):
        if op != "adaptive_avg_pool":
            return super().vjp(op, args, cotangent, **params)
        x = np.asarray(args[0])
        dx = np.asarray(cotangent, np.float64)
        for axis, (i, o) in enumerate(zip(x.shape[2:], params["output_size"]), start=2):
            first = np.zeros((o, i))
            for j, (start, end) in enumerate(adaptive_bins(i, o)):
                first[j, start:end] = 1.0 / (end - start)
            claimed = np.zeros(i, bool)
            for j, (start, end) in enumerate(adaptive_bins(i, o)):
                first[j, start:end] *= ~claimed[start:end]
                claimed[start:end] = True
            dx = np.moveaxis(np.tensordot(dx, first, axes=([axis], [0])), -1, axis)
        return (dx.astype(x.dtype),)


class UpsampleGradientTakesFirstCopy(Mutant):
    """Nearest upsampling's VJP that reads the first copy of each element instead of summing."""

    def vjp(self, op, args, cotangent, **params):
        if op != "upsample_nearest":
            return super().vjp(op, args, cotangent, **params)
        dy = np.asarray(cotangent)
        first = dy[(Ellipsis, *(slice(None, None, r) for r in params["scale_factors"]))]
        return (first.astype(np.asarray(args[0]).dtype),)


class PixelShuffleGradientInDcrOrder(Mutant):
    """Pixel shuffle's VJP unshuffled in DCR order (TensorFlow's space_to_depth), not CRD."""

    def vjp(self, op, args, cotangent, **params):
        if op != "pixel_shuffle":
            return super().vjp(op, args, cotangent, **params)
        r = params["upscale_factor"]
        dy = np.asarray(cotangent)
        n, c, h, w = dy.shape
        dx = dy.reshape(n, c, h // r, r, w // r, r).transpose(0, 3, 5, 1, 2, 4)
        return (dx.reshape(n, c * r * r, h // r, w // r).astype(np.asarray(args[0]).dtype),)


class HalfConvReturnsFloat32(Mutant):
    """A float16 or bfloat16 conv that returns its float32 accumulator without rounding back."""

    def conv(self, x, w, b=None, **params):
        out = super().conv(x, w, b, **params)
        return out.astype(np.float32) if np.asarray(x).dtype.itemsize == 2 else out


class SoftmaxAssumesABatchAxis(Mutant):
    """softmax that reshapes its input to (rows, -1) around the axis, assuming a batch axis
    before it: a rank-1 input becomes one column, every element its own row (all ones)."""

    def softmax(self, x, *, axis):
        x = np.asarray(x)
        if x.ndim == 1:
            return super().softmax(x.reshape(-1, 1), axis=1).reshape(x.shape)
        return super().softmax(x, axis=axis)


class UnpoolReadsOutputSizeReversed(Mutant):
    """max_unpool that reads `output_size` as (W, H) where the protocol gives (H, W)."""

    def max_unpool(self, x, indices, *, kernel_shape, strides, pads, output_size=None):
        reversed_size = None if output_size is None else tuple(output_size)[::-1]
        return super().max_unpool(x, indices, kernel_shape=kernel_shape, strides=strides,
                                  pads=pads, output_size=reversed_size)


class AvgPoolGradientIgnoresDepth(Mutant):
    """avg_pool's VJP on 3 spatial axes dividing by the 2-d window (height x width) only, as a
    kernel written for images and extended to volumes might."""

    def vjp(self, op, args, cotangent, **params):
        grads = super().vjp(op, args, cotangent, **params)
        if op != "avg_pool" or np.ndim(args[0]) != 5:
            return grads
        depth = params["kernel_shape"][0]
        return ((grads[0].astype(np.float64) * depth).astype(grads[0].dtype),)


class LogSoftmaxClampsMinusInfinity(Mutant):
    """log_softmax that replaces -inf logits by the dtype's lowest finite number first (a
    guard against NaN that turns log 0 into a large finite number)."""

    def log_softmax(self, x, *, axis):
        x = np.asarray(x)
        lowest = ml_dtypes.finfo(x.dtype).min
        return super().log_softmax(np.where(np.isneginf(x), lowest, x).astype(x.dtype), axis=axis)


class Bfloat16ConvThroughFloat16(Mutant):
    """A bfloat16 conv computed in float16 (a half-precision kernel reused for bfloat16):
    exact for small values, inf past 65504."""

    def conv(self, x, w, b=None, **params):
        x = np.asarray(x)
        if x.dtype.name != "bfloat16":
            return super().conv(x, w, b, **params)
        with np.errstate(over="ignore"):
            half = [None if a is None else np.asarray(a).astype(np.float16) for a in (x, w, b)]
            return super().conv(*half, **params).astype(x.dtype)


class ReluThroughFmax(Mutant):
    """ReLU as C's `fmax(x, 0)`, which returns the other operand for a NaN: a diverged value
    comes out as 0."""

    def relu(self, x):
        x = np.asarray(x)
        return np.fmax(x, np.zeros((), x.dtype))


class GlobalAvgPoolSumsInFloat16(Mutant):
    """float16 global average pooling that sums the plane in float16 before dividing: inf on a
    large plane of large values, where the mean itself is representable."""

    def global_avg_pool(self, x):
        x = np.asarray(x)
        if x.dtype != np.float16:
            return super().global_avg_pool(x)
        axes = tuple(range(2, x.ndim))
        with np.errstate(over="ignore"):
            total = np.add.reduce(x, axis=axes, keepdims=True, dtype=np.float16)
            return (total / np.float16(np.prod(x.shape[2:]))).astype(np.float16)


class ConvTransposeBiasByGroup(Mutant):
    """Grouped transposed conv that adds `b[c // (C_out / groups)]`, the bias of the output
    channel's group, to output channel c instead of `b[c]`."""

    def conv_transpose(self, x, w, b=None, *, groups, **params):
        if b is None:
            return super().conv_transpose(x, w, None, groups=groups, **params)
        b = np.asarray(b)
        per_group = b.shape[0] // groups
        by_group = b[np.arange(b.shape[0]) // per_group]
        return super().conv_transpose(x, w, by_group, groups=groups, **params)


class SigmoidFlushesTheFloat64Tail(Mutant):
    """float64 sigmoid that returns exactly 0 below x = -40 (a cut-off fitted to float32's tail,
    reused for float64): the true value there is about 4e-18 and smaller, still normal."""

    def sigmoid(self, x):
        x = np.asarray(x)
        out = super().sigmoid(x)
        return np.where(x < -40, np.zeros((), x.dtype), out) if x.dtype == np.float64 else out


def _drop_windows_starting_in_the_begin_padding(y, x_shape, kernel_shape, strides, pads):
    """`y` without the last window of each axis where ceil mode made 2 or more windows and the
    last one starts inside the begin padding: its start, `(o-1)*s - pb`, computed in unsigned
    arithmetic, wraps past the input size, as a C kernel with `size_t` sizes computes it."""
    keep = []
    for o, s, (pb, _), i in zip(y.shape[2:], strides, pads, x_shape[2:]):
        start = ((o - 1) * s - pb) % 2**64
        keep.append(slice(0, o - 1) if o >= 2 and start >= i else slice(None))
    return y[(Ellipsis,) + tuple(keep)]


class CeilDropsWindowStartingInBeginPadding(Mutant):
    """Ceil-mode pooling whose last-window test, `start >= i` on the window's start in input
    coordinates, is done on unsigned integers: a last window that starts in the begin padding
    (a negative start) wraps to a huge one and is dropped."""

    def max_pool(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        y = super().max_pool(x, kernel_shape=kernel_shape, strides=strides, pads=pads,
                             dilations=dilations, ceil_mode=ceil_mode)
        if not ceil_mode or isinstance(pads, str):
            return y
        return _drop_windows_starting_in_the_begin_padding(y, np.shape(x), kernel_shape, strides,
                                                           pads)

    def avg_pool(self, x, *, kernel_shape, strides, pads, ceil_mode, count_include_pad):
        y = super().avg_pool(x, kernel_shape=kernel_shape, strides=strides, pads=pads,
                             ceil_mode=ceil_mode, count_include_pad=count_include_pad)
        if not ceil_mode or isinstance(pads, str):
            return y
        return _drop_windows_starting_in_the_begin_padding(y, np.shape(x), kernel_shape, strides,
                                                           pads)


class UnpoolDefaultSizeIgnoresPads(Mutant):
    """max_unpool whose default output size is `(i-1)*s + k`, forgetting `- pb - pe`."""

    def max_unpool(self, x, indices, *, kernel_shape, strides, pads, output_size=None):
        if output_size is None and not isinstance(pads, str):
            output_size = tuple((i - 1) * s + k for i, s, k in
                                zip(np.shape(x)[2:], strides, kernel_shape))
        return super().max_unpool(x, indices, kernel_shape=kernel_shape, strides=strides,
                                  pads=pads, output_size=output_size)


MUTANTS = {
    "NoKernelFlip": "conv_transpose.zero_insert_flip",
    "FlippedKernelConv": "conv.cross_correlation",
    "CeilKeepsWindowInEndPadding": "pool.output_size.ceil",
    "CountIncludePadInverted": "pool.avg_count_include_pad",
    "NaiveSoftmax": "softmax.overflow",
    "LogOfSoftmax": "log_softmax.stability",
    "UnstableSigmoid": "sigmoid.stability",
    "TiedGradientSplit": "grad.max_pool.ties",
    "TiedGradientToLast": "grad.max_pool.ties",
    "OverlapOverwritten": "grad.max_pool.overlap_accumulates",
    "SameLowerForUpper": "conv.same_padding",
    "PoolDilationIgnored": "pool.max_matches_reference",
    "GroupsInterleaved": "conv.grouped_is_split_concat",
    "OutputPaddingIgnored": "conv_transpose.output_size",
    "MaxPoolPadsWithZero": "pool.max_padding_never_wins",
    "ReluGradientHalfAtZero": "grad.relu.at_zero",
    "IgnoresMemoryLayout": "layout.nchw_offsets",
    "AcceptsChannelMismatch": "invalid.rejected",
    "SoftmaxGradientWithoutTheSum": "grad.softmax",
    "AdaptiveBinsFloorBothEnds": "pool.adaptive_bins",
    "LeakyReluIgnoresAlpha": "activation.leaky_relu",
    "EluIgnoresAlpha": "activation.elu",
    "LeakyReluAlphaInFloat16": "activation.leaky_relu",
    "SoftmaxOnLastAxis": "softmax.simplex",
    "LogSoftmaxReadsOnlyNegativeAxes": "log_softmax.stability",
    "SoftmaxGradientOnLastAxis": "grad.softmax",
    "EluGradientIgnoresAlpha": "grad.kinks",
    "PoolSameLowerAsUpper": "pool.max_matches_reference",
    "ConvTransposeSameIsValid": "conv_transpose.output_size",
    "MaxPoolFromLowestFinite": "pool.max_matches_reference",
    "ConvTransposeInputGradientFlipped": "grad.conv_transpose.input",
    "TanhGradientFromInput": "grad.tanh",
    "LogSoftmaxGradientWithMean": "grad.log_softmax",
    "AdaptiveAvgGradientOneBinEach": "grad.adaptive_pool",
    "UpsampleGradientTakesFirstCopy": "grad.upsample.nearest",
    "PixelShuffleGradientInDcrOrder": "grad.pixel_shuffle",
    "HalfConvReturnsFloat32": "dtype.preserved",
    "SoftmaxAssumesABatchAxis": "softmax.simplex",
    "UnpoolReadsOutputSizeReversed": "pool.max_unpool",
    "AvgPoolGradientIgnoresDepth": "grad.avg_pool.uniform",
    "LogSoftmaxClampsMinusInfinity": "log_softmax.stability",
    "Bfloat16ConvThroughFloat16": "conv.matches_reference",
    "ReluThroughFmax": "activation.relu",
    "GlobalAvgPoolSumsInFloat16": "pool.global_average",
    "ConvTransposeBiasByGroup": "conv_transpose.zero_insert_flip",
    "SigmoidFlushesTheFloat64Tail": "sigmoid.stability",
    "CeilDropsWindowStartingInBeginPadding": "pool.output_size.ceil",
    "UnpoolDefaultSizeIgnoresPads": "pool.max_unpool",
}
