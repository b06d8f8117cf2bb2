"""Values against the reference, equivalences and metamorphic properties (rules.md section 2)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from cnnspec.spec import reference as ref
from cnnspec.spec import resolve_conv_transpose_pads, same_pads

from .. import expected, region
from ..registry import check
from ..strategies import (adaptive_calls, as_dtype, conv_cases, conv_transpose_cases,
                          codes, count_include_pads, dilation, distinct, dtypes, feature_maps, orderings,
                          pad_mode, pad_pair, pool_cases, shuffle_calls, spatial_ranks,
                          upsample_calls, values, with_cotangent)
from ..tolerance import policy
from .geometry import (ONNX_CEIL_LAST_WINDOW_STARTS_ON_PAD, SAME_POOL_KERNEL_BELOW_STRIDE,
                       VALID_TRANSPOSE_KERNEL_BELOW_STRIDE)


@st.composite
def one_hot_kernels(draw):
    """A conv on 1-3 spatial axes whose kernel is a single 1 at tap m (per axis): the output
    copies x[t*s + m*d] on every axis."""
    ndim = draw(spatial_ranks(1, 3))
    kernel, strides, dilations, taps, spatial = [], [], [], [], []
    for _ in range(ndim):
        k, s, d = draw(st.integers(2, 5 if ndim == 1 else 3)), draw(st.integers(1, 3)), \
            dilation(draw, "conv", 2)
        kernel.append(k), strides.append(s), dilations.append(d)
        taps.append(draw(st.integers(0, k - 1)))
        spatial.append(draw(st.integers(d * (k - 1) + 1, max(d * (k - 1) + 1, 12 // ndim + 2))))
    dtype = draw(dtypes())
    x = values(draw, (1, 1, *spatial), dtype, "normal")
    w = np.zeros((1, 1, *kernel), dtype=as_dtype(dtype))
    w[(0, 0, *taps)] = 1
    return x, w, dict(strides=tuple(strides), pads=((0, 0),) * ndim, dilations=tuple(dilations),
                      groups=1), tuple(taps)


@check("conv.cross_correlation", call=one_hot_kernels())
def conv_does_not_flip_the_kernel(op, call):
    x, w, params, taps = call
    out = op.conv(x, w, **params)
    window = tuple(slice(m * d, None, s)
                   for m, s, d in zip(taps, params["strides"], params["dilations"]))
    copied = x[(0, 0, *window)][tuple(slice(0, n) for n in out.shape[2:])]
    op.expect_close(out[0, 0], copied.astype(np.float64), policy("exact", x.dtype), tap=taps)


@check("conv.matches_reference", case=conv_cases())
def conv_matches_reference(op, case):
    out = op.conv(case.x, case.w, case.b, **case.params)
    want, scale, tol = expected.conv(case.x, case.w, case.b, case.params)
    op.expect_close(out, want, tol, scale=scale)


@st.composite
def beyond_half_range(draw):
    """Conv calls in bfloat16, float32 or float64 whose inputs are scaled by 2^17: products
    past float16's largest number (65504), so a path through float16 overflows to inf."""
    dtype = draw(dtypes(("bfloat16", "float32", "float64")))
    case = draw(conv_cases(dtype=dtype, style="normal"))
    return case._replace(x=(case.x.astype(np.float64) * 2.0**17).astype(case.x.dtype))


@check("conv.matches_reference", case=beyond_half_range())
def conv_beyond_float16_range_matches_reference(op, case):
    conv_matches_reference(op, case)


@check("conv.multichannel_sum", case=conv_cases(groups=False, bias=True))
def output_channel_is_the_sum_over_input_channels(op, case):
    out = op.conv(case.x, case.w, case.b, **case.params)
    per_channel = [op.conv(case.x[:, [c]], case.w[:, [c]], **case.params).astype(np.float64)
                   for c in range(case.x.shape[1])]
    total = sum(per_channel) + case.b.astype(np.float64).reshape((1, -1) + (1,) * (out.ndim - 2))
    _, scale, tol = expected.conv(case.x, case.w, case.b, case.params)
    op.expect_close(out, total, tol, scale=scale)


@st.composite
def pointwise_calls(draw):
    dtype = draw(dtypes())
    c_in, c_out = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    spatial = tuple(draw(st.integers(1, 5)) for _ in range(draw(spatial_ranks(1, 3))))
    return (values(draw, (2, c_in) + spatial, dtype, "normal"),
            values(draw, (c_out, c_in) + (1,) * len(spatial), dtype, "normal"))


