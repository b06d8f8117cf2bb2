"""Hypothesis strategies for the conformance checks: geometries valid by construction (no
`assume` storms), and values that the rules need (ties, NaN, +-inf, huge and tiny magnitudes,
subnormals) in each dtype. Coupled draws come back as NamedTuples whose `params` are the
adapter call's keywords.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import ml_dtypes
import numpy as np
from hypothesis import strategies as st

from cnnspec.adapters.capabilities import DTYPES, PAD_MODES
from cnnspec.spec import (conv_output_size, conv_transpose_output_size, pool_output_size,
                          resolve_conv_transpose_pads, resolve_pads)

from . import region


def as_dtype(name: str):
    return ml_dtypes.bfloat16 if name == "bfloat16" else np.dtype(name)


@st.composite
def dtypes(draw, names=DTYPES):
    """One of `names` that the adapter declares (region.py)."""
    return draw(st.sampled_from(region.dtypes_within(tuple(names))))


def dtype_or(draw, dtype: str | None) -> str:
    """`dtype` when a check fixes it (OutsideRegion if the adapter lacks it), else a drawn one."""
    return draw(dtypes()) if dtype is None else region.dtypes_within((dtype,))[0]


@st.composite
def spatial_ranks(draw, low: int = 1, high: int = 3):
    """A number of spatial axes in [low, high] that the adapter declares."""
    return draw(st.sampled_from(region.ranks_within(low, high)))


def pad_pair(draw, op: str, high: int, total: int | None = None) -> tuple[int, int]:
    """(begin, end) padding of one axis, each in [0, high] and together at most `total` when
    given, inside what the adapter declares for `op`: zero without explicit padding,
    begin == end without asymmetric padding."""
    total = 2 * high if total is None else total
    if high <= 0 or total <= 0 or not region.allows("explicit_pads", op):
        return (0, 0)
    if not region.allows("asymmetric_pads", op):
        begin = draw(st.integers(0, min(high, total // 2)))
        return (begin, begin)
    begin = draw(st.integers(0, min(high, total)))
    return (begin, draw(st.integers(0, min(high, total - begin))))


def pad_mode(draw, op: str, modes=PAD_MODES) -> str:
    """One of the padding `modes` that the adapter declares for `op` (OutsideRegion if none)."""
    kept = region.modes_within(op, modes)
    if not kept:
        raise region.OutsideRegion(region.active().reason(
            modes[0], f"the adapter declares no {' or '.join(modes)} padding for {op}", op))
    return draw(st.sampled_from(kept))


def dilation(draw, op: str, high: int) -> int:
    """A dilation in [1, high]; 1 on an adapter without dilations for `op`."""
    return draw(st.integers(1, high)) if region.allows("dilations", op) else 1


@st.composite
def count_include_pads(draw) -> bool:
    """avg_pool's count_include_pad: either value the adapter declares (with padding, True is
    the option "count_include_pad" and False "exclude_pad")."""
    counts = [value for value, option in ((True, "count_include_pad"), (False, "exclude_pad"))
              if region.allows(option, "avg_pool")]
    return draw(st.sampled_from(counts or [True]))


def flag(draw, option: str, op: str, fixed: bool | None = None) -> bool:
    """A boolean keyword whose True value is `option`: drawn, or `fixed` (OutsideRegion when a
    check fixes True on an adapter without the option)."""
    if fixed is not None:
        if fixed:
            region.require(option, op)
        return fixed
    return draw(st.booleans()) if region.allows(option, op) else False


# Every element below comes from a Hypothesis byte string (`codes`): one choice however large
# the array (as fast as the seeded generator it replaces; drawing element by element with
# hypothesis.extra.numpy.arrays made the numpy adapter's suite 1.8x slower), and the shrinker
# still moves each element on its own, each byte toward 0, which decodes to the element's
# simplest value (0 first).

# The values of the exact styles, by style (small integers are exact in every dtype), the
# simplest first.
STYLE_VALUES = {"integers": np.array([0.0, -1.0, 1.0, -2.0, 2.0, -3.0, 3.0, -4.0, 4.0]),
                "ties": np.array([0.0, -1.0, 2.0]),
                "infinities": np.array([0.0, -1.0, 2.0, -np.inf, np.inf])}
NORMAL_TOP = 4  # "normal" elements lie in [-4, 4]
WIDE = 6  # "wide" ones are "normal" ones times 2**e, e in [-WIDE, WIDE]


def codes(draw, n: int, width: int = 1) -> np.ndarray:
    """`n` integers in [0, 256**width), each from `width` bytes (high byte first) of one drawn
    byte string: Hypothesis shrinks it byte by byte toward zeros, and when the array's shape
    shrinks, it keeps the string's prefix (its elements in order)."""
    raw = draw(st.binary(min_size=n * width, max_size=n * width))
    parts = np.frombuffer(raw, np.uint8).reshape(n, width).astype(np.int64)
    return parts @ (256 ** np.arange(width - 1, -1, -1, dtype=np.int64))


