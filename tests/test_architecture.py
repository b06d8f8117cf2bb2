"""Architecture arithmetic against brute force: receptive fields, gridding, HDC, params, offsets."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnspec.spec import (
    conv_multiplications,
    conv_param_count,
    depthwise_separable_param_count,
    dilated_usage_counts,
    hdc_m2,
    nchw_offset,
    receptive_field,
    spatially_separable_multiplications,
    spp_feature_length,
)
from cnnspec.spec import reference as ref

layers_1d = st.lists(st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 3)),
                     min_size=1, max_size=5)


def reachable_inputs(layers):
    """Input positions one output (at 0) depends on, walking the taps down the stack."""
    positions = {0}
    for k, s, d in reversed(layers):
        positions = {p * s + m * d for p in positions for m in range(k)}
    return positions


@settings(max_examples=2000)
@given(layers_1d)
def test_receptive_field_is_the_extent_of_the_dependencies(layers):
    reach = reachable_inputs(layers)
    assert receptive_field(layers) == max(reach) - min(reach) + 1


@settings(max_examples=60)
@given(st.lists(st.tuples(st.integers(1, 3), st.integers(1, 2), st.integers(1, 2)),
                min_size=1, max_size=3))
def test_receptive_field_is_the_support_of_an_input_gradient(layers):
    """[receptive_field.recursion] through the reference's own conv VJP, layer by layer."""
    sizes = [1]
    for k, s, d in reversed(layers):  # the input size each layer needs for one output
        sizes.append((sizes[-1] - 1) * s + d * (k - 1) + 1)
    sizes.reverse()
    grad = np.ones((1, 1, 1))
    for (k, s, d), size in zip(reversed(layers), reversed(sizes[:-1])):
        x = np.zeros((1, 1, size))
        kw = dict(strides=(s,), pads="VALID", dilations=(d,), groups=1)
        grad = ref.vjp("conv", (x, np.ones((1, 1, k))), grad, **kw)[0]
    support = np.flatnonzero(grad[0, 0])
    assert support.max() - support.min() + 1 == receptive_field(layers)


@settings(max_examples=500)
@given(st.integers(1, 5), st.lists(st.integers(1, 4), min_size=1, max_size=4))
def test_usage_counts_count_the_paths(kernel, rates):
    """[receptive_field.gridding] counts[0][p] = number of tap paths from the top pixel to p."""
    counts = dilated_usage_counts(kernel, rates, ndim=1)
    paths = {}
    for taps in itertools.product(range(kernel), repeat=len(rates)):
        position = sum(m * r for m, r in zip(taps, rates))
        paths[position] = paths.get(position, 0) + 1
    expected = [paths.get(p, 0) for p in range(len(counts[0]))]
    assert counts[0].tolist() == expected
    assert len(counts[0]) == receptive_field([(kernel, 1, r) for r in rates])
    two_d = dilated_usage_counts(kernel, rates)[0]
    assert (two_d == np.multiply.outer(counts[0], counts[0])).all()


def test_seed_002_gridding_numbers():
    counts = dilated_usage_counts(3, [2, 2, 2])
    assert [c.shape for c in counts[:2]] == [(13, 13), (9, 9)]
    layer1, layer2 = counts[0], counts[1]
    assert (layer1[1::2, :] == 0).all() and (layer1[:, 1::2] == 0).all()  # the gaps
    # a layer-1 pixel used by layer-2 pixels used 1, 2 and 3 times is used 6 times
    assert dilated_usage_counts(3, [2, 2, 2], ndim=1)[0][4] == 1 + 2 + 3
    assert layer2.max() == 9 and layer1.max() == 49
    assert (dilated_usage_counts(3, [1, 2, 3])[0] > 0).all()


def holes(kernel, rates):
    return int((dilated_usage_counts(kernel, rates, ndim=1)[0] == 0).sum())


@settings(max_examples=1500)
@given(st.sampled_from([3, 5, 7]), st.lists(st.integers(1, 11), min_size=2, max_size=4))
def test_hdc_condition_implies_no_holes(kernel, rest):
    """[dilation.hdc] M_2 <= K is sufficient for a hole-free coverage (formulas.md section 13)."""
    rates = [1] + rest
    if hdc_m2(rates) <= kernel:
        assert holes(kernel, rates) == 0


def test_hdc_seed_examples_and_common_factor():
    assert hdc_m2([1, 2, 5]) == 2 and holes(3, [1, 2, 5]) == 0
    assert hdc_m2([1, 2, 9]) == 5 and holes(3, [1, 2, 9]) > 0
    assert holes(3, [2, 4, 8]) > 0
    assert holes(3, [1, 3, 1]) == 0 and hdc_m2([1, 3, 1]) > 3  # sufficient, not necessary