@check("conv.pointwise_is_matmul", call=pointwise_calls())
def pointwise_conv_is_a_per_pixel_matrix_product(op, call):
    x, w = call
    ndim = x.ndim - 2
    out = op.conv(x, w, strides=(1,) * ndim, pads=((0, 0),) * ndim, dilations=(1,) * ndim,
                  groups=1)
    matrix = w.reshape(w.shape[:2]).astype(np.float64)
    product = np.einsum("oc,nc...->no...", matrix, x.astype(np.float64))
    scale = np.einsum("oc,nc...->no...", np.abs(matrix), np.abs(x.astype(np.float64)))
    op.expect_close(out, product, policy("reduction", x.dtype, x.shape[1]), scale=scale)


@st.composite
def dense_calls(draw):
    dtype = draw(dtypes())
    spatial = tuple(draw(st.integers(1, 5)) for _ in range(draw(spatial_ranks(1, 3))))
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    return (values(draw, (2, c_in) + spatial, dtype, "normal"),
            values(draw, (c_out, c_in) + spatial, dtype, "normal"))


@check("conv.full_kernel_is_dense", call=dense_calls())
def full_kernel_conv_is_a_dense_layer(op, call):
    x, w = call
    ndim = x.ndim - 2
    out = op.conv(x, w, strides=(1,) * ndim, pads=((0, 0),) * ndim, dilations=(1,) * ndim,
                  groups=1)
    flat_x, flat_w = x.reshape(2, -1).astype(np.float64), w.reshape(w.shape[0], -1).astype(
        np.float64)
    dense = (flat_x @ flat_w.T).reshape(out.shape)
    scale = (np.abs(flat_x) @ np.abs(flat_w).T).reshape(out.shape)
    op.expect_close(out, dense, policy("reduction", x.dtype, flat_w.shape[1]), scale=scale)


@check("conv.grouped_is_split_concat", case=conv_cases(bias=True, min_groups=2))
def grouped_conv_is_split_then_concatenate(op, case):
    g = case.params["groups"]
    out = op.conv(case.x, case.w, case.b, **case.params)
    parts = [op.conv(x, w, b, **{**case.params, "groups": 1}).astype(np.float64)
             for x, w, b in zip(np.split(case.x, g, axis=1), np.split(case.w, g, axis=0),
                                np.split(case.b, g))]
    _, scale, tol = expected.conv(case.x, case.w, case.b, case.params)
    op.expect_close(out, np.concatenate(parts, axis=1), tol, scale=scale)


@st.composite
def depthwise_calls(draw):
    dtype = draw(dtypes())
    ndim = draw(spatial_ranks(1, 3))
    c, mult = draw(st.integers(1, 4)), draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    spatial = tuple(k + draw(st.integers(0, 4)) for k in kernel)
    return (values(draw, (1, c) + spatial, dtype, "normal"),
            values(draw, (c * mult, 1) + kernel, dtype, "normal"),
            values(draw, (draw(st.integers(1, 3)), c * mult) + (1,) * ndim, dtype, "normal"))


def _plain(ndim, groups=1):
    return dict(strides=(1,) * ndim, pads=((0, 0),) * ndim, dilations=(1,) * ndim, groups=groups)


@check("conv.depthwise", call=depthwise_calls())
def depthwise_conv_is_per_channel(op, call):
    x, w, _ = call
    ndim, c = x.ndim - 2, x.shape[1]
    out = op.conv(x, w, **_plain(ndim, groups=c))
    want, scale, tol = expected.conv(x, w, None, _plain(ndim, groups=c))
    op.expect_close(out, want, tol, scale=scale)


@check("conv.depthwise_separable", call=depthwise_calls())
def depthwise_then_pointwise_is_their_composition(op, call):
    x, w, pointwise = call
    ndim, c = x.ndim - 2, x.shape[1]
    composed = op.conv(op.conv(x, w, **_plain(ndim, groups=c)), pointwise, **_plain(ndim))
    middle = ref.conv(x, w, **_plain(ndim, groups=c))
    want = ref.conv(middle, pointwise, **_plain(ndim))
    scale = ref.conv(ref.conv(np.abs(x.astype(np.float64)), np.abs(w.astype(np.float64)),
                              **_plain(ndim, groups=c)),
                     np.abs(pointwise.astype(np.float64)), **_plain(ndim))
    reduction = math.prod(w.shape[2:]) + w.shape[0]
    op.expect_close(composed, want, policy("reduction", x.dtype, 2 * reduction), scale=scale)


