"""Recipes for TensorFlow: PyTorch / ONNX behaviours that `tf.nn` lacks or does otherwise, written
in TF's own ops and layout (channels last: x is `(N, *spatial, C)`, conv kernels
`(*k, C_in / groups, C_out)`, transposed-conv kernels `(*k, C_out / groups, C_in)`).

Self-contained: this file imports TensorFlow and `math` only, so a function can be pasted into
a model. `pads` is a list of `(begin, end)` pairs, one per spatial axis, or "VALID",
"SAME_UPPER" (TF's 'SAME': the odd pixel at the end) or "SAME_LOWER" (the odd pixel at the
begin, ONNX auto_pad=SAME_LOWER). Each docstring names what it reproduces and the cnnspec rule
ids that check it (`cnnspec run --adapter tensorflow+recipes --rule ID` runs them).
"""

from __future__ import annotations

import itertools
import math

import tensorflow as tf


def _rank_layout(x):
    """TF's channels-last layout name; given explicitly, since a 3-d op built without one
    records data_format=None and its eager gradient fails (TF 2.21)."""
    return {3: "NWC", 4: "NHWC", 5: "NDHWC"}[len(x.shape)]


def same_pads(size, kernel, stride, dilation=1, lower=False):
    """SAME padding of one axis: the output is ceil(size / stride) long, and the padding
    P = max((ceil(size/s) - 1)*s + d*(k-1) + 1 - size, 0) is split (P // 2, P - P // 2), the
    odd pixel at the end (TF 'SAME', SAME_UPPER), or at the begin with `lower` (SAME_LOWER).
    [conv.same_padding]"""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    small, large = total // 2, total - total // 2
    return (large, small) if lower else (small, large)


def explicit_pads(pads, sizes, kernel, strides, dilations):
    """`pads` as (begin, end) pairs: "VALID" is zeros, "SAME_UPPER" / "SAME_LOWER" follow
    `same_pads`, pairs pass through. [conv.same_padding]"""
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


def _subsample(y, strides):
    """y[:, ::s1, ::s2, ..., :]: a stride applied after a stride-1 window op."""
    return y[(slice(None), *(slice(None, None, s) for s in strides), slice(None))]


def max_pool(x, kernel_shape, strides, pads, dilations=None, ceil_mode=False):
    """`torch.nn.MaxPool{1,2,3}d(kernel, stride, padding, dilation, ceil_mode)` and ONNX MaxPool
    (explicit, asymmetric and SAME_LOWER pads, ceil mode, stride with dilation) in TF.

    The input is padded with -inf by `tf.pad` (the padding never wins), ceil mode adds
    `ceil_extra` at the end, then `tf.nn.max_pool(padding="VALID")`. With a dilation,
    `tf.nn.pool(..., "MAX", dilations=d)` at stride 1, keeping every s-th window (TF refuses
    a stride together with a dilation; stride is subsampling). Rules: pool.output_size.floor,
    pool.output_size.ceil, pool.max_matches_reference, pool.max_padding_never_wins,
    pool.channels_preserved, grad.max_pool.routing, grad.max_pool.overlap_accumulates.
    """
    sizes = _spatial(x)
    dilations = list(dilations or [1] * len(sizes))
    pairs = explicit_pads(pads, sizes, kernel_shape, strides, dilations)
    if ceil_mode:
        pairs = [(b, e + ceil_extra(i, k, s, (b, e), d))
                 for i, k, s, (b, e), d in zip(sizes, kernel_shape, strides, pairs, dilations)]
    x = tf.pad(x, [[0, 0], *map(list, pairs), [0, 0]], constant_values=-math.inf)
    if all(d == 1 for d in dilations):
        return tf.nn.max_pool(x, list(kernel_shape), list(strides), "VALID",
                              data_format=_rank_layout(x))
    y = tf.nn.pool(x, list(kernel_shape), "MAX", strides=[1] * len(sizes), padding="VALID",
                   dilations=dilations)
    return _subsample(y, strides)


