"""The one window primitive that conv, transposed conv and pooling share, and its building blocks.

Arrays are channels-first, `(N, C, *spatial)` with 1 to 3 spatial axes. As in JAX's
`lax_reference`, a windowed op is a strided view of the padded input plus a reduction over the
window axes; its adjoint (`window_scatter`) adds window values back into place. Neither loops
over output positions: the only Python loops run over the taps of one kernel.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


def as_float64(name: str, x) -> np.ndarray:
    """`x` as a float64 array (from float16, bfloat16, float32, float64 or ints); else ValueError."""
    array = np.asarray(x)
    if array.dtype.kind not in "fiub" and array.dtype.name not in ("bfloat16",):
        raise ValueError(f"{name}.dtype={array.dtype}: must be a real floating or integer dtype")
    return np.asarray(array, dtype=np.float64)  # no copy when it already is float64


def as_batch(name: str, x, *, min_spatial: int = 1, max_spatial: int = 3) -> np.ndarray:
    """A float64 `(N, C, *spatial)` array with `min_spatial..max_spatial` spatial axes."""
    array = as_float64(name, x)
    spatial = array.ndim - 2
    if not min_spatial <= spatial <= max_spatial:
        raise ValueError(
            f"{name}.shape={array.shape}: must be (N, C, *spatial) with {min_spatial} to "
            f"{max_spatial} spatial axes"
        )
    return array


def as_cotangent(cotangent, shape) -> np.ndarray:
    """The cotangent of a VJP as float64; it must have the output's `shape`."""
    dy = as_float64("cotangent", cotangent)
    if dy.shape != tuple(shape):
        raise ValueError(f"cotangent.shape={dy.shape}: must be the output's shape {tuple(shape)}")
    return dy


def pad(x: np.ndarray, pads, value: float = 0.0) -> np.ndarray:
    """Pads the spatial axes of `(N, C, *spatial)` by `pads = ((begin, end), ...)`, one pair per axis.

    A negative amount crops instead (StableHLO `pad`: "the absolute value of negative padding
    indicates the number of elements to remove"): the padded length is always `i + begin + end`
    (at least 0). Always returns a new array (or a view of one).
    """
    x = np.asarray(x)
    spatial = x.ndim - 2
    if len(pads) != spatial:
        raise ValueError(f"pads={pads!r}: needs one (begin, end) pair per spatial axis ({spatial})")
    grown = tuple(max(begin, 0) + size + max(end, 0)
                  for (begin, end), size in zip(pads, x.shape[2:]))
    out = np.full(x.shape[:2] + grown, value, dtype=np.result_type(x.dtype, type(value)))
    out[(slice(None), slice(None)) + tuple(slice(max(begin, 0), max(begin, 0) + size)
                                           for (begin, _), size in zip(pads, x.shape[2:]))] = x
    # then negative amounts crop the padded array (so a crop may eat the other side's padding)
    kept = tuple(slice(max(-begin, 0), max(n - max(-end, 0), max(-begin, 0)))
                 for (begin, end), n in zip(pads, grown))
    return out[(slice(None), slice(None)) + kept]


def zero_insert(x: np.ndarray, strides) -> np.ndarray:
    """Inserts `s - 1` zeros between neighbours along each spatial axis: length `(i-1)*s + 1`.

    Transposed conv's first step ("fill s-1 rows and columns of zeros between the
    elements"), StableHLO's `lhs_dilation`; on a kernel it turns dilation into a sparse kernel.
    """
    x = np.asarray(x)
    strides = tuple(strides)
    shape = x.shape[:2] + tuple((n - 1) * s + 1 for n, s in zip(x.shape[2:], strides))
    out = np.zeros(shape, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in strides)] = x
    return out


def flip(w: np.ndarray) -> np.ndarray:
    """Reverses every spatial axis of a `(O, I, *k)` kernel (up-down and left-right in 2-D)."""
    w = np.asarray(w)
    return w[(slice(None), slice(None)) + (slice(None, None, -1),) * (w.ndim - 2)]


def window_view(x: np.ndarray, kernel_shape, strides, dilations, out_shape=None) -> np.ndarray:
    """Read-only strided view `(N, C, *k, *o)` of the windows of an already padded `(N, C, *spatial)`.

    `view[n, c, m..., t...] = x[n, c, t*s + m*d ...]`; `o` is the number of whole windows,
    `(size - d*(k-1) - 1) // s + 1`, unless `out_shape` asks for fewer. Taps come before
    positions, so that `view.reshape(N, C * prod(k), prod(o))` is the im2col matrix, copied as
    contiguous row slabs, and a reduction over the taps runs over whole slabs.
    """
    spatial = x.shape[2:]
    full = tuple((n - d * (k - 1) - 1) // s + 1
                 for n, k, s, d in zip(spatial, kernel_shape, strides, dilations))
    out_shape = full if out_shape is None else tuple(out_shape)
    if any(o < 1 or o > f for o, f in zip(out_shape, full)):
        raise ValueError(f"window_view: out_shape={out_shape} does not fit the {full} windows")
    byte_strides = x.strides[2:]
    return as_strided(
        x,
        shape=x.shape[:2] + tuple(kernel_shape) + out_shape,
        strides=x.strides[:2]
        + tuple(b * d for b, d in zip(byte_strides, dilations))
        + tuple(b * s for b, s in zip(byte_strides, strides)),
        writeable=False,
    )


def window_scatter(windows: np.ndarray, spatial_shape, strides, dilations) -> np.ndarray:
    """Adjoint of `window_view`: adds `windows (N, C, *k, *o)` back into a zero `(N, C, *spatial)`.

    `out[n, c, t*s + m*d] += windows[n, c, m, t]`, summing where windows overlap. Loops over the
    `prod(k)` kernel taps only.
    """
    spatial = len(spatial_shape)
    kernel_shape = windows.shape[2:2 + spatial]
    out_shape = windows.shape[2 + spatial:]
    out = np.zeros(windows.shape[:2] + tuple(spatial_shape), dtype=windows.dtype)
    for tap in np.ndindex(*kernel_shape):
        target = tuple(
            slice(m * d, m * d + (o - 1) * s + 1, s)
            for m, d, o, s in zip(tap, dilations, out_shape, strides)
        )
        out[(slice(None), slice(None)) + target] += windows[(slice(None), slice(None)) + tap]
    return out
