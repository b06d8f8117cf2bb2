"""float64 reference convolution, transposed convolution, the unrolled conv matrix, and their VJPs.

Definition (PyTorch Conv docs, ONNX Conv, StableHLO convolution), per spatial axis, group `g`:

    y[n, o, t] = b[o] + sum_{c < C_in/g} sum_m w[o, c, m] * x~[n, g(o)*C_in/g + c, t*s + m*d - pb]

with `x~` zero outside the input: a cross-correlation, no kernel flip [conv.cross_correlation].
The transposed conv is its adjoint in `x` [conv_transpose.adjoint], computed in scatter form:

    y[n, o, t] = b[o] + sum_c sum_j sum_m x[n, c, j] * w[c, o, m] * [t + pb == j*s + m*d]

A conv weight is `(C_out, C_in/g, *k)`; a transposed-conv weight is `(C_in, C_out/g, *k)`.
"""

from __future__ import annotations

import math

import numpy as np

from ..arguments import check_int, per_axis
from ..geometry import (
    conv_output_size,
    conv_transpose_output_size,
    conv_transpose_roundtrip_padding,
    resolve_conv_transpose_pads,
    resolve_pads,
)
from .windows import as_batch, as_cotangent, as_float64, pad, window_scatter, window_view


def _weight(w, ndim: int, name: str = "w") -> np.ndarray:
    w = as_float64(name, w)
    if w.ndim != ndim + 2:
        raise ValueError(
            f"{name}.shape={w.shape}: must have {ndim + 2} axes, two channel axes and one per "
            f"spatial axis of x"
        )
    return w


def _bias(b, channels: int):
    if b is None:
        return None
    b = as_float64("b", b)
    if b.shape != (channels,):
        raise ValueError(f"b.shape={b.shape}: must be ({channels},), one per output channel")
    return b


def _geometry(x, w, strides, dilations, groups):
    ndim = x.ndim - 2
    strides = per_axis("strides", strides, ndim, at_least=1, what="stride")
    dilations = per_axis("dilations", dilations, ndim, at_least=1, what="dilation")
    groups = check_int("groups", groups, at_least=1, what="group count")
    return ndim, strides, dilations, groups


def _check_groups(name: str, channels: int, groups: int):
    if channels % groups:
        raise ValueError(f"groups={groups}: must divide {name}={channels}")