@st.composite
def rank_one_kernels(draw):
    dtype = draw(dtypes())
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x = values(draw, (1, 1, kh + draw(st.integers(0, 4)), kw + draw(st.integers(0, 4))), dtype,
               "integers")
    col, row = values(draw, (kh,), dtype, "integers"), values(draw, (kw,), dtype, "integers")
    return x, col, row


@check("conv.spatially_separable", call=rank_one_kernels())
def rank_one_kernel_is_a_column_then_a_row_conv(op, call):
    x, col, row = call
    kh, kw = col.size, row.size
    full = np.outer(col.astype(np.float64), row.astype(np.float64)).astype(x.dtype)
    out = op.conv(x, full.reshape(1, 1, kh, kw), **_plain(2))
    separable = op.conv(op.conv(x, col.reshape(1, 1, kh, 1), **_plain(2)),
                        row.reshape(1, 1, 1, kw), **_plain(2))
    scale = ref.conv(np.abs(x.astype(np.float64)), np.abs(full.astype(np.float64)).reshape(
        1, 1, kh, kw), **_plain(2))
    op.expect_close(out, separable.astype(np.float64), policy("reduction", x.dtype, 2 * kh * kw),
                    scale=scale)


@check("conv.dilation_is_sparse_kernel", case=conv_cases(bias=False).filter(
    lambda c: max(c.params["dilations"]) > 1))
def dilation_equals_a_zero_inserted_kernel(op, case):
    ndim = case.x.ndim - 2
    dilated = op.conv(case.x, case.w, **case.params)
    sparse = ref.zero_insert(case.w, case.params["dilations"]).astype(case.w.dtype)
    undilated = op.conv(case.x, sparse, **{**case.params, "dilations": (1,) * ndim})
    _, scale, tol = expected.conv(case.x, case.w, None, case.params)
    op.expect_close(dilated, undilated.astype(np.float64), tol, scale=scale)


@check("conv.stride_is_subsampling", case=conv_cases(bias=False).filter(
    lambda c: max(c.params["strides"]) > 1))
def stride_equals_subsampling_the_unit_stride_result(op, case):
    ndim = case.x.ndim - 2
    strided = op.conv(case.x, case.w, **case.params)
    unit = op.conv(case.x, case.w, **{**case.params, "strides": (1,) * ndim})
    sampled = unit[(Ellipsis,) + tuple(slice(None, None, s) for s in case.params["strides"])]
    _, scale, tol = expected.conv(case.x, case.w, None, case.params)
    op.expect_close(strided, sampled.astype(np.float64), tol, scale=scale)


@check("conv.matrix_form", case=conv_cases(bias=False))
def conv_is_the_unrolled_matrix_product(op, case):
    out = op.conv(case.x, case.w, **case.params)
    matrix = ref.conv_matrix(case.w, case.x.shape[1:], **case.params)
    flat = case.x.reshape(case.x.shape[0], -1).astype(np.float64)
    product = (flat @ matrix.T).reshape(case.out_shape)
    scale = (np.abs(flat) @ np.abs(matrix).T).reshape(case.out_shape)
    tol = policy("reduction", case.x.dtype, case.w.shape[1] * math.prod(case.w.shape[2:]))
    op.expect_close(out, product, tol, scale=scale)


@check("conv.linearity", case=conv_cases(bias=False, style="integers"),
       a=st.integers(-3, 3), b=st.integers(-3, 3))
def conv_is_linear(op, case, a, b):
    other = np.roll(case.x, 1)
    mixed = (a * case.x.astype(np.float64) + b * other.astype(np.float64)).astype(case.x.dtype)
    lhs = op.conv(mixed, case.w, **case.params)
    rhs = (a * op.conv(case.x, case.w, **case.params).astype(np.float64)
           + b * op.conv(other, case.w, **case.params).astype(np.float64))
    _, scale, tol = expected.conv(case.x, case.w, None, case.params)
    op.expect_close(lhs, rhs, tol, scale=(abs(a) + abs(b) + 1) * scale)


