"""Every reference op against nested loops on tiny inputs, forward and VJP (finite differences)."""

import decimal
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import naive
from cnnspec.spec import reference as ref
from strategies import conv_cases, conv_transpose_cases, pool_cases, rngs

LOOPS = settings(max_examples=150)


@LOOPS
@given(conv_cases())
def test_conv_matches_loops(case):
    expected = naive.conv(case.x, case.w, case.b, case.strides, case.pads, case.dilations,
                          case.groups)
    got = ref.conv(case.x, case.w, case.b, **case.params)
    assert got.dtype == np.float64
    assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@LOOPS
@given(conv_transpose_cases())
def test_conv_transpose_matches_scatter_loops(case):
    expected = naive.conv_transpose(case.x, case.w, case.b, case.strides, case.pads,
                                    case.dilations, case.groups, case.output_padding)
    assert_allclose(ref.conv_transpose(case.x, case.w, case.b, **case.params), expected,
                    rtol=1e-12, atol=1e-12)


@LOOPS
@given(pool_cases())
def test_max_pool_and_argmax_match_loops(case):
    kw = case._asdict()
    x = kw.pop("x")
    expected, expected_index = naive.max_pool(x, case.kernel_shape, case.strides, case.pads,
                                              case.dilations, case.ceil_mode)
    assert_array_equal(ref.max_pool(x, **kw), expected)
    assert_array_equal(ref.max_pool_argmax(x, **kw), expected_index)


@LOOPS
@given(pool_cases(dilation=False, ties=False), st.booleans())
def test_avg_pool_matches_loops(case, count_include_pad):
    expected = naive.avg_pool(case.x, case.kernel_shape, case.strides, case.pads,
                              case.ceil_mode, count_include_pad)
    got = ref.avg_pool(case.x, kernel_shape=case.kernel_shape, strides=case.strides,
                       pads=case.pads, ceil_mode=case.ceil_mode,
                       count_include_pad=count_include_pad)
    assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=60)
@given(rngs(), st.lists(st.integers(1, 7), min_size=1, max_size=3),
       st.lists(st.integers(1, 7), min_size=3, max_size=3))
def test_adaptive_pools_match_loops(rng, spatial, output):
    x = rng.normal(size=(2, 2, *spatial))
    out = tuple(output[:len(spatial)])
    # two summation orders of the same bin: their difference is bounded by the size of the
    # terms summed, not of the mean, which cancellation can make tiny (seen: 3.5e-12 relative)
    assert_allclose(ref.adaptive_avg_pool(x, output_size=out),
                    naive.adaptive_pool(x, out, np.mean), rtol=1e-12,
                    atol=1e-13 * np.abs(x).max())
    assert_array_equal(ref.adaptive_max_pool(x, output_size=out),
                       naive.adaptive_pool(x, out, np.max))


def test_max_pool_nan_propagates_and_is_named():
    x = np.array([[[1.0, np.nan, 3.0, np.nan]]])
    kw = dict(kernel_shape=(4,), strides=(1,), pads="VALID", dilations=(1,), ceil_mode=False)
    assert np.isnan(ref.max_pool(x, **kw)).all()
    assert ref.max_pool_argmax(x, **kw).tolist() == [[[1]]]  # the first NaN


def test_max_pool_with_only_neg_inf_names_the_first_real_element():
    x = np.full((1, 1, 3), -np.inf)
    kw = dict(kernel_shape=(3,), strides=(2,), pads=((1, 1),), dilations=(1,), ceil_mode=False)
    assert ref.max_pool_argmax(x, **kw).tolist() == [[[0, 1]]]  # never the padding


@settings(max_examples=40)
@given(rngs(), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4))
def test_max_unpool_writes_at_the_indices(rng, r, h, w):
    x = rng.normal(size=(2, 3, h * r, w * r))
    kw = dict(kernel_shape=(r, r), strides=(r, r), pads="VALID")
    pooled = ref.max_pool(x, dilations=(1, 1), ceil_mode=False, **kw)
    index = ref.max_pool_argmax(x, dilations=(1, 1), ceil_mode=False, **kw)
    y = ref.max_unpool(pooled, index, **kw)
    expected = np.zeros_like(x)
    for n, c, i, j in np.ndindex(pooled.shape):
        expected[n, c].flat[index[n, c, i, j]] = pooled[n, c, i, j]
    assert_array_equal(y, expected)


