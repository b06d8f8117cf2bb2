"""The equivalences of rules.md on the reference itself: each names the rule it checks."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import naive
from cnnspec.spec import conv_transpose_roundtrip_padding
from cnnspec.spec import reference as ref
from strategies import conv_cases, conv_transpose_cases, pool_cases, rngs

CLOSE = dict(rtol=1e-10, atol=1e-10)
SOME = settings(max_examples=100)


@SOME
@given(conv_transpose_cases(bias=False))
def test_conv_transpose_is_zero_insertion_flip_and_conv(case):
    """[conv_transpose.zero_insert_flip] pad d*(k-1)-pb before, d*(k-1)-pe+a after."""
    kernel = case.w.shape[2:]
    stretched = ref.zero_insert(case.x, case.strides)
    pads = tuple((d * (k - 1) - pb, d * (k - 1) - pe + a) for k, d, (pb, pe), a in
                 zip(kernel, case.dilations, case.pads, case.output_padding))
    padded = ref.pad(stretched, pads)
    g, c_in, c_out = case.groups, case.w.shape[0], case.w.shape[1]
    # swap in/out per group: (C_in, C_out/g, k) -> (C_out, C_in/g, k)
    swapped = (ref.flip(case.w).reshape((g, c_in // g, c_out) + kernel)
               .swapaxes(1, 2).reshape((g * c_out, c_in // g) + kernel))
    direct = ref.conv(padded, swapped, strides=(1,) * len(kernel), pads="VALID",
                      dilations=case.dilations, groups=g)
    assert_allclose(ref.conv_transpose(case.x, case.w, **case.params), direct, **CLOSE)


@SOME
@given(conv_cases(bias=False), rngs())
def test_conv_transpose_is_the_adjoint_and_the_input_gradient(case, rng):
    """[conv_transpose.adjoint, conv_transpose.is_conv_input_gradient]"""
    y = rng.normal(size=ref.conv(case.x, case.w, **case.params).shape)
    # the transposed conv of the same w: C_out of conv is its C_in
    a = tuple(conv_transpose_roundtrip_padding(i, k, stride=s, pads=p, dilation=d)
              for i, k, s, p, d in zip(case.x.shape[2:], case.w.shape[2:], case.strides,
                                       case.pads, case.dilations))
    back = ref.conv_transpose(y, case.w, output_padding=a, **case.params)
    assert back.shape == case.x.shape
    assert np.isclose(np.sum(ref.conv(case.x, case.w, **case.params) * y), np.sum(case.x * back),
                      rtol=1e-10, atol=1e-10)
    assert_allclose(ref.vjp("conv", (case.x, case.w), y, **case.params)[0], back, **CLOSE)


@SOME
@given(conv_cases(bias=False))
def test_conv_is_its_unrolled_matrix_and_transposed_conv_its_transpose(case):
    """[conv.matrix_form, conv_transpose.matrix_transpose]"""
    c = ref.conv_matrix(case.w, case.x.shape[1:], **case.params)
    y = ref.conv(case.x, case.w, **case.params)
    for n in range(case.x.shape[0]):
        assert_allclose(c @ case.x[n].ravel(), y[n].ravel(), **CLOSE)
    a = tuple(conv_transpose_roundtrip_padding(i, k, stride=s, pads=p, dilation=d)
              for i, k, s, p, d in zip(case.x.shape[2:], case.w.shape[2:], case.strides,
                                       case.pads, case.dilations))
    back = ref.conv_transpose(y, case.w, output_padding=a, **case.params)
    for n in range(case.x.shape[0]):
        assert_allclose(c.T @ y[n].ravel(), back[n].ravel(), **CLOSE)


def test_seed_conv_matrix_is_4x16_with_the_kernel_on_each_row():
    """Worked example: a 3x3 kernel on 4x4 is a 4x16 matrix; each row holds the 9 weights."""
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    c = ref.conv_matrix(w, (1, 4, 4), strides=(1, 1), pads="VALID", dilations=(1, 1))
    assert c.shape == (4, 16)
    first = np.zeros((4, 4))
    first[:3, :3] = w[0, 0]
    assert_array_equal(c[0], first.ravel())
    assert all(sorted(row[row != 0]) == list(range(1, 10)) for row in c)


@SOME
@given(conv_cases(bias=True))
def test_grouped_conv_is_split_and_concatenate(case):
    """[conv.grouped_is_split_concat]"""
    g = case.groups
    xs, ws, bs = (np.split(case.x, g, axis=1), np.split(case.w, g, axis=0),
                  np.split(case.b, g))
    parts = [ref.conv(x, w, b, strides=case.strides, pads=case.pads, dilations=case.dilations,
                      groups=1) for x, w, b in zip(xs, ws, bs)]
    assert_allclose(ref.conv(case.x, case.w, case.b, **case.params),
                    np.concatenate(parts, axis=1), **CLOSE)


@SOME
@given(conv_cases(bias=False))
def test_dilation_is_a_sparse_kernel_and_stride_is_subsampling(case):
    """[conv.dilation_is_sparse_kernel, conv.stride_is_subsampling]"""
    ndim = case.x.ndim - 2
    sparse = ref.zero_insert(case.w, case.dilations)
    assert_allclose(ref.conv(case.x, case.w, **case.params),
                    ref.conv(case.x, sparse, strides=case.strides, pads=case.pads,
                             dilations=(1,) * ndim, groups=case.groups), **CLOSE)
    unit = ref.conv(case.x, case.w, strides=(1,) * ndim, pads=case.pads,
                    dilations=case.dilations, groups=case.groups)
    subsampled = unit[(Ellipsis,) + tuple(slice(None, None, s) for s in case.strides)]
    assert_allclose(ref.conv(case.x, case.w, **case.params), subsampled, **CLOSE)


@SOME
@given(conv_cases(bias=False))
def test_cross_correlation_is_convolution_with_a_flipped_kernel(case):
    """[conv.cross_correlation] true convolution: y[t] = sum_m w[m] x[t*s - m*d + ...]"""
    flipped = ref.flip(case.w)
    kernel = case.w.shape[2:]
    # true convolution with the flipped kernel, written as correlation over reversed taps
    padded = ref.pad(case.x, case.pads)
    ndim = case.x.ndim - 2
    windows = ref.window_view(padded, kernel, case.strides, case.dilations)  # (N, C, *k, *o)
    reversed_windows = windows[(slice(None), slice(None)) + (slice(None, None, -1),) * ndim]
    g = case.groups
    n, c = case.x.shape[:2]
    wv = reversed_windows.reshape((n, g, c // g) + reversed_windows.shape[2:])
    fw = flipped.reshape((g, flipped.shape[0] // g) + flipped.shape[1:])
    axes = "PQR"[:ndim]
    taps = "XYZ"[:ndim]
    true_conv = np.einsum(f"ngc{taps}{axes},goc{taps}->ngo{axes}", wv, fw)
    assert_allclose(ref.conv(case.x, case.w, **case.params), true_conv.reshape(
        (n, -1) + true_conv.shape[3:]), **CLOSE)


@settings(max_examples=50)
@given(rngs(), st.integers(1, 4), st.integers(1, 4), st.integers(1, 5), st.integers(1, 5))
def test_pointwise_conv_is_a_per_pixel_matrix_product_and_full_kernel_is_dense(rng, c_in, c_out,
                                                                               h, w):
    """[conv.pointwise_is_matmul, conv.full_kernel_is_dense, conv.multichannel_sum]"""
    x = rng.normal(size=(2, c_in, h, w))
    kw = dict(strides=(1, 1), pads="VALID", dilations=(1, 1), groups=1)
    pointwise = rng.normal(size=(c_out, c_in, 1, 1))
    assert_allclose(ref.conv(x, pointwise, **kw),
                    np.einsum("oc,nchw->nohw", pointwise[:, :, 0, 0], x), **CLOSE)
    dense = rng.normal(size=(c_out, c_in, h, w))
    assert_allclose(ref.conv(x, dense, **kw)[:, :, 0, 0],
                    x.reshape(2, -1) @ dense.reshape(c_out, -1).T, **CLOSE)
    per_channel = sum(ref.conv(x[:, [c]], dense[:, [c]], **kw) for c in range(c_in))
    assert_allclose(ref.conv(x, dense, **kw), per_channel, **CLOSE)


@settings(max_examples=50)
@given(rngs(), st.integers(1, 3), st.integers(1, 3), st.integers(3, 7), st.integers(3, 7),
       st.integers(1, 3))
def test_depthwise_and_spatially_separable_convs_compose(rng, c_in, mult, h, w, k):
    """[conv.depthwise, conv.depthwise_separable, conv.spatially_separable]"""
    x = rng.normal(size=(1, c_in, h, w))
    kw = dict(strides=(1, 1), pads="VALID", dilations=(1, 1))
    depthwise = rng.normal(size=(c_in * mult, 1, k, k))
    per_channel = np.concatenate([ref.conv(x[:, [c]], depthwise[c * mult:(c + 1) * mult],
                                           groups=1, **kw) for c in range(c_in)], axis=1)
    dw = ref.conv(x, depthwise, groups=c_in, **kw)
    assert_allclose(dw, per_channel, **CLOSE)
    pointwise = rng.normal(size=(2, c_in * mult, 1, 1))
    composed = np.einsum("oc,nchw->nohw", pointwise[:, :, 0, 0], per_channel)
    assert_allclose(ref.conv(dw, pointwise, groups=1, **kw), composed, **CLOSE)
    col, row = rng.normal(size=k), rng.normal(size=k)
    rank_one = np.outer(col, row).reshape(1, 1, k, k)
    single = x[:, :1]
    separable = ref.conv(ref.conv(single, col.reshape(1, 1, k, 1), groups=1, **kw),
                         row.reshape(1, 1, 1, k), groups=1, **kw)
    assert_allclose(ref.conv(single, rank_one, groups=1, **kw), separable, **CLOSE)


@settings(max_examples=50)
@given(conv_cases(max_ndim=2, bias=False), rngs(), st.floats(-3, 3), st.floats(-3, 3))
def test_conv_is_linear(case, rng, a, b):
    """[conv.linearity]"""
    other = rng.normal(size=case.x.shape)
    lhs = ref.conv(a * case.x + b * other, case.w, **case.params)
    rhs = a * ref.conv(case.x, case.w, **case.params) + b * ref.conv(other, case.w, **case.params)
    assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-9)


@settings(max_examples=50)
@given(rngs(), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 3))
def test_conv_is_translation_equivariant(rng, k, s, d, t):
    """[conv.translation_equivariance] a shift by t*s inside a zero margin shifts the output by t."""
    core = rng.normal(size=(1, 1, 5))
    margin = t * s
    x = np.concatenate([core, np.zeros((1, 1, margin + d * (k - 1) + s))], axis=2)
    shifted = np.roll(x, margin, axis=2)
    w = rng.normal(size=(1, 1, k))
    kw = dict(strides=(s,), pads="VALID", dilations=(d,), groups=1)
    y, y_shifted = ref.conv(x, w, **kw), ref.conv(shifted, w, **kw)
    assert_allclose(y_shifted[..., t:], y[..., :y.shape[-1] - t], **CLOSE)


@SOME
@given(pool_cases(ties=False))
def test_pooling_identities(case):
    """[pool.max_window_permutation, pool.max_padding_never_wins, pool.channels_preserved]"""
    kw = case._asdict()
    x = kw.pop("x")
    y = ref.max_pool(x, **kw)
    assert y.shape[:2] == x.shape[:2]
    assert_array_equal(ref.max_pool(x + 3.0, **kw), y + 3.0)
    assert_array_equal(ref.max_pool(2.0 * x, **kw), 2.0 * y)
    negative = -np.abs(x) - 1.0
    assert (ref.max_pool(negative, **kw) < 0).all()


@settings(max_examples=50)
@given(rngs(), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3))
def test_global_adaptive_and_plain_average_pools_agree(rng, h, w, r):
    """[pool.global_average, pool.adaptive_bins] adaptive == avg pool with k = s = I/O when O | I."""
    x = rng.normal(size=(2, 3, h * r, w * r))
    gap = ref.global_avg_pool(x)
    assert_allclose(gap, x.mean(axis=(2, 3), keepdims=True), **CLOSE)
    assert_allclose(gap, ref.avg_pool(x, kernel_shape=x.shape[2:], strides=(1, 1), pads="VALID",
                                      ceil_mode=False, count_include_pad=True), **CLOSE)
    assert_allclose(ref.adaptive_avg_pool(x, output_size=(h, w)),
                    ref.avg_pool(x, kernel_shape=(r, r), strides=(r, r), pads="VALID",
                                 ceil_mode=False, count_include_pad=True), **CLOSE)
    assert_allclose(ref.adaptive_max_pool(x, output_size=(h, w)),
                    ref.max_pool(x, kernel_shape=(r, r), strides=(r, r), pads="VALID",
                                 dilations=(1, 1), ceil_mode=False))


@settings(max_examples=50)
@given(rngs(), st.integers(1, 3), st.integers(1, 4))
def test_max_unpool_is_the_vjp_of_the_pooled_values(rng, r, h):
    """[pool.max_unpool] for non-overlapping windows."""
    x = rng.normal(size=(2, 2, h * r, h * r))
    kw = dict(kernel_shape=(r, r), strides=(r, r), pads="VALID")
    y = ref.max_pool(x, dilations=(1, 1), ceil_mode=False, **kw)
    index = ref.max_pool_argmax(x, dilations=(1, 1), ceil_mode=False, **kw)
    assert_array_equal(ref.max_unpool(y, index, **kw),
                       ref.max_pool_vjp(x, y, dilations=(1, 1), ceil_mode=False, **kw))


@SOME
@given(pool_cases(), rngs())
def test_max_pool_gradient_routes_to_one_element_per_window_and_keeps_the_total(case, rng):
    """[grad.max_pool.routing, grad.max_pool.overlap_accumulates, grad.max_pool.ties]"""
    kw = case._asdict()
    x = kw.pop("x")
    index = ref.max_pool_argmax(x, **kw)
    dy = rng.normal(size=index.shape)
    dx = ref.max_pool_vjp(x, dy, **kw)
    real = index >= 0
    assert np.isclose(dx.sum(), dy[real].sum())
    planes = dx.reshape(x.shape[:2] + (-1,))
    for n, c in np.ndindex(x.shape[:2]):  # only a window's argmax receives anything
        receiving = set(np.flatnonzero(planes[n, c]))
        assert receiving <= set(index[n, c][index[n, c] >= 0].ravel())
    one_hot = ref.max_pool_vjp(x, np.ones_like(dy), **kw)
    assert one_hot.sum() == real.sum()  # one unit per window, no splitting among ties
    # which tied element wins: the first maximum in the window's row-major scan order, found
    # by walking each window's taps (naive.pool_windows), not by the reference's argmax
    spatial = x.shape[2:]
    _, windows = naive.pool_windows(spatial, case.kernel_shape, case.strides, case.pads,
                                    case.dilations, case.ceil_mode)
    want = np.zeros_like(x)
    for n, c in np.ndindex(x.shape[:2]):
        for t, taps in windows:
            inside = [p for p in taps if all(0 <= q < size for q, size in zip(p, spatial))]
            if inside:
                top = max(x[(n, c) + p] for p in inside)
                first = next(p for p in inside if x[(n, c) + p] == top)
                want[(n, c) + first] += dy[(n, c) + t]
    assert_allclose(dx, want, rtol=1e-12, atol=1e-12)


@settings(max_examples=50)
@given(rngs(), st.integers(1, 3), st.integers(1, 4))
def test_avg_pool_gradient_is_uniform(rng, r, h):
    """[grad.avg_pool.uniform] k == s: dx = repeat(dy, r) / r^2, and the total is preserved."""
    x = rng.normal(size=(1, 2, h * r, h * r))
    kw = dict(kernel_shape=(r, r), strides=(r, r), pads="VALID", ceil_mode=False,
              count_include_pad=False)
    dy = rng.normal(size=(1, 2, h, h))
    dx = ref.avg_pool_vjp(x, dy, **kw)
    assert_allclose(dx, dy.repeat(r, axis=2).repeat(r, axis=3) / r**2, **CLOSE)
    assert np.isclose(dx.sum(), dy.sum())


@given(st.lists(st.floats(-30, 30), min_size=2, max_size=6), st.floats(-1e3, 1e3))
def test_softmax_stability_identities(row, c):
    """[softmax.shift_invariance, softmax.simplex, log_softmax.stability, grad.sigmoid.bounded]"""
    x = np.array(row)
    s = ref.softmax(x, axis=0)
    assert_allclose(ref.softmax(x + c, axis=0), s, rtol=1e-9, atol=1e-12)
    assert np.isclose(s.sum(), 1.0) and ((s >= 0) & (s <= 1)).all()
    order = np.argsort(x, kind="stable")
    assert (np.diff(s[order]) >= 0).all()
    assert_allclose(np.exp(ref.log_softmax(x, axis=0)), s, rtol=1e-12)
    assert (ref.sigmoid_vjp(x, np.ones_like(x)) <= 0.25).all()


def test_stability_on_extreme_inputs():
    """[softmax.overflow, softmax.underflow, softmax.neg_inf, log_softmax.stability, sigmoid.stability]"""
    big = np.finfo(np.float64).max
    assert_allclose(ref.softmax(np.array([big, big / 2, -big]), axis=0), [1.0, 0.0, 0.0])
    assert_allclose(ref.softmax(np.array([-1e4, -1e4]), axis=0), [0.5, 0.5])
    assert ref.softmax(np.array([1.0, -np.inf]), axis=0).tolist() == [1.0, 0.0]
    assert np.isfinite(ref.log_softmax(np.array([0.0, -1000.0]), axis=0)).all()
    s = ref.sigmoid(np.array([-big, -1000.0, 0.0, 1000.0, big]))
    assert np.isfinite(s).all() and s.tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]
    x = np.linspace(-40, 40, 81)
    assert_allclose(ref.sigmoid(-x), 1 - ref.sigmoid(x), atol=1e-15)
    assert_allclose(ref.tanh(x), 2 * ref.sigmoid(2 * x) - 1, atol=1e-15)
    assert_allclose(ref.tanh(-x), -ref.tanh(x))
    assert ref.elu(np.array([-1e4]), alpha=2.0).item() == -2.0
