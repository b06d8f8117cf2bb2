"""Recipes for JAX: PyTorch / ONNX behaviours that `jax.lax` lacks or does otherwise, in `lax` and
`jax.numpy`, channels first as PyTorch (x is `(N, C, *spatial)`, conv kernels
`(C_out, C_in / groups, *k)`, transposed-conv kernels `(C_in, C_out / groups, *k)`).

Self-contained: this file imports JAX and the standard library only, so a function can be
pasted into a model. `pads` is a list of `(begin, end)` pairs, one per spatial axis, or "VALID",
"SAME_UPPER" (the odd pixel at the end) or "SAME_LOWER". Each docstring names what it
reproduces and the cnnspec rule ids that check it (`cnnspec run --adapter jax+recipes`).
"""

from __future__ import annotations

import itertools
import math

import jax.numpy as jnp
from jax import lax


def same_pads(size, kernel, stride, dilation=1, lower=False):
    """SAME padding of one axis: P = max((ceil(i/s) - 1)*s + d*(k-1) + 1 - i, 0), split
    (P // 2, P - P // 2) (SAME_UPPER), or the other way round with `lower` (SAME_LOWER).
    [conv.same_padding]"""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    small, large = total // 2, total - total // 2
    return (large, small) if lower else (small, large)


def explicit_pads(pads, sizes, kernel, strides, dilations):
    """`pads` as (begin, end) pairs ("VALID": zeros; SAME modes: `same_pads`). [conv.same_padding]"""
    if pads == "VALID":
        return [(0, 0)] * len(sizes)
    if isinstance(pads, str):
        return [same_pads(i, k, s, d, lower=pads == "SAME_LOWER")
                for i, k, s, d in zip(sizes, kernel, strides, dilations)]
    return [tuple(p) for p in pads]


def ceil_extra(size, kernel, stride, pad, dilation=1):
    """The end padding ceil mode adds on one axis: o = ceil((i + pb + pe - d*(k-1) - 1)/s) + 1,
    less the last window if it starts at or past i + pb (torch's and ONNX's rule). [pool.output_size.ceil]"""
    begin, end = pad
    span = size + begin + end - dilation * (kernel - 1) - 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + begin:
        out -= 1
    return max((out - 1) * stride + dilation * (kernel - 1) + 1 - (size + begin + end), 0)


def _fitted(x, kernel_shape, strides, pads, dilations, ceil_mode):
    sizes = x.shape[2:]
    pairs = explicit_pads(pads, sizes, kernel_shape, strides, dilations)
    extra = [ceil_extra(i, k, s, p, d) if ceil_mode else 0
             for i, k, s, p, d in zip(sizes, kernel_shape, strides, pairs, dilations)]
    return pairs, extra


def max_pool(x, kernel_shape, strides, pads, dilations=None, ceil_mode=False):
    """`torch.nn.MaxPool{1,2,3}d(kernel, stride, padding, dilation, ceil_mode=True)` in JAX:
    `lax.reduce_window(x, -inf, lax.max)` with the ceil-mode overhang (`ceil_extra`) added to
    the end padding; with a dilation, whose max JAX cannot differentiate, the windows are
    gathered and the first maximum in scan order taken (its gradient goes to that one).
    Rules: pool.output_size.ceil, pool.max_matches_reference, pool.channels_preserved,
    grad.max_pool.routing."""
    dilations = list(dilations or [1] * (x.ndim - 2))
    pairs, extra = _fitted(x, kernel_shape, strides, pads, dilations, ceil_mode)
    if any(d > 1 for d in dilations):  # reduce_window's max has no VJP with window dilation
        values, _ = _argmax_windows(x, kernel_shape, strides, pads, dilations, ceil_mode)
        return jnp.take_along_axis(values, jnp.argmax(values, axis=2, keepdims=True),
                                   axis=2)[:, :, 0]
    return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, *kernel_shape), (1, 1, *strides),
                             ((0, 0), (0, 0), *[(b, e + a) for (b, e), a in zip(pairs, extra)]),
                             window_dilation=(1, 1, *dilations))