def _correlate(x, w, strides, dilations, groups, out_shape=None, pads=None):
    """Grouped cross-correlation of `(N, C, *spatial)` with `(O, C/g, *k)`: im2col + matmul, one
    sample at a time, padded by `pads` first when given (else `x` is already padded).

    Per sample, its padded copy and im2col matrix stay in cache, and the fresh memory of a padded
    copy of the whole batch is never touched: at x (8,16,32,32) that made the conv 1.8x faster.
    """
    n = x.shape[0]
    out_channels, group_channels, kernel = w.shape[0], w.shape[1], w.shape[2:]
    taps = group_channels * math.prod(kernel)
    kernels = w.reshape(groups, out_channels // groups, taps)

    def windows_of(batch):
        return window_view(batch if pads is None else pad(batch, pads), kernel, strides,
                           dilations, out_shape)

    first = windows_of(x[:1])  # also gives the output shape of an empty batch
    out = first.shape[2 + len(kernel):]
    y = np.empty((n, groups, out_channels // groups, math.prod(out)))
    for sample in range(n):
        windows = first if sample == 0 else windows_of(x[sample:sample + 1])
        np.matmul(kernels, windows[0].reshape(groups, taps, math.prod(out)), out=y[sample])
    return y.reshape((n, out_channels) + out)


def _weight_grad(xp, cotangent, kernel_shape, strides, dilations, groups):
    """`dw[o, c, m] = sum_{n, t} cotangent[n, o, t] * xp[n, g(o)*C/g + c, t*s + m*d]`."""
    n, channels = xp.shape[:2]
    out_channels, kernel = cotangent.shape[1], tuple(kernel_shape)
    positions = math.prod(cotangent.shape[2:])
    windows = window_view(xp, kernel, strides, dilations, cotangent.shape[2:])
    cols = windows.reshape(n, groups, channels // groups * math.prod(kernel), positions)
    cot = cotangent.reshape(n, groups, out_channels // groups, positions)
    dw = np.matmul(cot, cols.swapaxes(-1, -2)).sum(axis=0)
    return dw.reshape((out_channels, channels // groups) + kernel)


def _conv_setup(x, w, b, strides, pads, dilations, groups):
    x = as_batch("x", x)
    ndim, strides, dilations, groups = _geometry(x, w, strides, dilations, groups)
    w = _weight(w, ndim)
    channels, out_channels = x.shape[1], w.shape[0]
    if channels != w.shape[1] * groups:
        raise ValueError(
            f"x.shape[1]={channels}, but w.shape[1] * groups = {w.shape[1]} * {groups} = "
            f"{w.shape[1] * groups}: a conv weight is (C_out, C_in/groups, *k) "
            f"[x.shape={x.shape}, w.shape={w.shape}]"
        )
    _check_groups("w.shape[0] (C_out)", out_channels, groups)
    b = _bias(b, out_channels)
    pads = resolve_pads(pads, x.shape[2:], w.shape[2:], strides=strides, dilations=dilations)
    out_shape = tuple(
        conv_output_size(i, k, stride=s, pads=p, dilation=d)
        for i, k, s, p, d in zip(x.shape[2:], w.shape[2:], strides, pads, dilations)
    )
    return x, w, b, strides, pads, dilations, groups, out_shape


def _add_bias(y, b):
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * (y.ndim - 2))
    return y


def conv(x, w, b=None, *, strides, pads, dilations, groups):
    """N-d grouped cross-correlation [conv.matches_reference]; returns float64 `(N, C_out, *o)`.

    `o = floor((i + pb + pe - d*(k-1) - 1)/s) + 1` per axis; `pads` are `(begin, end)` pairs or
    "VALID" / "SAME_UPPER" / "SAME_LOWER".
    """
    x, w, b, strides, pads, dilations, groups, _ = _conv_setup(x, w, b, strides, pads,
                                                              dilations, groups)
    return _add_bias(_correlate(x, w, strides, dilations, groups, pads=pads), b)


def _conv_transpose_setup(x, w, b, strides, pads, dilations, groups, output_padding):
    x = as_batch("x", x)
    ndim, strides, dilations, groups = _geometry(x, w, strides, dilations, groups)
    w = _weight(w, ndim)
    if x.shape[1] != w.shape[0]:
        raise ValueError(
            f"x.shape[1]={x.shape[1]}, but w.shape[0]={w.shape[0]}: a transposed-conv weight is "
            f"(C_in, C_out/groups, *k) [x.shape={x.shape}, w.shape={w.shape}]"
        )
    _check_groups("x.shape[1] (C_in)", x.shape[1], groups)
    out_channels = w.shape[1] * groups
    b = _bias(b, out_channels)
    pads, output_padding = resolve_conv_transpose_pads(
        pads, x.shape[2:], w.shape[2:], strides=strides, dilations=dilations,
        output_padding=output_padding)
    out_shape = tuple(
        conv_transpose_output_size(i, k, stride=s, pads=p, dilation=d, output_padding=a)
        for i, k, s, p, d, a in zip(x.shape[2:], w.shape[2:], strides, pads, dilations,
                                    output_padding)
    )
    return x, w, b, strides, pads, dilations, groups, output_padding, out_shape


def _scatter_transpose(x, w, strides, pads, dilations, groups, output_padding):
    """Scatter form of the transposed conv, without bias: per-tap products, then window_scatter,
    one sample at a time (its products and output stay in cache: 1.3-1.5x at x (8,16,32,32))."""
    n, channels, spatial = x.shape[0], x.shape[1], x.shape[2:]
    group_in, group_out, kernel = channels // groups, w.shape[1], w.shape[2:]
    taps = w.reshape(groups, group_in, group_out * math.prod(kernel)).swapaxes(1, 2)
    full = tuple((i - 1) * s + d * (k - 1) + 1 + a
                 for i, k, s, d, a in zip(spatial, kernel, strides, dilations, output_padding))
    crops = tuple((-pb, -pe) for pb, pe in pads)

    def one(sample):
        cols = np.matmul(taps, sample.reshape(1, groups, group_in, math.prod(spatial)))
        cols = cols.reshape((1, groups * group_out) + kernel + spatial)
        return pad(window_scatter(cols, full, strides, dilations), crops)

    first = one(x[:1] if n else np.zeros((1,) + x.shape[1:]))  # the output shape
    y = np.empty((n,) + first.shape[1:])
    for index in range(n):
        y[index] = (first if index == 0 else one(x[index:index + 1]))[0]
    return y


def conv_transpose(x, w, b=None, *, strides, pads, dilations, groups, output_padding):
    """N-d grouped transposed conv [conv_transpose.output_size]; returns float64 `(N, C_out, *o)`.

    `o = (i-1)*s - pb - pe + d*(k-1) + a + 1`. The output padding `a` adds positions at the end
    that no input reaches except through taps past the cropped end. With a SAME mode the output
    size is `i*s` (see `resolve_conv_transpose_pads`).
    """
    x, w, b, strides, pads, dilations, groups, output_padding, _ = _conv_transpose_setup(
        x, w, b, strides, pads, dilations, groups, output_padding)
    return _add_bias(
        _scatter_transpose(x, w, strides, pads, dilations, groups, output_padding), b)


def conv_vjp(x, w, b, cotangent, *, strides, pads, dilations, groups):
    """`(dx, dw, db)` of `conv` [grad.conv.input, grad.conv.weight]; `db` is None without bias.

    `dx` is the transposed conv of the cotangent with the output padding that restores `x`'s
    shape; `dw` correlates the padded `x` with the cotangent; `db` sums it over N and space.
    """
    x, w, b, strides, pads, dilations, groups, out_shape = _conv_setup(
        x, w, b, strides, pads, dilations, groups)
    dy = as_cotangent(cotangent, (x.shape[0], w.shape[0]) + out_shape)
    restore = tuple(
        conv_transpose_roundtrip_padding(i, k, stride=s, pads=p, dilation=d)
        for i, k, s, p, d in zip(x.shape[2:], w.shape[2:], strides, pads, dilations)
    )
    dx = _scatter_transpose(dy, w, strides, pads, dilations, groups, restore)
    dw = _weight_grad(pad(x, pads), dy, w.shape[2:], strides, dilations, groups)
    db = None if b is None else dy.sum(axis=(0,) + tuple(range(2, dy.ndim)))
    return dx, dw, db


def conv_transpose_vjp(x, w, b, cotangent, *, strides, pads, dilations, groups, output_padding):
    """`(dx, dw, db)` of `conv_transpose`: `dx` is the conv of the cotangent with the same `w`."""
    x, w, b, strides, pads, dilations, groups, output_padding, out_shape = (
        _conv_transpose_setup(x, w, b, strides, pads, dilations, groups, output_padding))
    dy = as_cotangent(cotangent, (x.shape[0], w.shape[1] * groups) + out_shape)
    dy_padded = pad(dy, pads)
    dx = _correlate(dy_padded, w, strides, dilations, groups, out_shape=x.shape[2:])
    dw = _weight_grad(dy_padded, x, w.shape[2:], strides, dilations, groups)
    db = None if b is None else dy.sum(axis=(0,) + tuple(range(2, dy.ndim)))
    return dx, dw, db


def conv_matrix(w, input_shape, *, strides, pads, dilations, groups=1) -> np.ndarray:
    """The unrolled `C` with `vec(conv(x)) = C @ vec(x)` for one sample, bias left out [conv.matrix_form].

    Shape `(C_out * prod(o), C_in * prod(i))`, rows and columns in row-major (channel, *space)
    order. Worked example: a 3x3 kernel on a 4x4 input gives a 4x16 `C`; `C.T` maps the 2x2
    output back to a 4x4 map of the input's shape, not its values [conv_transpose.matrix_transpose].
    Built from index arithmetic, not by calling `conv`, so the two check each other.
    """
    ndim = len(input_shape) - 1
    if ndim < 1:
        raise ValueError(f"input_shape={tuple(input_shape)}: must be (C_in, *spatial)")
    w = _weight(w, ndim)
    strides = per_axis("strides", strides, ndim, at_least=1, what="stride")
    dilations = per_axis("dilations", dilations, ndim, at_least=1, what="dilation")
    groups = check_int("groups", groups, at_least=1, what="group count")
    channels, spatial = input_shape[0], tuple(input_shape[1:])
    out_channels, group_channels, kernel = w.shape[0], w.shape[1], w.shape[2:]
    if channels != group_channels * groups:
        raise ValueError(
            f"input_shape[0]={channels}, but w.shape[1] * groups = {group_channels * groups}")
    _check_groups("w.shape[0] (C_out)", out_channels, groups)
    pads = resolve_pads(pads, spatial, kernel, strides=strides, dilations=dilations)
    out = tuple(conv_output_size(i, k, stride=s, pads=p, dilation=d)
                for i, k, s, p, d in zip(spatial, kernel, strides, pads, dilations))

    # Index grids over (o_ch, c, *t, *m): the input position of each product.
    grid = np.indices((out_channels, group_channels) + out + kernel, sparse=True)
    o_ch, c = grid[0], grid[1]
    t, m = grid[2:2 + ndim], grid[2 + ndim:]
    positions = [t[a] * strides[a] + m[a] * dilations[a] - pads[a][0] for a in range(ndim)]
    inside = np.ones((), dtype=bool)
    for a in range(ndim):
        inside = inside & (positions[a] >= 0) & (positions[a] < spatial[a])
    in_channel = (o_ch // (out_channels // groups)) * group_channels + c
    row = o_ch * math.prod(out)
    col = in_channel * math.prod(spatial)
    for a in range(ndim):
        row = row + t[a] * math.prod(out[a + 1:])
        col = col + np.clip(positions[a], 0, spatial[a] - 1) * math.prod(spatial[a + 1:])
    values = w.reshape((out_channels, group_channels) + (1,) * ndim + kernel)
    shape = np.broadcast_shapes(row.shape, col.shape, inside.shape, values.shape)
    row, col, inside, values = (np.broadcast_to(a, shape) for a in (row, col, inside, values))
    matrix = np.zeros((out_channels * math.prod(out), channels * math.prod(spatial)))
    np.add.at(matrix, (row[inside], col[inside]), values[inside])
    return matrix
