"""Recipes for PyTorch: TensorFlow / Keras / ONNX behaviours that `torch.nn.functional` lacks or
does otherwise, in torch's own ops and layout (x is `(N, C, *spatial)`, conv kernels
`(C_out, C_in / groups, *k)`, transposed-conv kernels `(C_in, C_out / groups, *k)`).

Self-contained: this file imports torch and the standard library only, so a function can be
pasted into a model. `pads` is a list of `(begin, end)` pairs, one per spatial axis, or "VALID",
"SAME_UPPER" (TF's and Keras's 'same': the odd pixel at the end) or "SAME_LOWER" (ONNX
auto_pad=SAME_LOWER). Each docstring names what it reproduces and the cnnspec rule ids that
check it (`cnnspec run --adapter torch+recipes`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def same_pads(size, kernel, stride, dilation=1, lower=False):
    """SAME padding of one axis: P = max((ceil(i/s) - 1)*s + d*(k-1) + 1 - i, 0), split
    (P // 2, P - P // 2), the odd pixel at the end (TF 'SAME'), or at the begin with `lower`.
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


def _pad(x, pairs, value=0.0):
    """F.pad with one (begin, end) pair per spatial axis, first axis first (negative crops)."""
    return F.pad(x, [p for pair in reversed(pairs) for p in pair], value=value)


def _fitted(x, kernel_shape, strides, pads, dilations, ceil_mode):
    sizes = x.shape[2:]
    pairs = explicit_pads(pads, sizes, kernel_shape, strides, dilations)
    extra = [ceil_extra(i, k, s, p, d) if ceil_mode else 0
             for i, k, s, p, d in zip(sizes, kernel_shape, strides, pairs, dilations)]
    return pairs, [(b, e + a) for (b, e), a in zip(pairs, extra)], extra


def max_pool(x, kernel_shape, strides, pads, dilations=None, ceil_mode=False):
    """TF's `tf.nn.max_pool(padding='SAME')`, ONNX MaxPool (SAME_LOWER, asymmetric pads) and
    pads above kernel // 2 in torch, whose MaxPool takes one symmetric pad <= k // 2: the input
    is padded with -inf by `F.pad` (with the ceil-mode overhang, `ceil_extra`), then pooled with
    `F.max_pool{n}d(padding=0)`. Every window then lies inside the padded tensor, which also
    avoids torch's out-of-range gradient index for a window without input
    (pytorch/pytorch#114216). Rules: pool.output_size.floor, pool.output_size.ceil,
    pool.max_matches_reference, pool.max_padding_never_wins, pool.channels_preserved,
    grad.max_pool.routing, grad.max_pool.ties."""
    ndim = x.dim() - 2
    dilations = list(dilations or [1] * ndim)
    _, fitted, _ = _fitted(x, kernel_shape, strides, pads, dilations, ceil_mode)
    pool = getattr(F, f"max_pool{ndim}d")
    return pool(_pad(x, fitted, -math.inf), tuple(kernel_shape), tuple(strides), 0,
                tuple(dilations))


def max_pool_argmax(x, kernel_shape, strides, pads, dilations=None, ceil_mode=False):
    """`torch.nn.MaxPool{n}d(..., return_indices=True)` with SAME / asymmetric pads: the indices
    of `max_pool` (flat per (n, c) plane of the padded input) taken back to the input's plane,
    -1 for a window without input. Rules: pool.max_unpool."""
    ndim = x.dim() - 2
    dilations = list(dilations or [1] * ndim)
    _, fitted, _ = _fitted(x, kernel_shape, strides, pads, dilations, ceil_mode)
    padded = _pad(x, fitted, -math.inf)
    pool = getattr(F, f"max_pool{ndim}d")
    _, index = pool(padded, tuple(kernel_shape), tuple(strides), 0, tuple(dilations),
                    return_indices=True)
    flat, inside = torch.zeros_like(index), torch.ones_like(index, dtype=torch.bool)
    for axis in range(ndim):  # unravel over the padded plane, ravel over the input's
        inner = math.prod(padded.shape[3 + axis:])
        coordinate = (index // inner) % padded.shape[2 + axis] - fitted[axis][0]
        inside &= (coordinate >= 0) & (coordinate < x.shape[2 + axis])
        flat = flat * x.shape[2 + axis] + coordinate
    return torch.where(inside, flat, torch.full_like(flat, -1))


def avg_pool(x, kernel_shape, strides, pads, ceil_mode=False, count_include_pad=True):
    """TF's `tf.nn.avg_pool(padding='SAME')` (which never counts padding), ONNX AveragePool
    (SAME_LOWER, asymmetric pads) and pads above kernel // 2 in torch: the window sum
    (`F.avg_pool{2,3}d(divisor_override=1)` of the zero-padded input; a 1-d input pooled as
    2-d) over the same sum of a ones tensor marking what the divisor counts (the input and,
    with `count_include_pad`, the explicit padding; never the ceil-mode overhang). Rules:
    pool.avg_matches_reference, pool.avg_count_include_pad, pool.output_size.ceil,
    grad.avg_pool.uniform."""
    ndim = x.dim() - 2
    pairs, fitted, extra = _fitted(x, kernel_shape, strides, pads, [1] * ndim, ceil_mode)
    kernel, step = tuple(kernel_shape), tuple(strides)
    if ndim == 1:
        kernel, step = (1, *kernel), (1, *step)
    pool = F.avg_pool3d if ndim == 3 else F.avg_pool2d

    def window_sum(t):
        t = t.unsqueeze(2) if ndim == 1 else t
        total = pool(t, kernel, step, 0, divisor_override=1)
        return total.squeeze(2) if ndim == 1 else total

    counted = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype, device=x.device)
    if count_include_pad:
        counted = _pad(_pad(counted, pairs, 1.0), [(0, a) for a in extra])
    else:
        counted = _pad(counted, fitted)
    return window_sum(_pad(x, fitted)) / window_sum(counted)


def conv(x, w, b=None, strides=None, pads="VALID", dilations=None, groups=1):
    """TF's `tf.nn.conv2d(padding='SAME')` with a stride (torch refuses padding='same' there),
    ONNX Conv SAME_LOWER and asymmetric pads in torch: `F.pad` with the SAME / explicit
    padding, then `F.conv{n}d(padding=0)`. Rule: conv.same_padding (the rules that draw
    padding modes)."""
    ndim = x.dim() - 2
    strides = tuple(strides or [1] * ndim)
    dilations = tuple(dilations or [1] * ndim)
    pairs = explicit_pads(pads, x.shape[2:], w.shape[2:], strides, dilations)
    return getattr(F, f"conv{ndim}d")(_pad(x, pairs), w, b, strides, 0, dilations, groups)


def conv_transpose(x, w, b=None, strides=None, pads="VALID", dilations=None, groups=1,
                   output_padding=None):
    """TF's `tf.nn.conv2d_transpose(padding='SAME')` (output i*s), ONNX ConvTranspose
    (SAME_UPPER / SAME_LOWER, asymmetric pads) in torch, whose ConvTranspose takes one
    symmetric pad: the full `F.conv_transpose{n}d(padding=0)` without bias, `a` zeros appended
    (output_padding), then (pb, pe) cropped by a negative `F.pad`, then the bias:
    o = (i-1)*s - pb - pe + d*(k-1) + a + 1; SAME: pads `same_pads(i*s, ...)` and
    a = max(s - d*(k-1) - 1, 0). Rules: conv_transpose.output_size,
    conv_transpose.zero_insert_flip, conv_transpose.matrix_transpose, conv_transpose.adjoint,
    grad.conv_transpose.input, grad.conv_transpose.weight."""
    ndim = x.dim() - 2
    sizes, kernel = x.shape[2:], w.shape[2:]
    strides = tuple(strides or [1] * ndim)
    dilations = tuple(dilations or [1] * ndim)
    output_padding = list(output_padding or [0] * ndim)
    if isinstance(pads, str) and pads != "VALID":
        pads = [same_pads(i * s, k, s, d, lower=pads == "SAME_LOWER")
                for i, k, s, d in zip(sizes, kernel, strides, dilations)]
        output_padding = [max(s - d * (k - 1) - 1, 0)
                          for k, s, d in zip(kernel, strides, dilations)]
    pairs = explicit_pads(pads, sizes, kernel, strides, dilations)
    full = getattr(F, f"conv_transpose{ndim}d")(x, w, None, strides, 0, 0, groups, dilations)
    # the zeros appended first, then the crop: a crop of pb > (i-1)*s + d*(k-1) + 1 reaches
    # into them (torch's F.pad cannot crop and extend one axis past its length at once)
    appended = _pad(full, [(0, a) for a in output_padding])
    y = _pad(appended, [(-pb, -pe) for pb, pe in pairs])
    return y if b is None else y + b.reshape(1, -1, *([1] * ndim))


def keras_valid_conv_transpose(x, w, b=None, strides=None, dilations=None):
    """Keras's `keras.ops.conv_transpose(padding='valid')` / `Conv2DTranspose(padding='valid')`
    in torch: its output is (i-1)*s + max(d*(k-1) + 1, s) long, the kernel shorter than its
    stride padded at the end by s - d*(k-1) - 1 zeros (plus the bias), i.e. torch's
    ConvTranspose with output_padding = max(s - d*(k-1) - 1, 0). Rule:
    conv_transpose.output_size (as `conv_transpose` with that output_padding)."""
    ndim = x.dim() - 2
    strides = tuple(strides or [1] * ndim)
    dilations = tuple(dilations or [1] * ndim)
    extra = tuple(max(s - d * (k - 1) - 1, 0)
                  for k, s, d in zip(w.shape[2:], strides, dilations))
    return getattr(F, f"conv_transpose{ndim}d")(x, w, b, strides, 0, extra, 1, dilations)


def depth_to_space(x, block_size):
    """TensorFlow's `tf.nn.depth_to_space` / Keras's `depth_to_space` (DCR:
    y[n, c, h*r + i, w*r + j] = x[n, (i*r + j)*C + c, h, w]) in torch, whose PixelShuffle is
    CRD: the channels reordered into CRD, then `F.pixel_shuffle`. Rule:
    upsample.pixel_shuffle (as pixel_shuffle of the reordered channels)."""
    n, channels, h, w = x.shape
    r = block_size
    crd = x.reshape(n, r * r, channels // (r * r), h, w).transpose(1, 2)
    return F.pixel_shuffle(crd.reshape(n, channels, h, w), r)


def max_unpool(x, indices, kernel_shape, strides, pads, output_size=None):
    """ONNX MaxUnpool with asymmetric or SAME pads in torch, whose MaxUnpool takes one symmetric
    pad: zeros of the default size (i-1)*s - pb - pe + k (or `output_size`), each value written
    at its flat per-plane index by `Tensor.scatter` (overlapping windows name one element with
    one value). Rule: pool.max_unpool."""
    ndim = x.dim() - 2
    pairs = explicit_pads(pads, x.shape[2:], kernel_shape, strides, [1] * ndim)
    if output_size is None:
        output_size = [(i - 1) * s - b - e + k
                       for i, s, (b, e), k in zip(x.shape[2:], strides, pairs, kernel_shape)]
    n, c = x.shape[:2]
    plane = torch.zeros((n, c, math.prod(output_size)), dtype=x.dtype, device=x.device)
    y = plane.scatter(2, indices.reshape(n, c, -1), x.reshape(n, c, -1))
    return y.reshape(n, c, *output_size)