def avg_pool(x, kernel_shape, strides, pads, ceil_mode=False, count_include_pad=True):
    """`torch.nn.AvgPool{1,2,3}d(kernel, stride, padding, ceil_mode, count_include_pad)` and ONNX
    AveragePool in JAX, whose flax / stax idiom divides by prod(k) (always counting padding):
    the window sum of `lax.reduce_window(x, 0, lax.add)` over the same sum of a ones tensor
    marking what the divisor counts (the input and, with `count_include_pad`, the explicit
    padding; never the ceil-mode overhang). The sums start from a concrete zero of x's
    dtype (`x.dtype.type(0)`): with a traced one, JAX cannot differentiate the sum. Rules:
    pool.avg_matches_reference, pool.avg_count_include_pad, pool.output_size.ceil, grad.avg_pool.uniform."""
    ones = [1] * (x.ndim - 2)
    pairs, extra = _fitted(x, kernel_shape, strides, pads, ones, ceil_mode)
    window, step = (1, 1, *kernel_shape), (1, 1, *strides)
    fitted = ((0, 0), (0, 0), *[(b, e + a) for (b, e), a in zip(pairs, extra)])
    total = lax.reduce_window(x, x.dtype.type(0), lax.add, window, step, fitted)
    counted = jnp.ones((1, 1, *x.shape[2:]), x.dtype)
    if count_include_pad:
        counted = jnp.pad(counted, ((0, 0), (0, 0), *pairs), constant_values=1)
        counted = jnp.pad(counted, ((0, 0), (0, 0), *[(0, a) for a in extra]))
        count = lax.reduce_window(counted, x.dtype.type(0), lax.add, window, step,
                                  "VALID")
    else:
        count = lax.reduce_window(counted, x.dtype.type(0), lax.add, window, step,
                                  fitted)
    return total / count


