"""Arithmetic of architectures, checked through the adapter's own ops (rules.md section 5):
parameter counts through the gradients a conv has, receptive fields and gridding through the
input gradient of one output of a stack of convs."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from cnnspec.spec import conv_param_count, dilated_usage_counts, hdc_m2, receptive_field

from ..registry import check
from ..strategies import dtypes


@st.composite
def conv_layers(draw):
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(draw(st.integers(1, 2))))
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
def inception_branches_have_the_seed_counts(op, module):
    layers, total = INCEPTION[module]
    counted = 0
    for k, c_in, c_out in layers:
        x = np.ones((1, c_in, k, k), np.float32)
        w = np.zeros((c_out, c_in, k, k), np.float32)
        params = dict(strides=(1, 1), pads=((0, 0), (0, 0)), dilations=(1, 1), groups=1)
        _, dw = op.vjp("conv", (x, w), np.ones((1, c_out, 1, 1), np.float32), **params)
        counted += dw.size
    op.expect_equal(f"parameters ({module}, no bias)", counted, total)


def _input_gradient_of_one_output(op, layers, ndim=1):
    """d(top pixel)/d(input) through a stack of unit-weight convs, by the adapter's VJPs."""
    sizes = [1]
    for k, s, d in reversed(layers):
        sizes.append((sizes[-1] - 1) * s + d * (k - 1) + 1)
    sizes.reverse()
    grad = np.ones((1, 1) + (1,) * ndim, np.float64)
    for (k, s, d), size in zip(reversed(layers), reversed(sizes[:-1])):
        x = np.zeros((1, 1) + (size,) * ndim, np.float64)
        w = np.ones((1, 1) + (k,) * ndim, np.float64)
        params = dict(strides=(s,) * ndim, pads=((0, 0),) * ndim, dilations=(d,) * ndim, groups=1)
        grad = op.vjp("conv", (x, w), grad, **params)[0].astype(np.float64)
    return grad[0, 0]


@check("receptive_field.recursion", layers=st.lists(
    st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3)), min_size=1, max_size=4))
def receptive_field_is_the_support_of_an_input_gradient(op, layers):
    support = np.flatnonzero(_input_gradient_of_one_output(op, layers))
    op.expect_equal("support of d(out)/d(x)", int(support.max() - support.min() + 1),
                    receptive_field(layers), layers=layers)


@check("receptive_field.gridding", rates=st.sampled_from([(2, 2, 2), (1, 2, 3), (1, 2, 5),
                                                          (2, 4, 8), (3, 3)]))
def stacked_dilated_convs_use_the_seed_counts(op, rates):
    """Seed 002: three 3x3 convs at rate 2 on 17x17; the input gradient of the top pixel counts
    how often each input is used: 13x13 in view, every other row and column unused."""
    grad = _input_gradient_of_one_output(op, [(3, 1, r) for r in rates], ndim=2)
    counts = dilated_usage_counts(3, rates)[0]
    op.expect_equal("d(top)/d(layer 1).shape", grad.shape, counts.shape)
    op.expect_equal("usage counts", grad.astype(np.int64).tolist(), counts.tolist(), rates=rates)


@check("dilation.hdc", rates=st.lists(st.integers(1, 9), min_size=2, max_size=4).map(
    lambda r: (1, *r)))
def hdc_designs_leave_no_holes(op, rates):
    """M_2 <= K implies every input in the field is used ([1, 2, 5] yes, [1, 2, 9] no)."""
    grad = _input_gradient_of_one_output(op, [(3, 1, r) for r in rates])
    holes = int((grad == 0).sum())
    if hdc_m2(rates) <= 3:
        op.expect_equal(f"holes of rates {list(rates)} (M_2 = {hdc_m2(rates)} <= 3)", holes, 0)
    op.expect_equal("usage counts", grad.astype(np.int64).tolist(),
                    dilated_usage_counts(3, rates, ndim=1)[0].tolist())
