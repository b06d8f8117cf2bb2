"""Geometry: the output shapes of the adapter's own ops (rules.md section 1)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from cnnspec.adapters import OPS
from cnnspec.spec import effective_kernel, pool_output_size, same_pads
from cnnspec.spec import reference as ref
from cnnspec.spec.ops import OPS as TABLE

from .. import expected, region
from ..domains import alphas
from ..registry import check
from ..strategies import (
    ConvCase,
    conv_cases,
    count_include_pads,
    conv_transpose_cases,
    dilation,
    dtypes,
    pad_mode,
    pool_case,
    pool_cases,
    spatial_ranks,
    values,
)
from ..tolerance import policy

# Pinned hard cases.
PYTORCH_116420 = pool_case(np.zeros((1, 1, 9, 9), dtype=np.float32),  # the shape is the point
                           kernel_shape=(4, 4), strides=(4, 4), pads=((2, 2), (2, 2)),
                           dilations=(1, 1), ceil_mode=True)  # ceil gives 4; the 4th starts at 12
ONNX_CEIL_LAST_WINDOW_STARTS_ON_PAD = pool_case(  # ONNX test_averagepool_2d_ceil_last_window_
    # starts_on_pad: 2x2, k=3, s=3, p=1, ceil: the 2nd window would start at i + pb = 3: 1x1
    np.array([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=np.float32), op="avg_pool", kernel_shape=(3, 3),
    strides=(3, 3), pads=((1, 1), (1, 1)), ceil_mode=True, count_include_pad=True)
# Keras's and TF's 'VALID' transposed conv is (i-1)*s + max(k, s) long where the spec's is
# (i-1)*s + k (keras.toml): a kernel shorter than its stride, pinned since 40 draws can miss it.
VALID_TRANSPOSE_KERNEL_BELOW_STRIDE = ConvCase(
    np.array([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=np.float32), np.ones((1, 1, 1, 1), np.float32),
    None, dict(strides=(2, 2), pads="VALID", dilations=(1, 1), groups=1, output_padding=(0, 0)),
    (1, 1, 3, 3))
# ONNX Runtime's SAME pooling padding, (o-1)*s + k - i, is not clamped at 0 (onnxruntime.toml):
# with a kernel shorter than its stride its windows start inside the input (here at 1 and 5 of
# the last axis, not 0 and 4); pinned, since 40 draws can miss it.
SAME_POOL_KERNEL_BELOW_STRIDE = pool_case(
    np.arange(1.0, 9.0, dtype=np.float32).reshape(1, 1, 1, 8), op="avg_pool",
    kernel_shape=(1, 1), strides=(1, 4), pads="SAME_UPPER", ceil_mode=False,
    count_include_pad=False)
CEIL_WINDOW_ON_LAST_ELEMENT = pool_case(  # the ceil window starts on the last input element
    np.arange(5.0, dtype=np.float32).reshape(1, 1, 5), op="avg_pool", kernel_shape=(2,),
    strides=(2,), pads=((0, 0),), ceil_mode=True, count_include_pad=False)


@check("conv.output_size", case=conv_cases())
def conv_output_size_floors(op, case):
    out = op.conv(case.x, case.w, case.b, **case.params)
    op.expect_equal("out.shape", out.shape, case.out_shape)


def _conv_per_axis(draw, axis_case, *, valid=False):
    """A conv call on 1-3 spatial axes, each axis's kernel and pads from `axis_case(draw)`, on
    an input long enough for one window; no padding when `valid`: "VALID" (the framework's own
    mode) or zero pads."""
    ndim = draw(spatial_ranks(1, 3))
    kernels, pads, spatial = [], [], []
    for _ in range(ndim):
        k, pad = axis_case(draw)
        kernels.append(k), pads.append(pad)
        least = max(1, k - sum(pad))
        spatial.append(draw(st.integers(least, max(least, 12 if ndim == 1 else 6))))
    dtype = draw(dtypes())
    x = values(draw, (1, 2, *spatial), dtype, "integers")
    w = values(draw, (3, 2, *kernels), dtype, "integers")
    if valid:  # no padding, spelled the framework's way ("VALID") or as zero pads
        return x, w, draw(st.sampled_from(region.modes_within("conv", ("VALID",))
                                          + (tuple(pads),)))
    return x, w, tuple(pads)


@st.composite
def valid_convs(draw):
    return _conv_per_axis(draw, lambda draw: (draw(st.integers(1, 7)), (0, 0)), valid=True)


def _half(draw):
    k = 2 * draw(st.integers(0, 3)) + 1
    return k, ((k - 1) // 2, (k - 1) // 2)


@st.composite
def half_padded_convs(draw):
    return _conv_per_axis(draw, _half)


def _full(draw):
    k = draw(st.integers(1, 6))
    return k, (k - 1, k - 1)


@st.composite
def full_padded_convs(draw):
    return _conv_per_axis(draw, _full)


def _unit(x):
    """Unit strides and dilations, no groups, for the spatial axes of `x`."""
    ndim = x.ndim - 2
    return dict(strides=(1,) * ndim, dilations=(1,) * ndim, groups=1)


@check("conv.valid_padding", call=valid_convs())
def valid_conv_shrinks_by_k_minus_1(op, call):
    x, w, pads = call
    out = op.conv(x, w, pads=pads, **_unit(x))
    op.expect_equal("out.shape[2:]", out.shape[2:],
                    tuple(i - k + 1 for i, k in zip(x.shape[2:], w.shape[2:])))


@check("conv.half_padding", call=half_padded_convs())
def half_padding_keeps_the_size(op, call):
    x, w, pads = call
    out = op.conv(x, w, pads=pads, **_unit(x))
    op.expect_equal("out.shape[2:]", out.shape[2:], x.shape[2:])


@check("conv.full_padding", call=full_padded_convs())
def full_padding_grows_by_k_minus_1(op, call):
    x, w, pads = call
    out = op.conv(x, w, pads=pads, **_unit(x))
    op.expect_equal("out.shape[2:]", out.shape[2:],
                    tuple(i + k - 1 for i, k in zip(x.shape[2:], w.shape[2:])))


@st.composite
def same_convs(draw):
    ndim = draw(spatial_ranks(1, 3))
    mode = pad_mode(draw, "conv", ("SAME_UPPER", "SAME_LOWER"))
    kernel = tuple(draw(st.integers(1, 5)) for _ in range(ndim))
    strides = tuple(draw(st.sampled_from([1, 1, 2, 3])) for _ in range(ndim))
    dilations = tuple(dilation(draw, "conv", 2) for _ in range(ndim))
    spatial = tuple(draw(st.integers(1, 9)) for _ in range(ndim))
    dtype = draw(dtypes())
    x = values(draw, (1, 2) + spatial, dtype, "integers")
    w = values(draw, (2, 2) + kernel, dtype, "integers")
    return x, w, dict(strides=strides, pads=mode, dilations=dilations, groups=1)


@check("conv.same_padding", call=same_convs())
def native_same_padding_puts_the_odd_pixel_where_the_mode_says(op, call):
    """The shape is ceil(i/s), and the values are those of the explicit same_pads: a framework
    that splits an odd total the other way shifts the output by one pixel."""
    x, w, params = call
    out = op.conv(x, w, **params)
    expected_shape = tuple(-(-i // s) for i, s in zip(x.shape[2:], params["strides"]))
    op.expect_equal("out.shape[2:]", out.shape[2:], expected_shape)
    explicit = tuple(same_pads(i, k, stride=s, dilation=d, mode=params["pads"])
                     for i, k, s, d in zip(x.shape[2:], w.shape[2:], params["strides"],
                                           params["dilations"]))
    expected = ref.conv(x, w, **{**params, "pads": explicit})
    reduction = w.shape[1] * int(np.prod(w.shape[2:]))
    scale = ref.conv(np.abs(x), np.abs(w), **{**params, "pads": explicit})
    op.expect_close(out, expected, policy("reduction", x.dtype, reduction), scale=scale,
                    explicit_pads=explicit)


@check("conv.output_channels", case=conv_cases())
def output_depth_is_the_number_of_filters(op, case):
    out = op.conv(case.x, case.w, case.b, **case.params)
    op.expect_equal("out.shape[1]", out.shape[1], case.w.shape[0])


@st.composite
def exactly_one_dilated_window(draw):
    """On 1-3 spatial axes, an input exactly as long as each axis's dilated kernel extent."""
    ndim = draw(spatial_ranks(1, 3))
    kernels = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    dilations = tuple(dilation(draw, "conv", 4 if ndim == 1 else 3) for _ in range(ndim))
    dtype = draw(dtypes())
    spatial = tuple(effective_kernel(k, dilation=d) for k, d in zip(kernels, dilations))
    x = values(draw, (1, 1, *spatial), dtype, "integers")
    return x, values(draw, (1, 1, *kernels), dtype, "integers"), dilations