def conv_transpose(x, w, b=None, strides=None, pads="VALID", dilations=None, groups=1,
                   output_padding=None):
    """`torch.nn.ConvTranspose{1,2,3}d(stride, padding, output_padding, groups, dilation)` and
    ONNX ConvTranspose (SAME_UPPER / SAME_LOWER: output i*s) in JAX, whose `lax.conv_transpose`
    has no groups and no SAME_LOWER: the gradient of a conv, written as
    `lax.conv_general_dilated` with the input dilated by the stride (`lhs_dilation`), padding
    (d*(k-1) - pb, d*(k-1) - pe + a) and the flipped kernel, its in/out axes swapped per group:
    o = (i-1)*s - pb - pe + d*(k-1) + a + 1. Rules: conv_transpose.output_size,
    conv_transpose.zero_insert_flip,
    conv_transpose.matrix_transpose, conv_transpose.adjoint,
    conv_transpose.is_conv_input_gradient, grad.conv_transpose.input,
    grad.conv_transpose.weight."""
    ndim = x.ndim - 2
    sizes, kernel = x.shape[2:], w.shape[2:]
    strides = list(strides or [1] * ndim)
    dilations = list(dilations or [1] * ndim)
    output_padding = list(output_padding or [0] * ndim)
    if isinstance(pads, str) and pads != "VALID":
        pads = [same_pads(i * s, k, s, d, lower=pads == "SAME_LOWER")
                for i, k, s, d in zip(sizes, kernel, strides, dilations)]
        output_padding = [max(s - d * (k - 1) - 1, 0)
                          for k, s, d in zip(kernel, strides, dilations)]
    pairs = explicit_pads(pads, sizes, kernel, strides, dilations)
    c_in, c_out_g = w.shape[:2]
    # (C_in, C_out/g, *k) -> (g, C_in/g, C_out/g, *k) -> (C_out, C_in/g, *k), flipped
    direct = w.reshape(groups, c_in // groups, c_out_g, *kernel)
    direct = jnp.swapaxes(direct, 1, 2).reshape(groups * c_out_g, c_in // groups, *kernel)
    direct = jnp.flip(direct, axis=tuple(range(2, 2 + ndim)))
    padding = [(d * (k - 1) - pb, d * (k - 1) - pe + a)
               for k, d, (pb, pe), a in zip(kernel, dilations, pairs, output_padding)]
    spatial = "DHW"[-ndim:]
    y = lax.conv_general_dilated(x, direct, (1,) * ndim, padding, lhs_dilation=tuple(strides),
                                 rhs_dilation=tuple(dilations),
                                 dimension_numbers=(f"NC{spatial}", f"OI{spatial}",
                                                    f"NC{spatial}"),
                                 feature_group_count=groups, precision=lax.Precision.HIGHEST)
    return y if b is None else y + b.reshape((1, -1) + (1,) * ndim)


def pixel_shuffle(x, upscale_factor):
    """`torch.nn.PixelShuffle(r)` (CRD) in JAX, which has none:
    y[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j, h, w], a reshape to (N, C, r, r, H, W),
    a transpose to (N, C, H, r, W, r) and a reshape. Rules: upsample.pixel_shuffle,
    grad.pixel_shuffle."""
    n, channels, h, w = x.shape
    r = upscale_factor
    y = x.reshape(n, channels // (r * r), r, r, h, w).transpose(0, 1, 4, 2, 5, 3)
    return y.reshape(n, channels // (r * r), h * r, w * r)


def pixel_unshuffle(y, downscale_factor):
    """`torch.nn.PixelUnshuffle(r)` in JAX: the inverse of `pixel_shuffle`
    [upsample.pixel_shuffle]."""
    n, c, hr, wr = y.shape
    r = downscale_factor
    x = y.reshape(n, c, hr // r, r, wr // r, r).transpose(0, 1, 3, 5, 2, 4)
    return x.reshape(n, c * r * r, hr // r, wr // r)


def depth_to_space(x, block_size):
    """TensorFlow's `tf.nn.depth_to_space` (DCR) on channels-first arrays:
    y[n, c, h*r + i, w*r + j] = x[n, (i*r + j)*C + c, h, w] [upsample.pixel_shuffle]."""
    n, channels, h, w = x.shape
    r = block_size
    y = x.reshape(n, r, r, channels // (r * r), h, w).transpose(0, 3, 4, 1, 5, 2)
    return y.reshape(n, channels // (r * r), h * r, w * r)


def adaptive_bins(size, out):
    """Bin j covers [floor(j*I/O), ceil((j+1)*I/O)) (torch's start_index / end_index)
    [pool.adaptive_bins]."""
    return [((j * size) // out, -(-((j + 1) * size) // out)) for j in range(out)]


def adaptive_avg_pool(x, output_size):
    """`torch.nn.AdaptiveAvgPool{1,2,3}d(output_size)` in JAX: the box mean is separable, each
    spatial axis in turn the `jnp.mean` of its bins. Rules: pool.adaptive_bins,
    grad.adaptive_pool."""
    for axis, out in enumerate(output_size, start=2):
        x = jnp.concatenate([jnp.mean(lax.slice_in_dim(x, a, b, axis=axis), axis=axis,
                                      keepdims=True)
                             for a, b in adaptive_bins(x.shape[axis], out)], axis=axis)
    return x


def adaptive_max_pool(x, output_size):
    """`torch.nn.AdaptiveMaxPool{1,2,3}d(output_size)` in JAX: per output cell, a
    `lax.reduce_window(max)` whose window is the cell's box (its gradient goes to one
    maximum, as torch's). Rules: pool.adaptive_bins, grad.adaptive_pool."""
    bins = [adaptive_bins(i, o) for i, o in zip(x.shape[2:], output_size)]
    cells = []
    for box in itertools.product(*bins):
        part = x[(slice(None), slice(None), *(slice(a, b) for a, b in box))]
        window = (1, 1, *(b - a for a, b in box))
        cells.append(lax.reduce_window(part, -jnp.inf, lax.max, window, window, "VALID"))
    return jnp.stack(cells, axis=2).reshape(*x.shape[:2], *output_size)


def _windows(padded, kernel_shape, strides, dilations, out):
    """(N, C, prod(k), *out): the elements of every window, kernel offsets in scan order."""
    views = []
    for offset in itertools.product(*(range(k) for k in kernel_shape)):
        index = tuple(slice(o * d, o * d + (n - 1) * s + 1, s)
                      for o, d, s, n in zip(offset, dilations, strides, out))
        views.append(padded[(slice(None), slice(None), *index)])
    return jnp.stack(views, axis=2)


def _argmax_windows(x, kernel_shape, strides, pads, dilations, ceil_mode):
    """The windows of the -inf-padded input, (N, C, prod(k), *out), and of its flat indices
    (-1 in the padding)."""
    dilations = list(dilations or [1] * (x.ndim - 2))
    sizes = x.shape[2:]
    pairs, extra = _fitted(x, kernel_shape, strides, pads, dilations, ceil_mode)
    fitted = [(b, e + a) for (b, e), a in zip(pairs, extra)]
    out = [(i + b + e - d * (k - 1) - 1) // s + 1
           for i, (b, e), k, s, d in zip(sizes, fitted, kernel_shape, strides, dilations)]
    padded = jnp.pad(x, ((0, 0), (0, 0), *fitted), constant_values=-jnp.inf)
    flat = jnp.arange(math.prod(sizes)).reshape(1, 1, *sizes)
    index = jnp.pad(flat, ((0, 0), (0, 0), *fitted), constant_values=-1)
    values = _windows(padded, kernel_shape, strides, dilations, out)
    indices = jnp.broadcast_to(_windows(index, kernel_shape, strides, dilations, out),
                               values.shape)
    return values, indices


def max_pool_argmax(x, kernel_shape, strides, pads, dilations=None, ceil_mode=False):
    """`torch.nn.MaxPool{1,2,3}d(..., return_indices=True)`'s indices (flat per (n, c) plane;
    -1 for a window without input) in JAX, which has no argmax pooling: each window's
    elements gathered from the -inf-padded input, `jnp.argmax` (the first maximum in scan
    order) picking the flat index from a padded map of indices. Rules: pool.max_unpool."""
    values, indices = _argmax_windows(x, kernel_shape, strides, pads, dilations, ceil_mode)
    where = jnp.argmax(values, axis=2, keepdims=True)
    return jnp.take_along_axis(indices, where, axis=2)[:, :, 0].astype(jnp.int64)


def max_unpool(x, indices, kernel_shape, strides, pads, output_size=None):
    """`torch.nn.MaxUnpool{1,2,3}d(kernel, stride, padding)(x, indices, output_size)` in JAX:
    zeros of the default size (i-1)*s - pb - pe + k (or `output_size`), each value written at
    its flat per-plane index with `.at[].set`. Rule: pool.max_unpool."""
    sizes = x.shape[2:]
    pairs = explicit_pads(pads, sizes, kernel_shape, strides, [1] * len(sizes))
    if output_size is None:
        output_size = [(i - 1) * s - b - e + k
                       for i, s, (b, e), k in zip(sizes, strides, pairs, kernel_shape)]
    n, c = x.shape[:2]
    plane = jnp.zeros((n, c, math.prod(output_size)), x.dtype)
    rows = jnp.arange(n)[:, None, None]
    channels = jnp.arange(c)[None, :, None]
    y = plane.at[rows, channels, indices.reshape(n, c, -1)].set(x.reshape(n, c, -1))
    return y.reshape(n, c, *output_size)