@st.composite
def shiftable_signals(draw):
    """A conv on 1-3 spatial axes and a shift of t strides along one of them, with a zero
    margin there so that no window sees the wrap-around."""
    ndim = draw(spatial_ranks(1, 3))
    axis = draw(st.integers(0, ndim - 1))
    kernel = tuple(draw(st.integers(1, 4 if ndim == 1 else 3)) for _ in range(ndim))
    strides = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    dilations = tuple(dilation(draw, "conv", 2) for _ in range(ndim))
    t = draw(st.integers(1, 3))
    dtype = draw(dtypes())
    spatial = [draw(st.integers(d * (k - 1) + 1, d * (k - 1) + 3))
               for k, d in zip(kernel, dilations)]
    spatial[axis] = draw(st.integers(1, 6))
    core = values(draw, (1, 2, *spatial), dtype, "integers")
    k, s, d = kernel[axis], strides[axis], dilations[axis]
    margin = list(core.shape)
    margin[2 + axis] = t * s + d * (k - 1) + s
    x = np.concatenate([core, np.zeros(margin, dtype=core.dtype)], axis=2 + axis)
    params = dict(strides=strides, pads=((0, 0),) * ndim, dilations=dilations, groups=1)
    return x, values(draw, (3, 2, *kernel), dtype, "integers"), params, axis, t


@check("conv.translation_equivariance", call=shiftable_signals())
def shifting_the_input_by_t_strides_shifts_the_output_by_t(op, call):
    x, w, params, axis, t = call
    s = params["strides"][axis]
    y = op.conv(x, w, **params)
    shifted = op.conv(np.roll(x, t * s, axis=2 + axis), w, **params)
    _, scale, tol = expected.conv(x, w, None, params)
    n = y.shape[2 + axis]
    moved = np.take(shifted, range(t, n), axis=2 + axis)
    kept = np.take(y, range(0, n - t), axis=2 + axis).astype(np.float64)
    op.expect_close(moved, kept, tol, scale=np.take(scale, range(0, n - t), axis=2 + axis),
                    shift=t)