def avg_pool(x, kernel_shape, strides, pads, ceil_mode=False, count_include_pad=True):
    """`torch.nn.AvgPool{1,2,3}d(kernel, stride, padding, ceil_mode, count_include_pad)` and ONNX
    AveragePool (explicit, asymmetric and SAME_LOWER pads) in TF.

    y = avg_pool(pad(x, 0)) / avg_pool(pad(counted, 0)): `tf.nn.avg_pool` of the zero-padded
    input (window sum / prod(k)) over the same pooling of a ones tensor that marks what the
    divisor counts, the input and, with `count_include_pad`, the explicit padding (never the
    ceil-mode overhang, as torch's `min(start + k, i + pe) - start`). Rules:
    pool.avg_matches_reference, pool.avg_count_include_pad, pool.output_size.floor,
    pool.output_size.ceil, grad.avg_pool.uniform.
    """
    sizes = _spatial(x)
    ones = [1] * len(sizes)
    pairs = explicit_pads(pads, sizes, kernel_shape, strides, ones)
    extra = [ceil_extra(i, k, s, p) if ceil_mode else 0
             for i, k, s, p in zip(sizes, kernel_shape, strides, pairs)]
    fitted = [[b, e + a] for (b, e), a in zip(pairs, extra)]
    layout = _rank_layout(x)
    total = tf.nn.avg_pool(tf.pad(x, [[0, 0], *fitted, [0, 0]]), list(kernel_shape),
                           list(strides), "VALID", data_format=layout)
    counted = tf.ones([1, *sizes, 1], dtype=x.dtype)
    if count_include_pad:
        counted = tf.pad(counted, [[0, 0], *map(list, pairs), [0, 0]], constant_values=1)
        counted = tf.pad(counted, [[0, 0], *[[0, a] for a in extra], [0, 0]])
    else:
        counted = tf.pad(counted, [[0, 0], *fitted, [0, 0]])
    share = tf.nn.avg_pool(counted, list(kernel_shape), list(strides), "VALID",
                           data_format=layout)
    return total / share


def dilate_kernel(w, dilations):
    """A conv kernel `(*k, ...)` with d - 1 zeros inserted between its taps on each spatial axis:
    the dense kernel of a dilated conv, `d*(k-1) + 1` long [conv.dilation_is_sparse_kernel]."""
    for axis, d in enumerate(dilations):
        if d == 1:
            continue
        k = int(w.shape[axis])
        stacked = tf.stack([w] + [tf.zeros_like(w)] * (d - 1), axis=axis + 1)
        shape = [int(n) for n in w.shape]
        shape[axis] = k * d
        w = tf.reshape(stacked, shape)
        w = w[(slice(None),) * axis + (slice(0, (k - 1) * d + 1),)]
    return w


def _grouped(x, w, groups, one):
    """`one(x_g, w_g)` per group along the channels (x's and w's last axis), concatenated."""
    if groups == 1:
        return one(x, w)
    return tf.concat([one(a, b) for a, b in zip(tf.split(x, groups, axis=-1),
                                                tf.split(w, groups, axis=-1))], axis=-1)


def conv(x, w, b=None, strides=None, pads="VALID", dilations=None, groups=1):
    """`torch.nn.Conv{1,2,3}d(stride, padding, dilation, groups)` and ONNX Conv (SAME_LOWER,
    asymmetric pads) in TF, where TF refuses or mis-computes them: a stride together with a
    dilation, SAME_LOWER, grouped and dilated gradients on the CPU, and the strided 2-d oneDNN
    conv of TF 2.21 (tensorflow/tensorflow#64396).

    `tf.pad` (explicit zeros), the dilated kernel made dense (`dilate_kernel`), one
    `tf.nn.convolution(padding="VALID")` at stride 1 per group, then every s-th output (stride
    is subsampling). Rules: conv.output_size, conv.same_padding, conv.cross_correlation,
    conv.matches_reference, conv.dilation_is_sparse_kernel, conv.stride_is_subsampling,
    conv.grouped_is_split_concat, grad.conv.input, grad.conv.weight.
    """
    sizes = _spatial(x)
    strides = list(strides or [1] * len(sizes))
    dilations = list(dilations or [1] * len(sizes))
    kernel = [int(n) for n in w.shape[:-2]]
    pairs = explicit_pads(pads, sizes, kernel, strides, dilations)
    x = tf.pad(x, [[0, 0], *map(list, pairs), [0, 0]])
    dense = dilate_kernel(w, dilations)
    layout = _rank_layout(x)
    y = _grouped(x, dense, groups, lambda a, k: tf.nn.convolution(
        a, k, strides=1, padding="VALID", data_format=layout))
    y = _subsample(y, strides)
    return y if b is None else tf.nn.bias_add(y, b)


def zero_insert(x, strides):
    """x `(N, *spatial, C)` with s - 1 zeros between neighbours on each spatial axis:
    `(i - 1)*s + 1` long (the input side of a transposed conv). [conv_transpose.zero_insert_flip]"""
    for axis, s in enumerate(strides, start=1):
        if s == 1:
            continue
        i = int(x.shape[axis])
        stacked = tf.stack([x] + [tf.zeros_like(x)] * (s - 1), axis=axis + 1)
        shape = [int(n) if n is not None else -1 for n in x.shape]
        shape[axis] = i * s
        x = tf.reshape(stacked, shape)
        x = x[(slice(None),) * axis + (slice(0, (i - 1) * s + 1),)]
    return x


