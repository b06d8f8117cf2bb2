"""float64 reference pooling: max (with argmax), average, adaptive, global, unpooling, and VJPs.

Windows are those of `pool_output_size`: in ceil mode the last window may run past the end
padding but must start inside the input or the begin padding. Max pooling pads with `-inf`
[pool.max_padding_never_wins]; average pooling divides by the window's element count, counting
padding (clipped to the padded extent) or not [pool.avg_count_include_pad].
"""

from __future__ import annotations

import numpy as np

from ..arguments import per_axis
from ..geometry import adaptive_bins, pool_output_size, resolve_pads
from .windows import as_batch, as_cotangent, pad, window_scatter, window_view


def _pool_setup(x, kernel_shape, strides, pads, dilations, ceil_mode):
    x = as_batch("x", x)
    ndim = x.ndim - 2
    kernel = per_axis("kernel_shape", kernel_shape, ndim, at_least=1, what="kernel size")
    strides = per_axis("strides", strides, ndim, at_least=1, what="stride")
    dilations = per_axis("dilations", dilations, ndim, at_least=1, what="dilation")
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise ValueError(f"ceil_mode={ceil_mode!r}: must be True or False")
    pads = resolve_pads(pads, x.shape[2:], kernel, strides=strides, dilations=dilations)
    out = tuple(pool_output_size(i, k, stride=s, pads=p, dilation=d, ceil_mode=ceil_mode)
                for i, k, s, p, d in zip(x.shape[2:], kernel, strides, pads, dilations))
    # Ceil mode's last window may run past the end padding: pad further so that it fits.
    fitted = tuple(
        (pb, pe + max((o - 1) * s + d * (k - 1) + 1 - (i + pb + pe), 0))
        for i, k, s, d, o, (pb, pe) in zip(x.shape[2:], kernel, strides, dilations, out, pads)
    )
    return x, kernel, strides, pads, dilations, out, fitted


def _flat_windows(array, kernel, strides, dilations, out):
    """The windows as `(N, C, prod(k), *o)`: a reduction over axis 2 runs over whole slabs."""
    windows = window_view(array, kernel, strides, dilations, out)
    return windows.reshape(windows.shape[:2] + (-1,) + tuple(out))


def max_pool(x, *, kernel_shape, strides, pads, dilations, ceil_mode):
    """Max over each window [pool.max_matches_reference]; float64 `(N, C, *o)`.

    Padding is `-inf`, so it never wins; a NaN in a window propagates (IEEE/NumPy `max`); a
    window with no input element (only possible with pads >= the kernel) gives `-inf`.
    """
    x, kernel, strides, pads, dilations, out, fitted = _pool_setup(
        x, kernel_shape, strides, pads, dilations, ceil_mode)
    return _flat_windows(pad(x, fitted, -np.inf), kernel, strides, dilations, out).max(axis=2)


def max_pool_argmax(x, *, kernel_shape, strides, pads, dilations, ceil_mode):
    """Where each window's max is: int64 `(N, C, *o)`, flat indices into one `(N, C)` spatial plane.

    The PyTorch `return_indices` convention. Ties go to the first maximum in row-major scan order
    of the window [grad.max_pool.ties]; a NaN counts as the maximum; only input elements (never
    padding) are named; `-1` marks a window with no input element.
    """
    x, kernel, strides, pads, dilations, out, fitted = _pool_setup(
        x, kernel_shape, strides, pads, dilations, ceil_mode)
    values = _flat_windows(pad(x, fitted, -np.inf), kernel, strides, dilations, out)
    real = _flat_windows(pad(np.ones((1, 1) + x.shape[2:], dtype=bool), fitted, False),
                         kernel, strides, dilations, out)
    y = values.max(axis=2, keepdims=True)
    is_max = np.where(np.isnan(y), np.isnan(values), values == y) & real
    tap = is_max.argmax(axis=2)  # the first maximum in row-major scan order of the window
    taps = np.unravel_index(tap, kernel)
    starts = np.indices(out, sparse=True)
    coords = [starts[a] * strides[a] + taps[a] * dilations[a] - pads[a][0]
              for a in range(len(out))]
    index = np.ravel_multi_index([np.clip(c, 0, n - 1) for c, n in zip(coords, x.shape[2:])],
                                 x.shape[2:])
    return np.where(is_max.any(axis=2), index, -1)


