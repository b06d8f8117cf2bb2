"""Arithmetic of architectures, checked through the adapter's own ops (rules.md section 5):
parameter counts through the gradients a conv has, receptive fields and gridding through the
input gradient of one output of a stack of convs."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from cnnspec.spec import conv_param_count, dilated_usage_counts, hdc_m2, receptive_field

from ..registry import check
from ..strategies import as_dtype, dtypes, spatial_ranks


@st.composite
def conv_layers(draw):
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(draw(spatial_ranks(1, 3))))
    groups = draw(st.integers(1, 3))
    return kernel, groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3)), groups


@check("params.conv", layer=conv_layers(), dtype=dtypes(["float32", "float64"]))
def a_conv_has_exactly_the_counted_parameters(op, layer, dtype):
    """The gradients the adapter returns for (w, b) hold prod(k)*(C_in/g)*C_out + C_out numbers."""
    kernel, c_in, c_out, groups = layer
    ndim = len(kernel)
    x = np.ones((1, c_in) + tuple(k + 1 for k in kernel), dtype)
    w = np.ones((c_out, c_in // groups) + kernel, dtype)
    b = np.zeros(c_out, dtype)
    params = dict(strides=(1,) * ndim, pads=((0, 0),) * ndim, dilations=(1,) * ndim, groups=groups)
    y = op.conv(x, w, b, **params)
    _, dw, db = op.vjp("conv", (x, w, b), np.ones_like(y), **params)
    op.expect_equal("dw.size + db.size", dw.size + db.size,
                    conv_param_count(kernel, c_in, c_out, groups=groups))


INCEPTION = {  # on a 28x28x192 input; the counts do not depend on the spatial size
    "naive": ([(1, 192, 64), (3, 192, 128), (5, 192, 32)], 387072),
    "with 1x1 reductions": ([(1, 192, 64), (1, 192, 96), (1, 192, 16), (3, 96, 128),
                             (5, 16, 32), (1, 192, 32)], 163328),
}


@check("params.inception", module=st.sampled_from(sorted(INCEPTION)))
def inception_branches_have_the_counted_parameters(op, module):
    layers, total = INCEPTION[module]
    counted = 0
    for k, c_in, c_out in layers:
        x = np.ones((1, c_in, k, k), np.float32)
        w = np.zeros((c_out, c_in, k, k), np.float32)
        params = dict(strides=(1, 1), pads=((0, 0), (0, 0)), dilations=(1, 1), groups=1)
        _, dw = op.vjp("conv", (x, w), np.ones((1, c_out, 1, 1), np.float32), **params)
        counted += dw.size
    op.expect_equal(f"parameters ({module}, no bias)", counted, total)


def _input_gradient_of_one_output(op, layers, ndim=1, dtype="float64"):
    """d(top pixel)/d(input) through a stack of unit-weight convs, by the adapter's VJPs, with
    every array in `dtype` (the counts are small integers, exact where the checks use them)."""
    sizes = [1]
    for k, s, d in reversed(layers):
        sizes.append((sizes[-1] - 1) * s + d * (k - 1) + 1)
    sizes.reverse()
    dtype = as_dtype(dtype)
    grad = np.ones((1, 1) + (1,) * ndim, dtype)
    for (k, s, d), size in zip(reversed(layers), reversed(sizes[:-1])):
        x = np.zeros((1, 1) + (size,) * ndim, dtype)
        w = np.ones((1, 1) + (k,) * ndim, dtype)
        params = dict(strides=(s,) * ndim, pads=((0, 0),) * ndim, dilations=(d,) * ndim, groups=1)
        grad = op.vjp("conv", (x, w), grad, **params)[0].astype(dtype)
    return grad[0, 0].astype(np.float64)


@st.composite
def conv_stacks(draw):
    """1-4 layers (kernel, stride, dilation) on 1 spatial axis, or 1-3 smaller ones on 2 or 3
    (the input grows as the product of the strides), and a dtype."""
    ndim = draw(spatial_ranks(1, 3))
    small = ndim > 1
    layer = st.tuples(st.integers(1, 3 if small else 4), st.integers(1, 2 if small else 3),
                      st.integers(1, 2 if small else 3))
    layers = draw(st.lists(layer, min_size=1, max_size=3 if small else 4))
    return layers, ndim, draw(dtypes())


@check("receptive_field.recursion", stack=conv_stacks())
def receptive_field_is_the_support_of_an_input_gradient(op, stack):
    layers, ndim, dtype = stack
    grad = _input_gradient_of_one_output(op, layers, ndim, dtype)
    extent = tuple(int(idx.max() - idx.min() + 1) for idx in np.nonzero(grad))
    op.expect_equal("support of d(out)/d(x)", extent, (receptive_field(layers),) * ndim,
                    layers=layers)


@check("receptive_field.gridding", rates=st.sampled_from([(2, 2, 2), (1, 2, 3), (1, 2, 5),
                                                          (2, 4, 8), (3, 3)]),
       dtype=dtypes(("float32", "float64")))  # counts up to 27^2: exact in these
def stacked_dilated_convs_use_the_counted_taps(op, rates, dtype):
    """Worked example: three 3x3 convs at rate 2 on 17x17; the input gradient of the top pixel counts
    how often each input is used: 13x13 in view, every other row and column unused."""
    grad = _input_gradient_of_one_output(op, [(3, 1, r) for r in rates], ndim=2, dtype=dtype)
    counts = dilated_usage_counts(3, rates)[0]
    op.expect_equal("d(top)/d(layer 1).shape", grad.shape, counts.shape)
    op.expect_equal("usage counts", grad.astype(np.int64).tolist(), counts.tolist(), rates=rates)


@check("dilation.hdc", rates=st.lists(st.integers(1, 9), min_size=2, max_size=4).map(
    lambda r: (1, *r)), ndim=spatial_ranks(1, 2), dtype=dtypes(("float32", "float64")))
def hdc_designs_leave_no_holes(op, rates, ndim, dtype):
    """M_2 <= K implies every input in the field is used ([1, 2, 5] yes, [1, 2, 9] no); the
    counts (up to 3^5 per axis) are exact in float32."""
    grad = _input_gradient_of_one_output(op, [(3, 1, r) for r in rates], ndim, dtype)
    holes = int((grad == 0).sum())
    if hdc_m2(rates) <= 3:
        op.expect_equal(f"holes of rates {list(rates)} (M_2 = {hdc_m2(rates)} <= 3)", holes, 0)
    op.expect_equal("usage counts", grad.astype(np.int64).tolist(),
                    dilated_usage_counts(3, rates, ndim=ndim)[0].tolist())