def _pad_or_crop(x, pairs):
    """Pads (zeros) or, for a negative amount, crops each spatial axis of x."""
    grow = [[max(b, 0), max(e, 0)] for b, e in pairs]
    x = tf.pad(x, [[0, 0], *grow, [0, 0]])
    cut = tuple(slice(max(-b, 0), int(n) - max(-e, 0))
                for (b, e), n in zip(pairs, x.shape[1:-1]))
    return x[(slice(None), *cut, slice(None))]


def conv_transpose(x, w, b=None, strides=None, pads="VALID", dilations=None, groups=1,
                   output_padding=None):
    """`torch.nn.ConvTranspose{1,2,3}d(stride, padding, output_padding, groups, dilation)` and
    ONNX ConvTranspose (asymmetric pads, SAME_UPPER / SAME_LOWER: output i*s) in TF, where TF
    lacks them (groups, dilation on the CPU, SAME_LOWER, explicit 1-d and 3-d pads).

    A transposed conv is zero insertion, flip and conv: x gets s - 1 zeros between
    neighbours, is padded by (d*(k-1) - pb, d*(k-1) - pe + a) (cropped where negative), and is
    convolved at stride 1 with the flipped kernel, its in/out axes swapped:
    o = (i-1)*s - pb - pe + d*(k-1) + a + 1. Rules: conv_transpose.output_size,
    conv_transpose.shape_roundtrip, conv_transpose.zero_insert_flip,
    conv_transpose.matrix_transpose, conv_transpose.adjoint,
    conv_transpose.is_conv_input_gradient, grad.conv_transpose.input,
    grad.conv_transpose.weight.
    """
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
    direct = tf.reverse(tf.transpose(w, [*range(ndim), ndim + 1, ndim]), list(range(ndim)))
    grown = [(d * (k - 1) - pb, d * (k - 1) - pe + a)
             for k, d, (pb, pe), a in zip(kernel, dilations, pairs, output_padding)]
    x = _pad_or_crop(zero_insert(x, strides), grown)
    dense = dilate_kernel(direct, dilations)
    # per group: kernel (*k, C_in / g, C_out / g); split w on its C_in axis, now the last but one
    layout = _rank_layout(x)
    if groups == 1:
        y = tf.nn.convolution(x, dense, strides=1, padding="VALID", data_format=layout)
    else:
        kernels = tf.split(dense, groups, axis=-2)
        y = tf.concat([tf.nn.convolution(a, k, strides=1, padding="VALID", data_format=layout)
                       for a, k in zip(tf.split(x, groups, axis=-1), kernels)], axis=-1)
    return y if b is None else tf.nn.bias_add(y, b)


def _crd_to_dcr(channels, block):
    """The channel order depth_to_space (DCR) needs for a PixelShuffle (CRD) input."""
    depth = channels // (block * block)
    return [c * block * block + i for i in range(block * block) for c in range(depth)]


def pixel_shuffle(x, upscale_factor):
    """`torch.nn.PixelShuffle(r)` (CRD: y[n, h*r + i, w*r + j, c] = x[n, h, w, c*r*r + i*r + j])
    in TF, whose `tf.nn.depth_to_space` is DCR (x[n, h, w, (i*r + j)*C + c]): the channels are
    gathered into DCR order first (r = 1, which depth_to_space refuses, is the identity).
    Rules: upsample.pixel_shuffle, grad.pixel_shuffle."""
    if upscale_factor == 1:
        return tf.identity(x)
    order = _crd_to_dcr(int(x.shape[-1]), upscale_factor)
    return tf.nn.depth_to_space(tf.gather(x, order, axis=-1), upscale_factor)


def pixel_unshuffle(y, downscale_factor):
    """`torch.nn.PixelUnshuffle(r)` (CRD) in TF: `tf.nn.space_to_depth` (DCR), then the channels
    gathered back into CRD order; the inverse of `pixel_shuffle` [upsample.pixel_shuffle]."""
    if downscale_factor == 1:
        return tf.identity(y)
    x = tf.nn.space_to_depth(y, downscale_factor)
    order = _crd_to_dcr(int(x.shape[-1]), downscale_factor)
    inverse = [0] * len(order)
    for position, channel in enumerate(order):
        inverse[channel] = position
    return tf.gather(x, inverse, axis=-1)