@check("conv.effective_kernel", call=exactly_one_dilated_window())
def dilated_kernel_spans_d_times_k_minus_1_plus_1(op, call):
    """An input exactly as long as the dilated extent holds exactly one window."""
    x, w, dilations = call
    ndim = len(dilations)
    out = op.conv(x, w, strides=(1,) * ndim, pads=((0, 0),) * ndim, dilations=dilations,
                  groups=1)
    op.expect_equal("out.shape[2:]", out.shape[2:], (1,) * ndim)


@check("conv_transpose.output_size", case=conv_transpose_cases(),
       examples=[{"case": VALID_TRANSPOSE_KERNEL_BELOW_STRIDE}])
def conv_transpose_output_size(op, case):
    out = op.conv_transpose(case.x, case.w, case.b, **case.params)
    op.expect_equal("out.shape", out.shape, case.out_shape)


@check("conv_transpose.shape_roundtrip", case=conv_cases(groups=False, bias=False))
def output_padding_restores_the_input_size(op, case):
    y = op.conv(case.x, case.w, **case.params)
    a = expected.roundtrip_output_padding(case.x.shape, case.w.shape, case.params)
    # the conv weight (C_out, C_in, *k) is the transposed-conv weight (C_in_T, C_out_T, *k) back
    back = op.conv_transpose(y, case.w, output_padding=a, **case.params)
    op.expect_equal("out.shape", back.shape, case.x.shape)