def max_pool_vjp(x, cotangent, *, kernel_shape, strides, pads, dilations, ceil_mode):
    """`dx` of `max_pool` [grad.max_pool.routing]: each window's cotangent goes to its argmax only.

    Elements that are the argmax of several overlapping windows receive the sum
    [grad.max_pool.overlap_accumulates]; everything else gets 0.
    """
    x = as_batch("x", x)
    index = max_pool_argmax(x, kernel_shape=kernel_shape, strides=strides, pads=pads,
                            dilations=dilations, ceil_mode=ceil_mode)
    dy = as_cotangent(cotangent, index.shape)
    n, c = x.shape[:2]
    plane = int(np.prod(x.shape[2:]))
    index = index.reshape(n * c, -1)
    offsets = np.arange(n * c)[:, None] * plane
    keep = index >= 0
    dx = np.bincount((index + offsets)[keep], weights=dy.reshape(n * c, -1)[keep],
                     minlength=n * c * plane)
    return dx.reshape(x.shape)


def _avg_setup(x, kernel_shape, strides, pads, ceil_mode, count_include_pad):
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise ValueError(f"count_include_pad={count_include_pad!r}: must be True or False")
    x, kernel, strides, pads, dilations, out, fitted = _pool_setup(
        x, kernel_shape, strides, pads, 1, ceil_mode)
    # The divisor counts the elements of each window inside the counted region: the padded
    # extent (count_include_pad) or the input alone.
    counted = np.ones((1, 1) + x.shape[2:])
    if count_include_pad:
        counted = pad(counted, pads, 1.0)
        extra = tuple((0, pe_fit - pe) for (_, pe), (_, pe_fit) in zip(pads, fitted))
        counted = pad(counted, extra, 0.0)
    else:
        counted = pad(counted, fitted, 0.0)
    divisor = _flat_windows(counted, kernel, strides, dilations, out).sum(axis=2)
    return x, kernel, strides, dilations, out, fitted, divisor


def avg_pool(x, *, kernel_shape, strides, pads, ceil_mode, count_include_pad):
    """Window sum over the window's element count [pool.avg_matches_reference]; float64 `(N, C, *o)`.

    `count_include_pad=True` counts padding, clipped to the padded extent (PyTorch's
    `min(start + k, i + pe)`); `False` counts input elements only (ONNX default, TF always).
    A window without any counted element divides 0 by 0 and gives NaN.
    """
    x, kernel, strides, dilations, out, fitted, divisor = _avg_setup(
        x, kernel_shape, strides, pads, ceil_mode, count_include_pad)
    total = _flat_windows(pad(x, fitted, 0.0), kernel, strides, dilations, out).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / divisor


def avg_pool_vjp(x, cotangent, *, kernel_shape, strides, pads, ceil_mode, count_include_pad):
    """`dx` of `avg_pool` [grad.avg_pool.uniform]: each window spreads `dy / divisor` over its elements."""
    x, kernel, strides, dilations, out, fitted, divisor = _avg_setup(
        x, kernel_shape, strides, pads, ceil_mode, count_include_pad)
    dy = as_cotangent(cotangent, x.shape[:2] + out)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = dy / divisor
    windows = np.broadcast_to(share.reshape(share.shape[:2] + (1,) * len(kernel) + out),
                              share.shape[:2] + kernel + out)
    padded_shape = tuple(i + pb + pe for i, (pb, pe) in zip(x.shape[2:], fitted))
    full = window_scatter(windows, padded_shape, strides, dilations)
    return pad(full, tuple((-pb, -pe) for pb, pe in fitted))


def _output_size(output_size, ndim):
    return per_axis("output_size", output_size, ndim, at_least=1, what="output size")


def _averaging(i: int, o: int) -> np.ndarray:
    """The (o, i) matrix of adaptive average pooling along one axis: row j averages bin j."""
    averaging = np.zeros((o, i))
    for j, (start, end) in enumerate(adaptive_bins(i, o)):
        averaging[j, start:end] = 1.0 / (end - start)
    return averaging


def adaptive_avg_pool(x, *, output_size):
    """Mean over adaptive bins `[floor(j*I/O), ceil((j+1)*I/O))` per axis [pool.adaptive_bins].

    A box mean is separable: one averaging matrix per axis.
    """
    x = as_batch("x", x)
    out = _output_size(output_size, x.ndim - 2)
    y = x
    for axis, (i, o) in enumerate(zip(x.shape[2:], out), start=2):
        y = np.moveaxis(np.tensordot(y, _averaging(i, o), axes=([axis], [1])), -1, axis)
    return y