def signed(code: np.ndarray) -> np.ndarray:
    """0, 1, 2, 3, 4, ... as 0, -1, 1, -2, 2, ...: the smaller the code, the smaller |value|."""
    return np.where(code % 2 == 1, -(code + 1) // 2, code // 2)


def picks(draw, n: int, pool) -> np.ndarray:
    """`n` elements of `pool` (a sequence, its simplest value first), each drawn."""
    pool = np.asarray(pool, dtype=np.float64)
    return pool[codes(draw, n) % len(pool)]


def normals(draw, n: int, top: float = NORMAL_TOP) -> np.ndarray:
    """`n` floats in [-top, top], each drawn on a grid of top * 2**-23 (3 bytes; 2 bytes and
    a grid of top * 2**-15 beyond 512 elements, 1 byte and top * 2**-7 beyond 2048, so that
    an example stays within Hypothesis' 8 KiB of choices): more bits than float16 and bfloat16
    hold, so that their casts round."""
    width = 3 if n <= 512 else 2 if n <= 2048 else 1
    half = 2 ** (8 * width - 1)
    return np.clip(signed(codes(draw, n, width)), -half + 1, half - 1) * (top / (half - 1))


def values(draw, shape, dtype: str, style: str) -> np.ndarray:
    """An array of `shape` in `dtype`, every element drawn by Hypothesis (`codes`), so that a
    failing example shrinks element by element, each toward 0.

    Styles: "integers" (small, exact in every dtype: short reproducers, many ties), "normal"
    (in [-4, 4]), "ties" (few distinct values), "wide" (magnitudes over many binades: "normal"
    times 2**-6 to 2**6), "infinities" (+-inf among a few integers: for max pooling). How
    large the integers are (1 to 4: shrinks to -1, 0, 1) and whether the float styles are
    rounded to integers (shrinks to rounded) are drawn too.
    """
    size = math.prod(shape)
    count = kept_count(draw, size)
    if style in STYLE_VALUES:
        pool = STYLE_VALUES[style]
        if style == "integers":
            pool = pool[: 2 * draw(st.integers(1, 4)) + 1]
        array = picks(draw, size, pool)
    else:
        rounded = draw(st.sampled_from((True, False, False, False)))  # first: shrinks to rounded
        array = normals(draw, size)
        if style == "wide":
            array = array * 2.0 ** signed(codes(draw, size) % (2 * WIDE + 1))
        if rounded:
            array = np.round(array)
    # the rest is max pooling's identity for "infinities" (windows of -inf alone), else 0
    background = -np.inf if style == "infinities" else 0.0
    return kept(draw, array, count, background).reshape(shape).astype(as_dtype(dtype))


def kept_count(draw, size: int) -> int:
    """How many of `size` elements keep their drawn value (`kept`): all in 3 draws of 4 (and
    in the simplest), else any number below. Drawn before the elements, so that it keeps its
    place among the choices when the shape shrinks."""
    spare = draw(st.integers(0, 4 * size))
    return size if spare <= 3 * size else 4 * size - spare


def kept(draw, array: np.ndarray, count: int, background: float = 0.0) -> np.ndarray:
    """`array` (flat) with all its elements, or the first `count` of a drawn ordering, the
    others set to `background`: ties with the background, any number of them."""
    if count >= array.size:
        return array
    array = array.copy()
    array[orderings(draw, array.size, width=1)[count:]] = background
    return array


def orderings(draw, n: int, width: int = 2) -> np.ndarray:
    """A permutation of range(n): the order that sorts n drawn keys (`width` bytes each; ties
    kept in index order), any permutation of up to 256**width elements reachable. Shrinks to
    the identity (all keys 0)."""
    return np.argsort(codes(draw, n, width), kind="stable")


def distinct(draw, x: np.ndarray) -> np.ndarray:
    """`x`'s shape with distinct values (a drawn ordering of a range centred on 0, `orderings`):
    no ties. In `x`'s dtype when it holds that many integers exactly (float16: 2048, bfloat16:
    256), else in float32."""
    n = x.size
    exact = {"float16": 2048, "bfloat16": 256}.get(x.dtype.name, 2**24)
    dtype = x.dtype if n <= exact else np.dtype(np.float32)
    return (orderings(draw, n).reshape(x.shape) - n // 2).astype(dtype)


VALUE_STYLES = ("integers", "normal", "ties", "wide")


class ConvCase(NamedTuple):
    """A conv or transposed-conv call: arrays, keywords, and the output shape the spec gives."""

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray | None
    params: dict
    out_shape: tuple

    @property
    def dtype(self) -> str:
        return self.x.dtype.name


class PoolCase(NamedTuple):
    x: np.ndarray
    params: dict
    out_shape: tuple

    @property
    def dtype(self) -> str:
        return self.x.dtype.name


def _axis_sizes(draw, k, s, d, pb, pe, size):
    extent = d * (k - 1) + 1
    return draw(st.integers(max(1, extent - pb - pe), max(size, extent)))


def _conv_arrays(draw, spatial, w_shape, channels, out_channels, dtype, style, bias):
    """Input, weight and optional bias of a (transposed) conv call, in one dtype and style."""
    dtype = dtype_or(draw, dtype)
    style = draw(st.sampled_from(VALUE_STYLES[:2])) if style is None else style
    batch = draw(st.integers(1, 2))
    x = values(draw, (batch, channels, *spatial), dtype, style)
    w = values(draw, w_shape, dtype, style)
    with_bias = draw(st.booleans()) if bias is None else bias
    b = values(draw, (out_channels,), dtype, style) if with_bias else None
    return batch, x, w, b


@st.composite
def conv_cases(draw, *, max_ndim=3, dtype=None, groups=True, min_groups=1, bias=None,
               strides=True, dilations=True, pads=True, style=None, max_size=7):
    """Conv calls: 1-3 spatial axes, stride larger than kernel, dilation, asymmetric pads,
    groups (depthwise: one input channel per group), size-1 axes, outputs of size exactly 1."""
    ndim = draw(spatial_ranks(1, max_ndim))
    size = max_size if ndim < 3 else min(max_size, 5)
    if min_groups > 1:
        region.require("groups", "conv")
    groups = groups and region.allows("groups", "conv")
    g = draw(st.sampled_from([n for n in (1, 1, 2, 3) if n >= min_groups])) if groups else 1
    group_in = draw(st.integers(1, 3 if g > 1 else 2))
    group_out = draw(st.integers(1, 2))
    kernel, stride, dilation, pad, spatial = [], [], [], [], []
    for _ in range(ndim):
        k = draw(st.integers(1, 4))
        s = draw(st.integers(1, 4)) if strides else 1
        d = draw(st.integers(1, 3)) if dilations and region.allows("dilations", "conv") else 1
        pb, pe = pad_pair(draw, "conv", 3 if pads else 0)
        spatial.append(_axis_sizes(draw, k, s, d, pb, pe, size))
        kernel.append(k), stride.append(s), dilation.append(d), pad.append((pb, pe))
    batch, x, w, b = _conv_arrays(draw, spatial, (group_out * g, group_in, *kernel),
                                  group_in * g, group_out * g, dtype, style, bias)
    params = dict(strides=tuple(stride), pads=tuple(pad), dilations=tuple(dilation), groups=g)
    out = tuple(conv_output_size(i, k, stride=s, pads=p, dilation=d)
                for i, k, s, p, d in zip(spatial, kernel, stride, pad, dilation))
    return ConvCase(x, w, b, params, (batch, group_out * g) + out)


@st.composite
def conv_transpose_cases(draw, *, max_ndim=3, dtype=None, bias=None, style=None, max_size=5,
                         min_groups=1):
    """Transposed-conv calls with output padding below max(stride, dilation); with
    `min_groups` > 1, that many groups or more, each with 2 output channels (a per-channel
    quantity such as the bias then differs from a per-group one)."""
    ndim = draw(spatial_ranks(1, max_ndim))
    size = max_size if ndim < 3 else min(max_size, 3)
    if min_groups > 1:
        region.require("groups", "conv_transpose")
    g = (draw(st.sampled_from([1, 1, 2] if min_groups == 1 else [2, 3]))
         if region.allows("groups", "conv_transpose") else 1)
    group_in = draw(st.integers(1, 2))
    group_out = 2 if min_groups > 1 else draw(st.integers(1, 2))
    kernel, stride, dilation, pad, spatial, output_padding = [], [], [], [], [], []
    for _ in range(ndim):
        i, k = draw(st.integers(1, size)), draw(st.integers(1, 4))
        s = draw(st.integers(1, 3))
        d = draw(st.integers(1, 2)) if region.allows("dilations", "conv_transpose") else 1
        a = (draw(st.integers(0, max(s, d) - 1))
             if region.allows("output_padding", "conv_transpose") else 0)
        room = (i - 1) * s + d * (k - 1) + a  # the output keeps at least one element
        pb, pe = pad_pair(draw, "conv_transpose", 3, total=room)
        spatial.append(i), kernel.append(k), stride.append(s), dilation.append(d)
        pad.append((pb, pe)), output_padding.append(a)
    batch, x, w, b = _conv_arrays(draw, spatial, (group_in * g, group_out, *kernel),
                                  group_in * g, group_out * g, dtype, style, bias)
    mode = draw(st.sampled_from((None,) * 5 + region.modes_within("conv_transpose", PAD_MODES)))
    if mode is not None:  # the framework's own padding mode: no output padding, sizes resolved
        pad, output_padding = resolve_conv_transpose_pads(
            mode, tuple(spatial), tuple(kernel), strides=tuple(stride),
            dilations=tuple(dilation), output_padding=(0,) * ndim)
    params = dict(strides=tuple(stride), pads=mode or tuple(pad), dilations=tuple(dilation),
                  groups=g, output_padding=(0,) * ndim if mode else tuple(output_padding))
    out = tuple(conv_transpose_output_size(i, k, stride=s, pads=p, dilation=d, output_padding=a)
                for i, k, s, p, d, a in zip(spatial, kernel, stride, pad, dilation,
                                            output_padding))
    return ConvCase(x, w, b, params, (batch, group_out * g) + out)


@st.composite
def pool_cases(draw, *, op="max_pool", max_ndim=3, dtype=None, ceil_mode=None, dilations=None,
               style=None, max_size=9, pads=True):
    """Pooling calls with pads <= k // 2 (the portable limit: PyTorch rejects more), stride
    larger than kernel, dilation (max only), ceil mode including a last window that starts in
    the end padding or on the last input element."""
    ndim = draw(spatial_ranks(1, max_ndim))
    size = max_size if ndim < 3 else min(max_size, 5)
    if dilations:
        region.require("dilations", op)
    with_dilation = (op == "max_pool") if dilations is None else dilations
    with_dilation = with_dilation and region.allows("dilations", op)
    kernel, stride, dilation, pad, spatial = [], [], [], [], []
    for _ in range(ndim):
        k, s = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        d = draw(st.integers(1, 2)) if with_dilation else 1
        pb, pe = pad_pair(draw, op, k // 2 if pads else 0)
        spatial.append(_axis_sizes(draw, k, s, d, pb, pe, size))
        kernel.append(k), stride.append(s), dilation.append(d), pad.append((pb, pe))
    ceil = flag(draw, "ceil_mode", op, ceil_mode)
    fits = all(i >= d * (k - 1) + 1 for i, k, d in zip(spatial, kernel, dilation))
    modes = region.modes_within(op, PAD_MODES if fits else PAD_MODES[1:])  # VALID: whole windows
    mode = draw(st.sampled_from((None, None) + modes)) if pads and not ceil else None
    if mode is not None:  # the framework's own padding mode, resolved to pads for the sizes
        pad = list(resolve_pads(mode, tuple(spatial), tuple(kernel), strides=tuple(stride),
                                dilations=tuple(dilation)))
    dtype = dtype_or(draw, dtype)
    styles = VALUE_STYLES + (("infinities",) if op == "max_pool" else ())
    style = draw(st.sampled_from(styles)) if style is None else style
    x = values(draw, (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *spatial), dtype, style)
    params = dict(kernel_shape=tuple(kernel), strides=tuple(stride), pads=mode or tuple(pad))
    if op == "max_pool":
        params.update(dilations=tuple(dilation), ceil_mode=ceil)
    else:
        params.update(ceil_mode=ceil, count_include_pad=draw(count_include_pads()))
    out = tuple(pool_output_size(i, k, stride=s, pads=p, dilation=d, ceil_mode=ceil)
                for i, k, s, p, d in zip(spatial, kernel, stride, pad, dilation))
    return PoolCase(x, params, x.shape[:2] + out)


@st.composite
def with_cotangent(draw, cases):
    """(case, dy): a drawn case (a ConvCase, a PoolCase, or an array whose output has its
    shape) and a cotangent of its output's shape and dtype, in small integers."""
    case = draw(cases)
    if isinstance(case, np.ndarray):
        return case, values(draw, case.shape, case.dtype.name, "integers")
    return case, values(draw, case.out_shape, case.dtype, "integers")


@st.composite
def without_ties(draw, cases):
    """Cases (PoolCase) whose input has distinct values (`distinct`): for the rules where a
    tie would make the expected element ambiguous."""
    case = draw(cases)
    return case._replace(x=distinct(draw, case.x))


def pool_case(x, op="max_pool", **params) -> PoolCase:
    """A pinned pooling case (for `@example`), with its expected output shape."""
    dilations = params.get("dilations", (1,) * (x.ndim - 2))
    pads = params["pads"]
    if isinstance(pads, str):  # the framework's own padding mode, resolved to pads for the sizes
        pads = resolve_pads(pads, x.shape[2:], params["kernel_shape"],
                            strides=params["strides"], dilations=dilations)
    out = tuple(pool_output_size(i, k, stride=s, pads=p, dilation=d,
                                 ceil_mode=params["ceil_mode"])
                for i, k, s, p, d in zip(x.shape[2:], params["kernel_shape"], params["strides"],
                                         pads, dilations))
    return PoolCase(x, params, x.shape[:2] + out)


@st.composite
def feature_maps(draw, max_ndim=3):
    """(N, C, *spatial) inputs of the shape-preserving and resampling ops: 1-3 spatial axes."""
    dtype = draw(dtypes())
    spatial = tuple(draw(st.integers(1, 6)) for _ in range(draw(spatial_ranks(1, max_ndim))))
    return values(draw, (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + spatial,
                  dtype, "normal")


@st.composite
def adaptive_calls(draw):
    """(x, output_size): output sizes from 1 to 6 per axis, above and below the input's."""
    x = draw(feature_maps())
    return x, tuple(draw(st.integers(1, 6)) for _ in range(x.ndim - 2))


@st.composite
def upsample_calls(draw):
    """(x, scale_factors): integer factors 1 to 3 per axis."""
    x = draw(feature_maps())
    return x, tuple(draw(st.integers(1, 3)) for _ in range(x.ndim - 2))


@st.composite
def shuffle_calls(draw):
    """(x, upscale_factor) with C = C_out * r * r, r from 1 to 3."""
    draw(spatial_ranks(2, 2))  # pixel shuffle is defined on 2 spatial axes
    r = draw(st.integers(1, 3))
    x = values(draw, (draw(st.integers(1, 2)), r * r * draw(st.integers(1, 2)),
                      draw(st.integers(1, 4)), draw(st.integers(1, 4))), draw(dtypes()), "normal")
    return x, r


class OnAxis(NamedTuple):
    """Arrays reduced along `axis` (as the call spells it: non-negative or negative), and the
    same arrays with that axis last (`last`), on which the reference and the tolerances work."""

    arrays: tuple
    axis: int
    last: tuple

    @property
    def x(self):
        return self.arrays[0]

    def back(self, got) -> np.ndarray:
        """An output of the adapter with the reduction axis last again (as it came when its
        shape is not the input's: the comparison then fails on the shape)."""
        got = np.asarray(got)
        return np.moveaxis(got, self.axis, -1) if got.shape == self.x.shape else got


def on_last_axis(*arrays) -> OnAxis:
    """Pinned arrays (for `@example`) reduced along their last axis."""
    return OnAxis(arrays, -1, arrays)


@st.composite
def on_an_axis(draw, arrays, *, extra_axes=True):
    """`arrays` (a strategy of one array or a tuple of equal shapes, reduced along the last
    axis) as one row (rank 1) or with up to SOFTMAX_MAX_EXTRA_AXES more axes of size 1 or 2
    (the values repeated), the reduction axis moved to any position, spelled either way.
    `extra_axes=False` keeps the rows as drawn."""
    from .domains import SOFTMAX_MAX_EXTRA_AXES

    drawn = draw(arrays)
    drawn = drawn if isinstance(drawn, tuple) else (drawn,)
    if extra_axes and draw(st.integers(0, 3)) == 0:  # a quarter of the draws: one row, rank 1
        drawn = tuple(a[(0,) * (a.ndim - 1)] for a in drawn)
    rows, n = drawn[0].shape[:-1], drawn[0].shape[-1]
    extra = tuple(draw(st.lists(st.integers(1, 2), max_size=SOFTMAX_MAX_EXTRA_AXES))
                  if extra_axes and rows else ())
    shape = (*rows, *extra, n)
    last = tuple(np.broadcast_to(a.reshape((*rows, *(1,) * len(extra), n)), shape).copy()
                 for a in drawn)
    position = draw(st.integers(0, len(shape) - 1))
    axis = position - len(shape) if draw(st.booleans()) else position
    return OnAxis(tuple(np.ascontiguousarray(np.moveaxis(a, -1, position)) for a in last),
                  axis, last)


@st.composite
def logits(draw, *, dtype=None, min_len=1, max_len=8, rows=3, style=None):
    """Softmax inputs `(rows, n)` with the axis last; styles add huge, very negative, -inf."""
    dtype = dtype_or(draw, dtype)
    n = draw(st.integers(min_len, max_len))
    style = draw(st.sampled_from(["normal", "huge", "negative", "spread"])) if style is None \
        else style
    base = normals(draw, rows * n).reshape(rows, n)
    top = float(ml_dtypes.finfo(as_dtype(dtype)).max)
    if style == "huge":  # near the dtype's maximum: a naive exp overflows
        array = top * (0.5 + 0.25 * np.tanh(base))
    elif style == "negative":  # all very negative: a naive exp underflows to 0/0
        array = -min(1e4, top / 2) + base
    elif style == "spread":
        array = base * min(1e3, top / 8)
    else:
        array = base * 3
    return array.astype(as_dtype(dtype))


@st.composite
def activation_inputs(draw, *, dtype=None, size=12, extra=(), nan=False):
    """Inputs over the whole range: 0, the kinks, huge, tiny and subnormal magnitudes, +-inf,
    and the `extra` values a check adds; with `nan`, a NaN at a drawn position besides."""
    dtype = dtype_or(draw, dtype)
    info = ml_dtypes.finfo(as_dtype(dtype))
    specials = (0.0, -0.0, 6.0, 1.0, -1.0, float(info.max), -float(info.max), float(info.tiny),
                float(info.smallest_subnormal), 1e3, -1e3, 30.0, -30.0, np.inf, -np.inf, *extra)
    count = kept_count(draw, size)
    picked = picks(draw, size // 2, specials)
    drawn = normals(draw, size - size // 2) * 2.0 ** signed(codes(draw, size - size // 2) % 16)
    array = kept(draw, np.concatenate([picked, drawn]), count)
    if nan:
        array[draw(st.integers(0, size - 1))] = np.nan
    return array.astype(as_dtype(dtype)).reshape(1, 1, -1)