def _swap_io(w, groups):
    """(C_in, C_out/g, *k) -> (C_out, C_in/g, *k), group by group."""
    c_in, group_out, kernel = w.shape[0], w.shape[1], w.shape[2:]
    return (w.reshape((groups, c_in // groups, group_out) + kernel).swapaxes(1, 2)
            .reshape((groups * group_out, c_in // groups) + kernel))


@check("conv_transpose.zero_insert_flip", case=conv_transpose_cases(bias=False),
       examples=[{"case": VALID_TRANSPOSE_KERNEL_BELOW_STRIDE}])
def transposed_conv_is_zero_insertion_flip_and_conv(op, case):
    """The steps: stretch, pad d*(k-1)-p (plus a at the end), flip, unit-stride conv.
    A transposed conv that skips the flip (JAX's conv_transpose without transpose_kernel) fails."""
    p = case.params
    kernel = case.w.shape[2:]
    stretched = ref.zero_insert(case.x, p["strides"])
    explicit, output_padding = resolve_conv_transpose_pads(  # a mode string as (begin, end)
        p["pads"], case.x.shape[2:], kernel, strides=p["strides"], dilations=p["dilations"],
        output_padding=p["output_padding"])
    pads = tuple((d * (k - 1) - pb, d * (k - 1) - pe + a) for k, d, (pb, pe), a in
                 zip(kernel, p["dilations"], explicit, output_padding))
    padded = ref.pad(stretched, pads).astype(case.x.dtype)
    flipped = _swap_io(ref.flip(case.w), p["groups"]).astype(case.w.dtype)
    out = op.conv_transpose(case.x, case.w, **p)
    direct = op.conv(padded, flipped, strides=(1,) * len(kernel), pads=((0, 0),) * len(kernel),
                     dilations=p["dilations"], groups=p["groups"])
    _, scale, tol = expected.conv_transpose(case.x, case.w, None, p)
    op.expect_close(out, direct.astype(np.float64), tol, scale=scale)


@check("conv_transpose.zero_insert_flip",
       case=conv_transpose_cases(bias=True, min_groups=2, style="integers"))
def grouped_transposed_conv_adds_each_output_channel_its_own_bias(op, case):
    """With groups >= 2 and 2 output channels per group: convT(x, w, b) = convT(x, w) + b[c],
    output channel c's own bias (not its group's)."""
    want, scale, tol = expected.conv_transpose(case.x, case.w, case.b, case.params)
    op.expect_close(op.conv_transpose(case.x, case.w, case.b, **case.params), want, tol,
                    scale=scale)


@check("conv_transpose.matrix_transpose", call=with_cotangent(conv_cases(bias=False)))
def transposed_conv_multiplies_by_c_transposed(op, call):
    case, y = call
    p = case.params
    a = expected.roundtrip_output_padding(case.x.shape, case.w.shape, case.params)
    # the conv weight (C_out, C_in/g, *k) is the transposed-conv weight of the map back
    back = op.conv_transpose(y, case.w, output_padding=a, **p)
    matrix = ref.conv_matrix(case.w, case.x.shape[1:], **p)
    flat = y.reshape(y.shape[0], -1).astype(np.float64)
    product = (flat @ matrix).reshape(case.x.shape)
    scale = (np.abs(flat) @ np.abs(matrix)).reshape(case.x.shape)
    tol = policy("reduction", case.dtype, case.w.shape[0] * math.prod(case.w.shape[2:]))
    op.expect_close(back, product, tol, scale=scale)


@check("conv_transpose.adjoint", call=with_cotangent(conv_cases(bias=False)))
def transposed_conv_is_the_adjoint(op, call):
    case, y = call
    p = case.params
    a = expected.roundtrip_output_padding(case.x.shape, case.w.shape, case.params)
    forward = op.conv(case.x, case.w, **p).astype(np.float64)
    back = op.conv_transpose(y, case.w, output_padding=a, **p).astype(np.float64)
    lhs, rhs = float(np.sum(forward * y)), float(np.sum(case.x.astype(np.float64) * back))
    scale = float(np.sum(np.abs(case.x.astype(np.float64))
                         * ref.conv_transpose(np.abs(y.astype(np.float64)),
                                              np.abs(case.w.astype(np.float64)),
                                              output_padding=a, **p)))
    tol = policy("reduction", case.dtype, forward.size + case.x.size)
    op.expect_close(np.array(lhs), np.array(rhs), tol, scale=scale, quantity="<conv(x), y>")


@check("conv_transpose.is_conv_input_gradient", call=with_cotangent(conv_cases(bias=False)))
def transposed_conv_is_the_input_gradient_of_conv(op, call):
    case, dy = call
    p = case.params
    a = expected.roundtrip_output_padding(case.x.shape, case.w.shape, case.params)
    dx, _ = op.vjp("conv", (case.x, case.w), dy, **p)
    back = op.conv_transpose(dy, case.w, output_padding=a, **p)
    _, scale, tol = expected.conv_transpose(dy, case.w, None, {**p, "output_padding": a})
    op.expect_close(dx, back.astype(np.float64), tol, scale=scale, quantity="dx")


@check("pool.max_matches_reference", case=pool_cases())
def max_pool_matches_reference(op, case):
    out = op.max_pool(case.x, **case.params)
    op.expect_close(out, ref.max_pool(case.x, **case.params), policy("exact", case.x.dtype))


@st.composite
def odd_same_pools(draw):
    """Max pooling in a SAME mode on 1-3 axes where the total padding is odd on every axis,
    so SAME_UPPER and SAME_LOWER differ: the odd pixel goes to the end or the beginning."""
    ndim = draw(spatial_ranks(1, 3))
    kernel, strides, dilations, spatial = [], [], [], []
    for _ in range(ndim):
        while True:
            k, s, d = draw(st.integers(2, 4)), draw(st.integers(1, 3)), dilation(draw, "max_pool", 2)
            sizes = [i for i in range(1, 10) if sum(same_pads(i, k, stride=s, dilation=d)) % 2]
            if sizes:
                break
        kernel.append(k), strides.append(s), dilations.append(d)
        spatial.append(draw(st.sampled_from(sizes)))
    dtype = draw(dtypes())
    x = values(draw, (1, 2, *spatial), dtype, draw(st.sampled_from(["normal", "ties"])))
    return x, dict(kernel_shape=tuple(kernel), strides=tuple(strides),
                   pads=pad_mode(draw, "max_pool", ("SAME_UPPER", "SAME_LOWER")),
                   dilations=tuple(dilations), ceil_mode=False)


@check("pool.max_matches_reference", call=odd_same_pools())
def max_pool_same_modes_put_the_odd_pixel_where_they_say(op, call):
    x, params = call
    out = op.max_pool(x, **params)
    op.expect_close(out, ref.max_pool(x, **params), policy("exact", x.dtype))


@check("pool.avg_matches_reference", case=pool_cases(op="avg_pool"),
       examples=[{"case": ONNX_CEIL_LAST_WINDOW_STARTS_ON_PAD},
                 {"case": SAME_POOL_KERNEL_BELOW_STRIDE}])
def avg_pool_matches_reference(op, case):
    out = op.avg_pool(case.x, **case.params)
    want, scale, tol = expected.avg_pool(case.x, case.params)
    op.expect_close(out, want, tol, scale=scale)


@check("pool.max_padding_never_wins", case=pool_cases(ceil_mode=False).filter(
    lambda c: any(p != (0, 0) for p in c.params["pads"])))
def max_pool_padding_is_minus_infinity(op, case):
    negative = (-np.abs(case.x.astype(np.float64)) - 1).astype(case.x.dtype)
    out = op.max_pool(negative, **case.params)
    op.expect_equal("out.shape", out.shape, case.out_shape)
    out = out.astype(np.float64)
    op.expect_true("max(out)", float(out.max()), "< 0 (padding never wins)", bool((out < 0).all()))


@check("pool.avg_count_include_pad", case=pool_cases(op="avg_pool").filter(
    lambda c: any(p != (0, 0) for p in c.params["pads"])), include=count_include_pads())
def avg_pool_divisor_counts_padding_as_asked(op, case, include):
    params = {**case.params, "count_include_pad": include}
    out = op.avg_pool(case.x, **params)
    want, scale, tol = expected.avg_pool(case.x, params)
    op.expect_close(out, want, tol, scale=scale)


@st.composite
def same_padded_avg_pools(draw):
    """Average pooling with the native SAME padding (TF's and JAX's own), either divisor."""
    ndim = draw(spatial_ranks(1, 3))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    strides = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    spatial = tuple(draw(st.integers(1, 8)) for _ in range(ndim))
    x = values(draw, (1, 2) + spatial, draw(dtypes()), "normal")
    return x, dict(kernel_shape=kernel, strides=strides,
                   pads=pad_mode(draw, "avg_pool", ("SAME_UPPER",)), ceil_mode=False,
                   count_include_pad=draw(count_include_pads()))


@check("pool.avg_count_include_pad", call=same_padded_avg_pools())
def same_padded_avg_pool_divisor(op, call):
    x, params = call
    out = op.avg_pool(x, **params)
    want, scale, tol = expected.avg_pool(x, params)
    op.expect_close(out, want, tol, scale=scale)


@st.composite
def windows_with_a_nan(draw):
    """Non-overlapping max windows on 1-3 spatial axes, one NaN in one of them."""
    dtype = draw(dtypes())
    ndim = draw(spatial_ranks(1, 3))
    kernel = tuple(draw(st.integers(2, 4 if ndim == 1 else 3)) for _ in range(ndim))
    counts = tuple(draw(st.integers(1, 4 if ndim == 1 else 2)) for _ in range(ndim))
    x = values(draw, (1, 1, *(k * c for k, c in zip(kernel, counts))), dtype, "normal")
    where = tuple(draw(st.integers(0, k * c - 1)) for k, c in zip(kernel, counts))
    x[(0, 0, *where)] = np.nan
    params = dict(kernel_shape=kernel, strides=kernel, pads=((0, 0),) * ndim,
                  dilations=(1,) * ndim, ceil_mode=False)
    return x, params, tuple(i // k for i, k in zip(where, kernel))


@check("pool.max_nan", call=windows_with_a_nan())
def nan_in_a_max_window_propagates_or_is_ignored(op, call):
    x, params, window = call
    out = op.max_pool(x, **params).astype(np.float64)[0, 0]
    others = np.ones(out.shape, bool)
    others[window] = False
    want = ref.max_pool(x, **params)[0, 0]
    op.expect_close(out[others], want[others], policy("exact", x.dtype))
    span = tuple(slice(w * k, (w + 1) * k) for w, k in zip(window, params["kernel_shape"]))
    inside = x[(0, 0, *span)].astype(np.float64)
    rest = inside[~np.isnan(inside)]
    if np.isnan(out[window]):
        op.convention("propagate")
    elif rest.size and out[window] == rest.max():
        op.convention("ignore")
    else:
        op.fail(f"out{list(window)}", float(out[window]), "NaN or the max of the other elements")


@st.composite
def non_overlapping_pools(draw):
    dtype = draw(dtypes())
    ndim = draw(spatial_ranks(1, 3))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    counts = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    x = values(draw, (1, 2) + tuple(k * c for k, c in zip(kernel, counts)), dtype, "normal")
    windows, taps = x.size // math.prod(kernel), math.prod(kernel)
    keys = orderings(draw, x.size).reshape(windows, taps)  # each window's own order
    return x, dict(kernel_shape=kernel, strides=kernel, pads=((0, 0),) * ndim,
                   dilations=(1,) * ndim, ceil_mode=False), np.argsort(keys, axis=-1)


@check("pool.max_window_permutation", call=non_overlapping_pools())
def max_ignores_the_order_inside_a_window(op, call):
    """Worked example: (1, 5, 3) and (0, 1, 5) both pool to 5; here each window is shuffled."""
    x, params, shuffle = call
    kernel = params["kernel_shape"]
    ndim = len(kernel)
    blocks = x.reshape(x.shape[:2] + sum(((n // k, k) for n, k in zip(x.shape[2:], kernel)), ()))
    order = tuple(range(2, 2 + 2 * ndim, 2)) + tuple(range(3, 3 + 2 * ndim, 2))
    grouped = blocks.transpose((0, 1) + order)
    flat = grouped.reshape(grouped.shape[:2 + ndim] + (-1,))
    shuffled = np.take_along_axis(flat, shuffle.reshape(flat.shape), axis=-1).reshape(grouped.shape)
    inverse = np.argsort((0, 1) + order)
    permuted = shuffled.transpose(inverse).reshape(x.shape)
    original = op.max_pool(x, **params)
    op.expect_close(op.max_pool(permuted, **params), original.astype(np.float64),
                    policy("exact", x.dtype))


@check("pool.global_average", requires=[("global_avg_pool", {})], x=feature_maps())
def global_average_is_the_spatial_mean(op, x):
    ndim = x.ndim - 2
    got = op.global_avg_pool(x)
    mean = x.astype(np.float64).mean(axis=tuple(range(2, x.ndim)), keepdims=True)
    scale = np.abs(x.astype(np.float64)).mean(axis=tuple(range(2, x.ndim)), keepdims=True)
    tol = policy("reduction", x.dtype, math.prod(x.shape[2:]))
    op.expect_close(got, mean, tol, scale=scale)
    as_pool = op.avg_pool(x, kernel_shape=x.shape[2:], strides=(1,) * ndim, pads=((0, 0),) * ndim,
                          ceil_mode=False, count_include_pad=True)
    op.expect_close(as_pool, mean, tol, scale=scale, quantity="avg_pool(kernel=input size)")


@st.composite
def large_float16_planes(draw):
    """float16 planes of 8 to 216 values, each between a quarter of float16's maximum and 0.9
    of it, one sign per plane: every plane's sum passes 65504 (a sum kept in float16 is inf)
    while its mean is representable."""
    dtype = region.dtypes_within(("float16",))[0]
    ndim = draw(spatial_ranks(1, 3))
    spatial = tuple(draw(st.integers(8 if ndim == 1 else 3, 24 if ndim == 1 else 6))
                    for _ in range(ndim))
    assume(math.prod(spatial) >= 8)
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + spatial
    negative = codes(draw, math.prod(shape[:2])).reshape(shape[:2] + (1,) * ndim) % 2 == 1
    top = float(np.finfo(np.float16).max)
    magnitude = 0.25 + 0.65 * codes(draw, math.prod(shape), 2).reshape(shape) / (2**16 - 1)
    return (np.where(negative, -1.0, 1.0) * magnitude * top).astype(as_dtype(dtype))


@check("pool.global_average", requires=[("global_avg_pool", {})], x=large_float16_planes())
def global_average_of_large_float16_values_is_finite(op, x):
    """The mean of values within float16's range is within it: the sum accumulates in a wider
    type (float32), as torch, JAX and ONNX Runtime do; a float16 running sum overflows."""
    got = op.global_avg_pool(x)
    mean = x.astype(np.float64).mean(axis=tuple(range(2, x.ndim)), keepdims=True)
    scale = np.abs(x.astype(np.float64)).mean(axis=tuple(range(2, x.ndim)), keepdims=True)
    op.expect_close(got, mean, policy("reduction", x.dtype, math.prod(x.shape[2:])),
                    scale=scale)


@check("pool.adaptive_bins", requires=[("adaptive_avg_pool", {})], call=adaptive_calls())
def adaptive_average_pool_uses_the_floor_ceil_bins(op, call):
    x, output_size = call
    got = op.adaptive_avg_pool(x, output_size=output_size)
    want = ref.adaptive_avg_pool(x, output_size=output_size)
    scale = ref.adaptive_avg_pool(np.abs(x.astype(np.float64)), output_size=output_size)
    longest = math.prod(-(-i // o) + 1 for i, o in zip(x.shape[2:], output_size))
    op.expect_close(got, want, policy("reduction", x.dtype, longest), scale=scale)


@check("pool.adaptive_bins", requires=[("adaptive_max_pool", {})], call=adaptive_calls())
def adaptive_max_pool_uses_the_floor_ceil_bins(op, call):
    x, output_size = call
    got = op.adaptive_max_pool(x, output_size=output_size)
    op.expect_close(got, ref.adaptive_max_pool(x, output_size=output_size),
                    policy("exact", x.dtype))


def _unpooled_at_the_argmax(op, x, params, output_size):
    """max_pool, max_pool_argmax, then max_unpool of those: the pooled values at the
    reference's argmax, zeros elsewhere."""
    pooled = op.max_pool(x, **params)
    index = op.max_pool_argmax(x, **params)
    unpool = dict(kernel_shape=params["kernel_shape"], strides=params["strides"],
                  pads=params["pads"], output_size=output_size)
    got = op.max_unpool(pooled, index, **unpool)
    want = ref.max_unpool(pooled, ref.max_pool_argmax(x, **params), **unpool)
    op.expect_close(got, want, policy("exact", x.dtype),
                    quantity=f"max_unpool(output_size={output_size})")


@check("pool.max_unpool", requires=[("max_unpool", {}), ("max_pool_argmax", {})],
       call=non_overlapping_pools())
def max_unpool_writes_at_the_argmax(op, call):
    x, params, _ = call
    _unpooled_at_the_argmax(op, x, params, None)


@st.composite
def unpool_calls(draw):
    """Max pooling on 1-3 axes, to be unpooled: windows that overlap (stride < kernel) or skip
    elements (stride > kernel), explicit pads up to k // 2, distinct values; and the input's
    own size as `output_size` (PyTorch's `output_size=x.size()`) where the adapter takes it,
    else only inputs of the default size (i-1)*s - pb - pe + k."""
    case = draw(pool_cases(ceil_mode=False, dilations=False).filter(
        lambda c: not isinstance(c.params["pads"], str)))
    p = case.params
    default = tuple((o - 1) * s - pb - pe + k for o, s, (pb, pe), k in
                    zip(case.out_shape[2:], p["strides"], p["pads"], p["kernel_shape"]))
    given = region.allows("max_unpool_output_size", "max_unpool") and (
        default != case.x.shape[2:] or draw(st.booleans()))
    assume(given or default == case.x.shape[2:])
    x = distinct(draw, case.x)  # ties are grad.max_pool.ties' matter
    return x, p, case.x.shape[2:] if given else None


@check("pool.max_unpool", requires=[("max_unpool", {}), ("max_pool_argmax", {})],
       call=unpool_calls())
def max_unpool_of_overlapping_windows_to_a_given_size(op, call):
    x, params, output_size = call
    _unpooled_at_the_argmax(op, x, params, output_size)


@st.composite
def padded_unpool_calls(draw):
    """Max pooling on 1-3 axes with explicit pads, at least one of them not 0, on an input
    whose size is the default unpooled size (i-1)*s - pb - pe + k of the pooled output, to be
    unpooled without `output_size`: a default size that leaves out the pads is too large."""
    region.require("explicit_pads", "max_pool")
    ndim = draw(spatial_ranks(1, 3))
    kernel, strides, pads, spatial = [], [], [], []
    for _ in range(ndim):
        k, s = draw(st.integers(2, 4)), draw(st.integers(1, 3))
        pb, pe = pad_pair(draw, "max_pool", k // 2)
        o = draw(st.integers(1, 4 if ndim < 3 else 2))
        kernel.append(k), strides.append(s), pads.append((pb, pe))
        spatial.append((o - 1) * s - pb - pe + k)
    assume(all(i >= 1 for i in spatial) and any(pb + pe for pb, pe in pads))
    x = distinct(draw, np.zeros((1, draw(st.integers(1, 2)), *spatial), as_dtype(draw(dtypes()))))
    params = dict(kernel_shape=tuple(kernel), strides=tuple(strides), pads=tuple(pads),
                  dilations=(1,) * ndim, ceil_mode=False)
    return x, params


@check("pool.max_unpool", requires=[("max_unpool", {}), ("max_pool_argmax", {})],
       call=padded_unpool_calls())
def max_unpool_default_size_takes_the_pads_off(op, call):
    x, params = call
    _unpooled_at_the_argmax(op, x, params, None)


@check("upsample.nearest", requires=[("upsample_nearest", {})], call=upsample_calls())
def nearest_upsampling_repeats_each_pixel(op, call):
    x, factors = call
    got = op.upsample_nearest(x, scale_factors=factors)
    op.expect_close(got, ref.upsample_nearest(x, scale_factors=factors), policy("exact", x.dtype))


@check("upsample.pixel_shuffle", requires=[("pixel_shuffle", {})], call=shuffle_calls())
def pixel_shuffle_follows_its_index_map(op, call):
    x, r = call
    got = op.pixel_shuffle(x, upscale_factor=r)
    op.expect_close(got, ref.pixel_shuffle(x, upscale_factor=r), policy("exact", x.dtype))