def adaptive_bins(size, out):
    """Bin j of an adaptive pool covers [floor(j*I/O), ceil((j+1)*I/O)) (torch's start_index /
    end_index) [pool.adaptive_bins]."""
    return [((j * size) // out, -(-((j + 1) * size) // out)) for j in range(out)]


def adaptive_avg_pool(x, output_size):
    """`torch.nn.AdaptiveAvgPool{1,2,3}d(output_size)` in TF: a box mean is separable, so each
    spatial axis in turn becomes the `tf.reduce_mean` of its bins. Rules: pool.adaptive_bins,
    grad.adaptive_pool."""
    for axis, out in enumerate(output_size, start=1):
        size = int(x.shape[axis])
        x = tf.concat([tf.reduce_mean(x[(slice(None),) * axis + (slice(a, b),)], axis=axis,
                                      keepdims=True) for a, b in adaptive_bins(size, out)],
                      axis=axis)
    return x


def adaptive_max_pool(x, output_size):
    """`torch.nn.AdaptiveMaxPool{1,2,3}d(output_size)` in TF: one `tf.nn.max_pool` per output
    cell, its window the cell's box (so the gradient goes to one maximum, as MaxPoolGrad
    routes it). Rules: pool.adaptive_bins, grad.adaptive_pool."""
    sizes = _spatial(x)
    bins = [adaptive_bins(i, o) for i, o in zip(sizes, output_size)]
    layout = _rank_layout(x)
    cells = []
    for box in itertools.product(*bins):
        part = x[(slice(None), *(slice(a, b) for a, b in box), slice(None))]
        window = [b - a for a, b in box]
        cells.append(tf.nn.max_pool(part, window, window, "VALID", data_format=layout))
    y = tf.stack(cells, axis=1)  # (N, cells, 1, ..., C)
    return tf.reshape(y, [-1, *output_size, int(x.shape[-1])])


def max_pool_argmax(x, kernel_shape, strides, pads, ceil_mode=False):
    """`torch.nn.MaxPool2d(..., return_indices=True)`'s indices (flat per (n, c) plane, h*W + w)
    with explicit, asymmetric or SAME_LOWER pads and ceil mode, in TF (2-d, NHWC, int64):
    `tf.nn.max_pool_with_argmax` of the -inf-padded input, its flat index ((y*Wp + x)*C + c)
    taken back to the unpadded plane. Rule: pool.max_unpool."""
    sizes = _spatial(x)
    ones = [1] * len(sizes)
    pairs = explicit_pads(pads, sizes, kernel_shape, strides, ones)
    if ceil_mode:
        pairs = [(b, e + ceil_extra(i, k, s, (b, e)))
                 for i, k, s, (b, e) in zip(sizes, kernel_shape, strides, pairs)]
    padded = tf.pad(x, [[0, 0], *map(list, pairs), [0, 0]], constant_values=-math.inf)
    _, index = tf.nn.max_pool_with_argmax(padded, list(kernel_shape), list(strides), "VALID",
                                          include_batch_in_index=False)
    channels, width = int(x.shape[-1]), int(padded.shape[2])
    flat = tf.cast(index, tf.int64) // channels
    row, column = flat // width - pairs[0][0], flat % width - pairs[1][0]
    inside = (row >= 0) & (row < sizes[0]) & (column >= 0) & (column < sizes[1])
    return tf.where(inside, row * sizes[1] + column, -1)


def max_unpool(x, indices, kernel_shape, strides, pads, output_size=None):
    """`torch.nn.MaxUnpool{1,2,3}d(kernel, stride, padding)(x, indices, output_size)` in TF:
    zeros of the default size (i-1)*s - pb - pe + k (or `output_size`), each value of x
    written at its flat per-plane index by `tf.tensor_scatter_nd_update` (overlapping windows
    name one element with one value). Rule: pool.max_unpool."""
    sizes = _spatial(x)
    pairs = explicit_pads(pads, sizes, kernel_shape, strides, [1] * len(sizes))
    if output_size is None:
        output_size = [(i - 1) * s - b - e + k
                       for i, s, (b, e), k in zip(sizes, strides, pairs, kernel_shape)]
    n, c = int(x.shape[0]), int(x.shape[-1])
    plane = math.prod(output_size)
    values = tf.reshape(x, [n, -1, c])
    where = tf.cast(tf.reshape(indices, [n, -1, c]), tf.int64)
    batch = tf.broadcast_to(tf.reshape(tf.range(n, dtype=tf.int64), [n, 1, 1]), where.shape)
    channel = tf.broadcast_to(tf.reshape(tf.range(c, dtype=tf.int64), [1, 1, c]), where.shape)
    y = tf.tensor_scatter_nd_update(tf.zeros([n, plane, c], dtype=x.dtype),
                                    tf.stack([batch, where, channel], axis=-1), values)
    return tf.reshape(y, [n, *output_size, c])