@check("pool.output_size.floor", case=pool_cases(ceil_mode=False))
def max_pool_floor_shape(op, case):
    op.expect_equal("out.shape", op.max_pool(case.x, **case.params).shape, case.out_shape)


@check("pool.output_size.floor", case=pool_cases(op="avg_pool", ceil_mode=False))
def avg_pool_floor_shape(op, case):
    op.expect_equal("out.shape", op.avg_pool(case.x, **case.params).shape, case.out_shape)


@check("pool.output_size.ceil", requires=[("max_pool", {"ceil_mode": True})],
       case=pool_cases(ceil_mode=True), examples=[{"case": PYTORCH_116420}])
def max_pool_ceil_shape(op, case):
    op.expect_equal("out.shape", op.max_pool(case.x, **case.params).shape, case.out_shape)


@check("pool.output_size.ceil", requires=[("avg_pool", {"ceil_mode": True})],
       case=pool_cases(op="avg_pool", ceil_mode=True),
       examples=[{"case": ONNX_CEIL_LAST_WINDOW_STARTS_ON_PAD},
                 {"case": CEIL_WINDOW_ON_LAST_ELEMENT}])
def avg_pool_ceil_shape(op, case):
    op.expect_equal("out.shape", op.avg_pool(case.x, **case.params).shape, case.out_shape)