def adaptive_avg_pool_vjp(x, cotangent, *, output_size):
    """`dx` of `adaptive_avg_pool` [grad.adaptive_pool]: each bin's cotangent spread evenly
    over the bin, `dx[i] = sum_{j: i in bin j} dy[j] / |bin j|` (the transposed averaging
    matrices; an element in two overlapping bins gets both shares)."""
    x = as_batch("x", x)
    out = _output_size(output_size, x.ndim - 2)
    dx = as_cotangent(cotangent, x.shape[:2] + out)
    for axis, (i, o) in enumerate(zip(x.shape[2:], out), start=2):
        dx = np.moveaxis(np.tensordot(dx, _averaging(i, o), axes=([axis], [0])), -1, axis)
    return dx


def adaptive_max_pool(x, *, output_size):
    """Max over adaptive bins per axis [pool.adaptive_bins]; NaN propagates.

    A box max is separable; bins shorter than the longest repeat their first element, which
    leaves the max unchanged.
    """
    x = as_batch("x", x)
    out = _output_size(output_size, x.ndim - 2)
    y = x
    for axis, (i, o) in enumerate(zip(x.shape[2:], out), start=2):
        bins = adaptive_bins(i, o)
        longest = max(end - start for start, end in bins)
        members = np.array([[start + m if start + m < end else start for m in range(longest)]
                            for start, end in bins])
        y = np.take(y, members, axis=axis).max(axis=axis + 1)
    return y


def adaptive_max_pool_vjp(x, cotangent, *, output_size):
    """`dx` of `adaptive_max_pool` [grad.adaptive_pool]: each bin's cotangent goes to the bin's
    maximum, the first in row-major scan order of the box when tied (as for max_pool); an
    element that is the maximum of two overlapping bins gets both."""
    x = as_batch("x", x)
    out = _output_size(output_size, x.ndim - 2)
    dy = as_cotangent(cotangent, x.shape[:2] + out)
    dx = np.zeros(x.shape)
    bins = [adaptive_bins(i, o) for i, o in zip(x.shape[2:], out)]
    for position in np.ndindex(*out):
        box = tuple(slice(*axis_bins[j]) for axis_bins, j in zip(bins, position))
        values = x[(Ellipsis, *box)].reshape(x.shape[:2] + (-1,))
        top = values.max(axis=-1, keepdims=True)
        first = np.where(np.isnan(top), np.isnan(values), values == top).argmax(axis=-1)
        taps = np.unravel_index(first, tuple(s.stop - s.start for s in box))
        n, c = np.indices(x.shape[:2])
        at = (n, c, *(s.start + tap for s, tap in zip(box, taps)))
        np.add.at(dx, at, dy[(Ellipsis, *position)])
    return dx


def global_avg_pool(x):
    """Spatial mean, keeping size-1 spatial axes [pool.global_average] (ONNX GlobalAveragePool)."""
    x = as_batch("x", x)
    return x.mean(axis=tuple(range(2, x.ndim)), keepdims=True)


def max_unpool(x, indices, *, kernel_shape, strides, pads, output_size=None):
    """Writes each pooled value at its recorded flat index, zeros elsewhere [pool.max_unpool].

    Default spatial size `(i-1)*s - pb - pe + k` (PyTorch MaxUnpool, ONNX MaxUnpool), or
    `output_size`. Indices are per `(N, C)` plane, as `max_pool_argmax` gives them; where
    overlapping windows name one element twice, both carry the same pooled value.
    """
    x = as_batch("x", x)
    ndim = x.ndim - 2
    indices = np.asarray(indices)
    if indices.shape != x.shape or indices.dtype.kind not in "iu":
        raise ValueError(
            f"indices.shape={indices.shape}, dtype={indices.dtype}: must be integers of x's "
            f"shape {x.shape}")
    kernel = per_axis("kernel_shape", kernel_shape, ndim, at_least=1, what="kernel size")
    strides = per_axis("strides", strides, ndim, at_least=1, what="stride")
    pads = resolve_pads(pads, x.shape[2:], kernel, strides=strides, dilations=(1,) * ndim)
    if output_size is None:
        out = tuple((i - 1) * s - pb - pe + k
                    for i, s, (pb, pe), k in zip(x.shape[2:], strides, pads, kernel))
        out = per_axis("output size", out, ndim, at_least=1, what="output size")
    else:
        out = _output_size(output_size, ndim)
    plane = int(np.prod(out))
    if indices.size and (indices.min() < 0 or indices.max() >= plane):
        raise ValueError(
            f"indices range over [{indices.min()}, {indices.max()}]: each must lie in "
            f"[0, {plane}) for the output size {out}")
    n, c = x.shape[:2]
    y = np.zeros((n, c, plane))
    np.put_along_axis(y, indices.reshape(n, c, -1), x.reshape(n, c, -1), axis=-1)
    return y.reshape((n, c) + out)