@settings(max_examples=500)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=3), st.integers(1, 4),
       st.integers(1, 4), st.integers(1, 4), st.booleans())
def test_conv_param_count_counts_the_weight_and_bias_arrays(kernel, g, cin_per, cout_per, bias):
    """[params.conv] the reference's weight (C_out, C_in/g, *k) and bias (C_out,)."""
    c_in, c_out = g * cin_per, g * cout_per
    w = np.zeros((c_out, c_in // g, *kernel))
    assert conv_param_count(kernel, c_in, c_out, groups=g, bias=bias) == w.size + (
        c_out if bias else 0)


def test_seed_parameter_counts():
    """[params.inception, conv.depthwise_separable] the worked numbers, exactly."""
    naive = [((1, 1), 192, 64), ((3, 3), 192, 128), ((5, 5), 192, 32)]
    reduced = [((1, 1), 192, 64), ((1, 1), 192, 96), ((1, 1), 192, 16), ((3, 3), 96, 128),
               ((5, 5), 16, 32), ((1, 1), 192, 32)]
    assert sum(conv_param_count(k, i, o, bias=False) for k, i, o in naive) == 387072
    assert sum(conv_param_count(k, i, o, bias=False) for k, i, o in reduced) == 163328
    assert (conv_param_count((1, 1), 96, 32, bias=False)
            + conv_param_count((3, 3), 32, 48, bias=False)) == 16896
    assert conv_param_count((3, 3), 96, 48, bias=False) == 41472
    assert conv_param_count((3, 3), 3, 4, bias=False) == 108
    assert depthwise_separable_param_count((3, 3), 3, 4) == 27 + 12 == 39


def count_products(input_shape, kernel_shape):
    """Multiplications of a valid unit-stride conv, counted in a loop."""
    out = [i - k + 1 for i, k in zip(input_shape, kernel_shape)]
    return sum(1 for _ in itertools.product(*map(range, out), *map(range, kernel_shape)))


@settings(max_examples=300)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 6), st.integers(0, 6))
def test_multiplication_counts(kh, kw, extra_h, extra_w):
    """[conv.spatially_separable] kx1 then 1xk against kxk (72 against 81)."""
    i_h, i_w = kh + extra_h, kw + extra_w
    assert conv_multiplications((i_h, i_w), (kh, kw)) == count_products((i_h, i_w), (kh, kw))
    first = count_products((i_h, i_w), (kh, 1))
    second = count_products((i_h - kh + 1, i_w), (1, kw))
    assert spatially_separable_multiplications((i_h, i_w), (kh, kw)) == first + second
    assert conv_multiplications((5, 5), (3, 3)) == 81
    assert spatially_separable_multiplications((5, 5), (3, 3)) == 72


@settings(max_examples=300)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=5), st.data())
def test_nchw_offsets_are_row_major(shape, data):
    """[layout.nchw_offsets] against NumPy's own C-order layout."""
    index = tuple(data.draw(st.integers(0, n - 1)) for n in shape)
    assert nchw_offset(index, shape) == np.arange(math.prod(shape)).reshape(shape)[index]
    assert nchw_offset(index, shape) == np.ravel_multi_index(index, shape)


def test_seed_nchw_offsets_and_spp():
    shape = (2, 16, 5, 4)
    assert nchw_offset((1, 0, 0, 0), shape) == 320
    assert nchw_offset((1, 15, 4, 3), shape) == 639
    assert [nchw_offset((0, 0, 1, 0), shape), nchw_offset((0, 1, 0, 0), shape)] == [4, 20]
    x = np.arange(math.prod(shape)).reshape(shape)
    assert (np.moveaxis(x, 1, -1).transpose(0, 3, 1, 2) == x).all()  # NHWC back to NCHW
    assert spp_feature_length(256) == 21 * 256


@pytest.mark.parametrize("h, w", [(13, 13), (7, 9), (4, 4), (30, 17)])
def test_spp_length_is_independent_of_the_input_size(h, w):
    """[pool.adaptive_bins] 4x4, 2x2, 1x1 bins over 256 maps."""
    x = np.ones((1, 256, h, w))
    features = np.concatenate([ref.adaptive_max_pool(x, output_size=b).reshape(-1)
                               for b in [(4, 4), (2, 2), (1, 1)]])
    assert features.size == spp_feature_length(256) == 5376
