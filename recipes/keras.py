"""Recipes for Keras 3: PyTorch / ONNX behaviours that `keras.ops` lacks or does otherwise, in
`keras.ops` only (so on any backend) and Keras's channels-last layout (x is `(N, *spatial, C)`,
conv kernels `(*k, C_in / groups, C_out)`, transposed-conv kernels `(*k, C_out / groups, C_in)`).

Self-contained: this file imports Keras and the standard library only, so a function can be
pasted into a model or a layer's `call`. `pads` is a list of `(begin, end)` pairs, one per
spatial axis, or "VALID", "SAME_UPPER" (Keras's 'same': the odd pixel at the end) or
"SAME_LOWER". Each docstring names what it reproduces and the cnnspec rule ids that check it
(`cnnspec run --adapter keras+recipes`).
"""

from __future__ import annotations

import itertools
import math

from keras import ops


def same_pads(size, kernel, stride, dilation=1, lower=False):
    """SAME padding of one axis: P = max((ceil(i/s) - 1)*s + d*(k-1) + 1 - i, 0), split
    (P // 2, P - P // 2) (Keras 'same', SAME_UPPER), or the other way round with `lower`.
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


def _spatial(x):
    return [int(n) for n in x.shape[1:-1]]


def _pad(x, pairs, value=0.0):
    return ops.pad(x, [(0, 0), *[tuple(p) for p in pairs], (0, 0)], constant_values=value)


def _fitted(x, kernel_shape, strides, pads, dilations, ceil_mode):
    sizes = _spatial(x)
    pairs = explicit_pads(pads, sizes, kernel_shape, strides, dilations)
    extra = [ceil_extra(i, k, s, p, d) if ceil_mode else 0
             for i, k, s, p, d in zip(sizes, kernel_shape, strides, pairs, dilations)]
    return pairs, [(b, e + a) for (b, e), a in zip(pairs, extra)], extra


def _subsample(y, strides):
    return y[(slice(None), *(slice(None, None, s) for s in strides), slice(None))]


def max_pool(x, kernel_shape, strides, pads, dilations=None, ceil_mode=False):
    """`torch.nn.MaxPool{1,2,3}d(kernel, stride, padding, dilation, ceil_mode)` and ONNX MaxPool
    (explicit, asymmetric, SAME_LOWER pads) in Keras, whose `ops.max_pool` takes 'valid' or
    'same' and no dilation: `ops.pad` with -inf (and the ceil-mode overhang, `ceil_extra`),
    then `ops.max_pool(padding="valid")`; with a dilation, the running `ops.maximum` of the
    strided views of each kernel tap, taps in scan order (on ties the gradient stays with the
    first, on the tensorflow backend). Rules: pool.output_size.floor, pool.output_size.ceil,
    pool.max_matches_reference, pool.max_padding_never_wins, pool.channels_preserved,
    grad.max_pool.routing, grad.max_pool.overlap_accumulates."""
    sizes = _spatial(x)
    dilations = list(dilations or [1] * len(sizes))
    _, fitted, _ = _fitted(x, kernel_shape, strides, pads, dilations, ceil_mode)
    x = _pad(x, fitted, -math.inf)
    if all(d == 1 for d in dilations):
        return ops.max_pool(x, tuple(kernel_shape), tuple(strides), padding="valid")
    out = [(i + b + e - d * (k - 1) - 1) // s + 1
           for i, (b, e), k, s, d in zip(sizes, fitted, kernel_shape, strides, dilations)]
    y = None
    for offset in itertools.product(*(range(k) for k in kernel_shape)):
        view = x[(slice(None), *(slice(o * d, o * d + (n - 1) * s + 1, s)
                                 for o, d, s, n in zip(offset, dilations, strides, out)),
                  slice(None))]
        y = view if y is None else ops.maximum(y, view)
    return y


def avg_pool(x, kernel_shape, strides, pads, ceil_mode=False, count_include_pad=True):
    """`torch.nn.AvgPool{1,2,3}d(kernel, stride, padding, ceil_mode, count_include_pad)` and ONNX
    AveragePool in Keras, whose `ops.average_pool` never counts padding: `ops.average_pool` of
    the zero-padded input over the same pooling of a ones tensor marking what the divisor
    counts (the input and, with `count_include_pad`, the explicit padding; never the ceil-mode
    overhang). Rules: pool.avg_matches_reference, pool.avg_count_include_pad,
    pool.output_size.ceil, grad.avg_pool.uniform."""
    sizes = _spatial(x)
    pairs, fitted, extra = _fitted(x, kernel_shape, strides, pads, [1] * len(sizes), ceil_mode)
    kernel, step = tuple(kernel_shape), tuple(strides)
    total = ops.average_pool(_pad(x, fitted), kernel, step, padding="valid")
    counted = ops.ones((1, *sizes, 1), dtype=x.dtype)
    if count_include_pad:
        counted = _pad(_pad(counted, pairs, 1.0), [(0, a) for a in extra])
    else:
        counted = _pad(counted, fitted)
    return total / ops.average_pool(counted, kernel, step, padding="valid")


def dilate_kernel(w, dilations):
    """A kernel `(*k, ...)` with d - 1 zeros between its taps per spatial axis: the dense kernel
    of a dilated conv, d*(k-1) + 1 long [conv.dilation_is_sparse_kernel]."""
    for axis, d in enumerate(dilations):
        if d == 1:
            continue
        k = int(w.shape[axis])
        stacked = ops.stack([w] + [ops.zeros_like(w)] * (d - 1), axis=axis + 1)
        shape = [int(n) for n in w.shape]
        shape[axis] = k * d
        w = ops.reshape(stacked, shape)[(slice(None),) * axis + (slice(0, (k - 1) * d + 1),)]
    return w


def conv(x, w, b=None, strides=None, pads="VALID", dilations=None, groups=1):
    """`torch.nn.Conv{1,2,3}d(stride, padding, dilation, groups)` and ONNX Conv (explicit,
    asymmetric, SAME_LOWER pads) in Keras, whose `ops.conv` takes 'valid' / 'same' only (and,
    on tensorflow, refuses a stride with a dilation): `ops.pad`, the dilated kernel made dense
    (`dilate_kernel`), `ops.conv(padding="valid")` at stride 1, then every s-th output (stride
    is subsampling; this also keeps TF 2.21's strided oneDNN conv out of the way), one conv per
    group. Rules: conv.output_size,
    conv.same_padding, conv.matches_reference, conv.dilation_is_sparse_kernel,
    conv.stride_is_subsampling, grad.conv.input, grad.conv.weight."""
    sizes = _spatial(x)
    strides = list(strides or [1] * len(sizes))
    dilations = list(dilations or [1] * len(sizes))
    kernel = [int(n) for n in w.shape[:-2]]
    x = _pad(x, explicit_pads(pads, sizes, kernel, strides, dilations))
    dense = dilate_kernel(w, dilations)
    if groups == 1:
        y = ops.conv(x, dense, strides=1, padding="valid")
    else:  # one conv per group (TF has no grouped-conv gradient on the CPU)
        y = ops.concatenate([ops.conv(a, k, strides=1, padding="valid") for a, k in
                             zip(ops.split(x, groups, axis=-1),
                                 ops.split(dense, groups, axis=-1))], axis=-1)
    y = _subsample(y, strides)
    return y if b is None else y + b


def zero_insert(x, strides):
    """x `(N, *spatial, C)` with s - 1 zeros between neighbours per spatial axis.
    [conv_transpose.zero_insert_flip]"""
    for axis, s in enumerate(strides, start=1):
        if s == 1:
            continue
        i = int(x.shape[axis])
        stacked = ops.stack([x] + [ops.zeros_like(x)] * (s - 1), axis=axis + 1)
        shape = [int(n) for n in x.shape]
        shape[axis] = i * s
        x = ops.reshape(stacked, shape)[(slice(None),) * axis + (slice(0, (i - 1) * s + 1),)]
    return x


def conv_transpose(x, w, b=None, strides=None, pads="VALID", dilations=None, groups=1,
                   output_padding=None):
    """`torch.nn.ConvTranspose{1,2,3}d(stride, padding, output_padding, groups, dilation)` and
    ONNX ConvTranspose (SAME_LOWER) in Keras, whose `ops.conv_transpose` takes 'valid' / 'same'
    only, has no groups, and in 'valid' makes a kernel shorter than its stride
    (i-1)*s + s long: zero insertion, flip and conv. x gets s - 1 zeros between neighbours,
    is padded by (d*(k-1) - pb, d*(k-1) - pe + a) (cropped where negative) and convolved at
    stride 1 with the flipped kernel, in/out swapped: o = (i-1)*s - pb - pe + d*(k-1) + a + 1.
    Rules: conv_transpose.output_size, conv_transpose.zero_insert_flip,
    conv_transpose.matrix_transpose, conv_transpose.adjoint, grad.conv_transpose.input,
    grad.conv_transpose.weight."""
    sizes = _spatial(x)
    ndim = len(sizes)
    strides = list(strides or [1] * ndim)
    dilations = list(dilations or [1] * ndim)
    output_padding = list(output_padding or [0] * ndim)
    kernel = [int(n) for n in w.shape[:-2]]
    if isinstance(pads, str) and pads != "VALID":
        pads = [same_pads(i * s, k, s, d, lower=pads == "SAME_LOWER")
                for i, k, s, d in zip(sizes, kernel, strides, dilations)]
        output_padding = [max(s - d * (k - 1) - 1, 0)
                          for k, s, d in zip(kernel, strides, dilations)]
    pairs = explicit_pads(pads, sizes, kernel, strides, dilations)
    direct = ops.flip(ops.transpose(w, [*range(ndim), ndim + 1, ndim]), list(range(ndim)))
    grown = [(d * (k - 1) - pb, d * (k - 1) - pe + a)
             for k, d, (pb, pe), a in zip(kernel, dilations, pairs, output_padding)]
    x = zero_insert(x, strides)
    x = _pad(x, [(max(b, 0), max(e, 0)) for b, e in grown])
    x = x[(slice(None), *(slice(max(-b, 0), int(n) - max(-e, 0))
                          for (b, e), n in zip(grown, x.shape[1:-1])), slice(None))]
    dense = dilate_kernel(direct, dilations)  # (*k, C_in, C_out / g)
    if groups == 1:
        y = ops.conv(x, dense, strides=1, padding="valid")
    else:
        y = ops.concatenate([ops.conv(a, k, strides=1, padding="valid") for a, k in
                             zip(ops.split(x, groups, axis=-1),
                                 ops.split(dense, groups, axis=-2))], axis=-1)
    return y if b is None else y + b


def pixel_shuffle(x, upscale_factor):
    """`torch.nn.PixelShuffle(r)` (CRD: y[n, h*r + i, w*r + j, c] = x[n, h, w, c*r*r + i*r + j])
    in Keras, whose `ops.depth_to_space` is DCR: the channels taken into DCR order first
    (r = 1 is the identity). Rules: upsample.pixel_shuffle, grad.pixel_shuffle."""
    r = upscale_factor
    if r == 1:
        return x
    depth = int(x.shape[-1]) // (r * r)
    order = [c * r * r + i for i in range(r * r) for c in range(depth)]
    return ops.depth_to_space(ops.take(x, order, axis=-1), r)


def adaptive_bins(size, out):
    """Bin j covers [floor(j*I/O), ceil((j+1)*I/O)) (torch's start_index / end_index)
    [pool.adaptive_bins]."""
    return [((j * size) // out, -(-((j + 1) * size) // out)) for j in range(out)]


def adaptive_max_pool(x, output_size):
    """`torch.nn.AdaptiveMaxPool{1,2,3}d(output_size)` in Keras, whose `ops.adaptive_max_pool`
    on tensorflow crashes (SIGFPE) where an output size or an input size is 1: one
    `ops.max_pool` per output cell, its window the cell's box. Rules: pool.adaptive_bins,
    grad.adaptive_pool."""
    bins = [adaptive_bins(i, o) for i, o in zip(_spatial(x), output_size)]
    cells = []
    for box in itertools.product(*bins):
        part = x[(slice(None), *(slice(a, b) for a, b in box), slice(None))]
        window = tuple(b - a for a, b in box)
        cells.append(ops.max_pool(part, window, window, padding="valid"))
    return ops.reshape(ops.stack(cells, axis=1), (-1, *output_size, int(x.shape[-1])))