def _ceil_axes_starting_in_the_begin_padding(asymmetric: bool) -> list[tuple]:
    """(i, k, s, pb, pe) of one axis on which ceil mode gives 2 or more windows and the last
    starts inside the begin padding, `(o-1)*s < pb`: every pad <= k // 2 (PyTorch's limit)."""
    axes = []
    for s in (1, 2):
        for pb in range(s + 1, 4):
            for k in (2 * pb, 2 * pb + 1):
                for pe in (range(k // 2 + 1) if asymmetric else (pb,)):
                    for i in range(max(1, k - pb - pe), 4):
                        o = pool_output_size(i, k, stride=s, pads=(pb, pe), ceil_mode=True)
                        if o >= 2 and (o - 1) * s < pb:
                            axes.append((i, k, s, pb, pe))
    return axes


@st.composite
def ceil_windows_starting_in_the_begin_padding(draw, op):
    """Ceil-mode pooling on 1-3 axes, each with 2 or more windows, the last starting inside
    the begin padding (a start of (o-1)*s - pb < 0 in input coordinates)."""
    region.require("ceil_mode", op)
    region.require("explicit_pads", op)
    axes = _ceil_axes_starting_in_the_begin_padding(region.allows("asymmetric_pads", op))
    picked = [draw(st.sampled_from(axes)) for _ in range(draw(spatial_ranks(1, 3)))]
    x = values(draw, (1, 1) + tuple(a[0] for a in picked), draw(dtypes()), "integers")
    params = dict(kernel_shape=tuple(a[1] for a in picked), strides=tuple(a[2] for a in picked),
                  pads=tuple((a[3], a[4]) for a in picked), ceil_mode=True)
    if op == "max_pool":
        params["dilations"] = (1,) * len(picked)
    else:
        params["count_include_pad"] = draw(count_include_pads())
    return pool_case(x, op=op, **params)


@check("pool.output_size.ceil", requires=[("max_pool", {"ceil_mode": True})],
       case=ceil_windows_starting_in_the_begin_padding("max_pool"))
def max_pool_ceil_keeps_a_last_window_starting_in_the_begin_padding(op, case):
    op.expect_equal("out.shape", op.max_pool(case.x, **case.params).shape, case.out_shape)


@check("pool.output_size.ceil", requires=[("avg_pool", {"ceil_mode": True})],
       case=ceil_windows_starting_in_the_begin_padding("avg_pool"))
def avg_pool_ceil_keeps_a_last_window_starting_in_the_begin_padding(op, case):
    op.expect_equal("out.shape", op.avg_pool(case.x, **case.params).shape, case.out_shape)


@check("pool.channels_preserved", case=pool_cases())
def pooling_keeps_batch_and_channels(op, case):
    op.expect_equal("out.shape[:2]", op.max_pool(case.x, **case.params).shape[:2],
                    case.x.shape[:2])


@check("layout.nchw_offsets", case=conv_cases(groups=False))
def channels_last_memory_gives_the_same_result(op, case):
    """An NCHW view of channels-last memory (what `x.permute` or `np.moveaxis` gives) is the
    same tensor: its conv is the conv of the row-major NCHW array, within the conv's own
    tolerance. (Not bit for bit: a framework may pick another summation order for another
    memory format, as torch's channels-last kernels do; misreading the strides is far off.)"""
    channels_last = np.ascontiguousarray(np.moveaxis(case.x, 1, -1))
    view = np.moveaxis(channels_last, -1, 1)
    from_view = op.conv(view, case.w, case.b, **case.params)
    want, scale, tol = expected.conv(case.x, case.w, case.b, case.params)
    op.expect_close(from_view, want, tol, scale=scale, quantity="conv(channels-last view)")


def _rejects(op, case, call_op, *arrays, **params):
    """The adapter must raise for this invalid call; the failure names the `case`. An adapter
    whose framework lacks the parameter altogether says so in `supports`."""
    op.require(call_op, arrays[0], **params)
    if op.raises(call_op, *arrays, **params) is None:
        op.fail(f"{call_op}({case})", "a result", "an error", case=case)


@check("invalid.rejected", dtype=dtypes(["float32"]))
def channel_mismatch_raises(op, dtype):
    """Worked example: x [1,1,28,28] with w [16,3,5,5]."""
    _rejects(op, "channel mismatch", "conv", np.zeros((1, 1, 28, 28), dtype),
             np.zeros((16, 3, 5, 5), dtype), strides=(1, 1), pads=((0, 0), (0, 0)),
             dilations=(1, 1), groups=1)


@check("invalid.rejected", dtype=dtypes(["float32"]))
def channels_not_divisible_by_groups_raise(op, dtype):
    _rejects(op, "C_in % groups != 0", "conv", np.zeros((1, 3, 8, 8), dtype),
             np.zeros((4, 1, 3, 3), dtype), strides=(1, 1), pads=((0, 0), (0, 0)),
             dilations=(1, 1), groups=2)


@check("invalid.rejected", dtype=dtypes(["float32"]))
def empty_output_raises(op, dtype):
    """i=2, k=5, no padding: the output size would be -2."""
    _rejects(op, "output size < 1", "conv", np.zeros((1, 1, 2, 2), dtype),
             np.zeros((1, 1, 5, 5), dtype), strides=(1, 1), pads=((0, 0), (0, 0)),
             dilations=(1, 1), groups=1)


@check("invalid.rejected", dtype=dtypes(["float32"]))
def output_padding_not_below_stride_raises(op, dtype):
    _rejects(op, "output_padding >= max(stride, dilation)", "conv_transpose",
             np.zeros((1, 1, 3), dtype), np.zeros((1, 1, 3), dtype), strides=(2,),
             pads=((0, 0),), dilations=(1,), groups=1, output_padding=(2,))


@st.composite
def tiny_calls(draw, name: str):
    """(arrays, params): the op table's minimal call of op `name` (`cnnspec.spec.ops`, 4 per
    spatial axis: a few programs per op for JAX to compile) in a drawn dtype and rank, its
    values drawn, and its axis or alpha where it takes one; the geometry is fixed per rank
    (the dtype is the point)."""
    op = TABLE[name]
    dtype = draw(dtypes())
    ndim = draw(spatial_ranks(min(op.spatial_axes), max(op.spatial_axes)))
    call = op.minimal_call(ndim, dtype)
    params = dict(call.keywords)
    if name == "max_unpool":  # its arrays: the values and indices of max_pool's minimal call
        pool = TABLE["max_pool"].minimal_call(ndim, dtype)
        x = values(draw, pool.shapes[0], dtype, "integers")
        pooled = ref.max_pool(x, **pool.keywords).astype(x.dtype)
        return (pooled, ref.max_pool_argmax(x, **pool.keywords)), {
            k: pool.keywords.get(k, v) for k, v in params.items()}
    arrays = tuple(values(draw, shape, dtype, "integers") for shape in call.shapes)
    if "axis" in params:
        params["axis"] = draw(st.integers(-arrays[0].ndim, arrays[0].ndim - 1))
    if "alpha" in params:
        params["alpha"] = draw(alphas())
    return arrays, params


def _dtype_check(name: str):
    @check("dtype.preserved", call=tiny_calls(name))
    def output_dtype_is_the_input_dtype(op, call):
        arrays, params = call
        got = np.asarray(getattr(op, name)(*arrays, **params))
        if TABLE[name].output_dtype != "input":
            op.expect_true(f"{name}(...).dtype", got.dtype.name, "an integer dtype",
                           got.dtype.kind in "iu")
        else:
            op.expect_equal(f"{name}(...).dtype", got.dtype.name, arrays[0].dtype.name)

    output_dtype_is_the_input_dtype.__name__ = f"{name}_returns_its_input_dtype"
    return output_dtype_is_the_input_dtype


DTYPE_CHECKS = tuple(_dtype_check(name) for name in OPS)  # all_checks() finds them here