@settings(max_examples=40)
@given(rngs(), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
def test_pixel_shuffle_and_nearest_upsampling_follow_their_index_maps(rng, r, h, w):
    x = rng.normal(size=(2, 2 * r * r, h, w))
    y = ref.pixel_shuffle(x, upscale_factor=r)
    for n, c, hh, ww in np.ndindex(y.shape):
        i, j = hh % r, ww % r
        assert y[n, c, hh, ww] == x[n, c * r * r + i * r + j, hh // r, ww // r]
    assert_array_equal(ref.pixel_unshuffle(y, downscale_factor=r), x)
    up = ref.upsample_nearest(x, scale_factors=(r, 2))
    for n, c, hh, ww in np.ndindex(up.shape):
        assert up[n, c, hh, ww] == x[n, c, hh // r, ww // 2]


@given(st.lists(st.floats(-1e5, 1e5) | st.sampled_from([-1e4, 800.0, 1e4]), min_size=1,
                max_size=6))
def test_softmax_and_log_softmax_match_their_definitions(row):
    """Against exp(x_i) / sum(exp(x_j)) and x_i - log(sum(exp(x_j))) as written, without the
    max subtraction, in 60-digit decimal arithmetic (whose exponent range holds e^(1e5)):
    logits past +-709 overflow or underflow a float64 exp that skips the subtraction."""
    x = np.array(row)
    with decimal.localcontext() as context:
        context.prec = 60
        e = [decimal.Decimal(v).exp() for v in row]
        total = sum(e)
        expected = [float(term / total) for term in e]
        log_expected = [float(decimal.Decimal(v) - total.ln()) for v in row]
    assert_allclose(ref.softmax(x, axis=0), expected, rtol=1e-12, atol=1e-300)
    # x_i - max - log(sum) loses a few ulps of the largest magnitude: an absolute bound of
    # 8 ulps of max|x| (the rtol alone would not hold where x_i - log(sum) cancels to ~0)
    scale = max(abs(v) for v in row) + 1
    assert_allclose(ref.log_softmax(x, axis=0), log_expected, rtol=1e-12,
                    atol=8 * np.finfo(np.float64).eps * scale)


def _decimal_tanh(v: float) -> float:
    """(e^(2v) - 1) / (e^(2v) + 1) in decimal arithmetic, with enough digits that the
    subtraction keeps 40 of them for tiny v."""
    with decimal.localcontext() as context:
        context.prec = 60 + max(0, -math.frexp(v)[1] // 3)
        e = (2 * decimal.Decimal(v)).exp()
        return float((e - 1) / (e + 1))


@given(st.floats(-700, 700))
def test_activations_match_their_definitions(v):
    x = np.array([v])
    sig = 1 / (1 + np.exp(-v))
    assert_allclose(ref.sigmoid(x), [sig], rtol=1e-14, atol=1e-300)
    assert_allclose(ref.tanh(x), [_decimal_tanh(v)], rtol=4.5e-16, atol=1e-300)  # 2 ulp
    assert ref.relu(x).item() == max(0.0, v)
    assert ref.leaky_relu(x, alpha=0.1).item() == (v if v >= 0 else 0.1 * v)
    assert ref.relu6(x).item() == min(max(0.0, v), 6.0)
    assert_allclose(ref.elu(x, alpha=1.5), [v if v > 0 else 1.5 * np.expm1(v)], rtol=1e-14)


# VJPs -------------------------------------------------------------------------------------


@settings(max_examples=40)
@given(conv_cases(max_ndim=2, max_size=4, bias=True), rngs())
def test_conv_vjp_matches_finite_differences(case, rng):
    params = case.params
    y = ref.conv(case.x, case.w, case.b, **params)
    dy = rng.normal(size=y.shape)
    dx, dw, db = ref.vjp("conv", (case.x, case.w, case.b), dy, **params)
    assert_allclose(dx, naive.numeric_vjp(lambda x: ref.conv(x, case.w, case.b, **params),
                                          case.x, dy), rtol=1e-6, atol=1e-6)
    assert_allclose(dw, naive.numeric_vjp(lambda w: ref.conv(case.x, w, case.b, **params),
                                          case.w, dy), rtol=1e-6, atol=1e-6)
    assert_allclose(db, dy.sum(axis=(0,) + tuple(range(2, dy.ndim))), rtol=1e-12)


@settings(max_examples=40)
@given(conv_transpose_cases(max_ndim=2, max_size=3, bias=False), rngs())
def test_conv_transpose_vjp_matches_finite_differences(case, rng):
    params = case.params
    y = ref.conv_transpose(case.x, case.w, **params)
    dy = rng.normal(size=y.shape)
    dx, dw = ref.vjp("conv_transpose", (case.x, case.w), dy, **params)
    assert_allclose(dx, naive.numeric_vjp(lambda x: ref.conv_transpose(x, case.w, **params),
                                          case.x, dy), rtol=1e-6, atol=1e-6)
    assert_allclose(dw, naive.numeric_vjp(lambda w: ref.conv_transpose(case.x, w, **params),
                                          case.w, dy), rtol=1e-6, atol=1e-6)


@LOOPS
@given(pool_cases(), rngs())
def test_max_pool_vjp_routes_to_the_loops_argmax(case, rng):
    kw = case._asdict()
    x = kw.pop("x")
    _, index = naive.max_pool(x, case.kernel_shape, case.strides, case.pads, case.dilations,
                              case.ceil_mode)
    dy = rng.normal(size=index.shape)
    expected = np.zeros_like(x)
    for position in np.ndindex(index.shape):  # accumulate, one window at a time
        if index[position] >= 0:
            expected[position[:2]].flat[index[position]] += dy[position]
    assert_allclose(ref.max_pool_vjp(x, dy, **kw), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=60)
@given(pool_cases(max_ndim=2, max_size=5, dilation=False, ties=False), st.booleans(), rngs())
def test_avg_pool_vjp_matches_finite_differences(case, count_include_pad, rng):
    kw = dict(kernel_shape=case.kernel_shape, strides=case.strides, pads=case.pads,
              ceil_mode=case.ceil_mode, count_include_pad=count_include_pad)
    dy = rng.normal(size=ref.avg_pool(case.x, **kw).shape)
    assert_allclose(ref.avg_pool_vjp(case.x, dy, **kw),
                    naive.numeric_vjp(lambda x: ref.avg_pool(x, **kw), case.x, dy),
                    rtol=1e-6, atol=1e-6)


SMOOTH = [("softmax", {"axis": -1}), ("log_softmax", {"axis": 1}), ("sigmoid", {}),
          ("tanh", {}), ("elu", {"alpha": 0.7}), ("leaky_relu", {"alpha": 0.2}), ("relu", {}),
          ("relu6", {})]


@pytest.mark.parametrize("op, params", SMOOTH, ids=[op for op, _ in SMOOTH])
@settings(max_examples=30)
@given(rng=rngs())
def test_elementwise_vjps_match_finite_differences(op, params, rng):
    x = rng.normal(scale=4.0, size=(3, 4))
    x[np.abs(x) < 1e-3] = 0.5  # keep finite differences off the kinks at 0 and 6
    x[np.abs(x - 6) < 1e-3] = 5.5
    dy = rng.normal(size=x.shape)
    forward = getattr(ref, op)
    assert_allclose(ref.vjp(op, (x,), dy, **params)[0],
                    naive.numeric_vjp(lambda v: forward(v, **params), x, dy),
                    rtol=1e-6, atol=1e-7)


@settings(max_examples=300)
@given(st.integers(0, 5), st.integers(-7, 4), st.integers(-7, 4), st.floats(-2, 2))
def test_pad_pads_then_crops_as_stablehlo_pad_does(n, begin, end, value):
    """Result length n + begin + end; a negative amount removes elements of the padded array."""
    x = np.arange(1.0, n + 1).reshape(1, 1, n)
    extended = [value] * max(begin, 0) + list(x[0, 0]) + [value] * max(end, 0)
    expected = extended[max(-begin, 0):len(extended) - max(-end, 0)]
    expected = expected if len(extended) - max(-end, 0) > max(-begin, 0) else []
    got = ref.pad(x, ((begin, end),), value)
    assert got[0, 0].tolist() == expected
    assert got.shape[2] == max(n + begin + end, 0)
