"""Gradients through the adapter's own autodiff (rules.md section 3)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from cnnspec.spec import reference as ref

from .. import expected
from ..registry import check
from ..domains import alphas
from ..strategies import (ConvCase, activation_inputs, adaptive_calls, as_dtype, conv_cases, distinct,
                          without_ties,
                          conv_transpose_cases, dtypes, on_an_axis, pool_case, pool_cases,
                          shuffle_calls, upsample_calls, values, with_cotangent)
from ..tolerance import policy


@check("grad.max_pool.routing", call=with_cotangent(without_ties(
    pool_cases(ceil_mode=False).filter(
        lambda c: all(k <= s for k, s in zip(c.params["kernel_shape"], c.params["strides"]))))))
def max_pool_gradient_goes_to_the_argmax_only(op, call):
    case, dy = call
    x = case.x
    (dx,) = op.vjp("max_pool", (x,), dy, **case.params)
    op.expect_close(dx, ref.max_pool_vjp(x, dy, **case.params), policy("exact", x.dtype),
                    quantity="dx")


@check("grad.max_pool.overlap_accumulates", call=with_cotangent(without_ties(
    pool_cases().filter(
        lambda c: any(k > s for k, s in zip(c.params["kernel_shape"], c.params["strides"]))))))
def overlapping_max_pool_gradients_add_up(op, call):
    case, dy = call
    x = case.x
    (dx,) = op.vjp("max_pool", (x,), dy, **case.params)
    want = ref.max_pool_vjp(x, dy, **case.params)
    scale = ref.max_pool_vjp(x, np.abs(dy.astype(np.float64)), **case.params)
    reduction = math.prod(case.params["kernel_shape"])
    op.expect_close(dx, want, policy("reduction", x.dtype, reduction), scale=scale, quantity="dx")


# Pinned: a tie on 3 spatial axes (window 2 holds two zeros), where TF's CPU MaxPool3DGrad
# gives both the cotangent; random draws reach 3-d ties only now and then.
TIE_3D = pool_case(np.array([2.0, 0.0, 0.0], np.float32).reshape(1, 1, 3, 1, 1),
                   kernel_shape=(2, 1, 1), strides=(1, 1, 1), pads=((0, 0),) * 3,
                   dilations=(1, 1, 1), ceil_mode=False)


@check("grad.max_pool.ties", call=with_cotangent(pool_cases(style="ties")),
       examples=[{"call": (TIE_3D, np.array([1.0, -2.0], np.float32).reshape(1, 1, 2, 1, 1))}])
def tied_maxima_send_the_gradient_to_the_first_in_scan_order(op, call):
    case, dy = call
    (dx,) = op.vjp("max_pool", (case.x,), dy, **case.params)
    want = ref.max_pool_vjp(case.x, dy, **case.params)
    scale = ref.max_pool_vjp(case.x, np.abs(dy.astype(np.float64)), **case.params)
    reduction = math.prod(case.params["kernel_shape"])
    op.expect_close(dx, want, policy("reduction", case.x.dtype, reduction), scale=scale,
                    quantity="dx")
    if op.supports("max_pool_argmax", case.x, **case.params) is True:
        index = op.max_pool_argmax(case.x, **case.params)
        op.expect_close(index, ref.max_pool_argmax(case.x, **case.params),
                        policy("exact", "float64"), quantity="argmax")
    op.convention("first maximum in scan order")


@check("grad.avg_pool.uniform", call=with_cotangent(pool_cases(op="avg_pool")))
def avg_pool_gradient_is_spread_evenly(op, call):
    case, dy = call
    (dx,) = op.vjp("avg_pool", (case.x,), dy, **case.params)
    want = ref.avg_pool_vjp(case.x, dy, **case.params)
    scale = ref.avg_pool_vjp(case.x, np.abs(dy.astype(np.float64)), **case.params)
    op.expect_close(dx, want, policy("reduction", case.x.dtype,
                                     math.prod(case.params["kernel_shape"])),
                    scale=scale, quantity="dx")


@check("grad.conv.input", call=with_cotangent(conv_cases(bias=False)))
def conv_input_gradient_matches_reference(op, call):
    case, dy = call
    dx, _ = op.vjp("conv", (case.x, case.w), dy, **case.params)
    want, _, _ = ref.conv_vjp(case.x, case.w, None, dy, **case.params)
    scale, _, _ = ref.conv_vjp(case.x, np.abs(case.w.astype(np.float64)), None,
                               np.abs(dy.astype(np.float64)), **case.params)
    reduction = case.w.shape[0] * math.prod(case.w.shape[2:])
    op.expect_close(dx, want, policy("reduction", case.x.dtype, reduction), scale=scale,
                    quantity="dx")


@check("grad.conv.weight", call=with_cotangent(conv_cases(bias=True)))
def conv_weight_gradient_matches_reference(op, call):
    case, dy = call
    _, dw, db = op.vjp("conv", (case.x, case.w, case.b), dy, **case.params)
    _, want, want_b = ref.conv_vjp(case.x, case.w, case.b, dy, **case.params)
    _, scale, scale_b = ref.conv_vjp(np.abs(case.x.astype(np.float64)), case.w, case.b,
                                     np.abs(dy.astype(np.float64)), **case.params)
    positions = case.x.shape[0] * math.prod(case.out_shape[2:])
    op.expect_close(dw, want, policy("reduction", case.x.dtype, positions), scale=scale,
                    quantity="dw")
    op.expect_close(db, want_b, policy("reduction", case.x.dtype, positions), scale=scale_b,
                    quantity="db")


def _unit_vjp(op, name, x, **params):
    (dx,) = op.vjp(name, (x,), np.ones_like(x), **params)
    return dx.astype(np.float64)


@check("grad.relu.at_zero", dtype=dtypes())
def relu_derivative_is_a_step_with_a_convention_at_zero(op, dtype):
    x = np.array([[[-2.0, -0.5, 0.0, 0.5, 3.0]]]).astype(as_dtype(dtype))
    dx = _unit_vjp(op, "relu", x)[0, 0]
    op.expect_close(dx[[0, 1, 3, 4]], np.array([0.0, 0.0, 1.0, 1.0]), policy("exact", dtype),
                    quantity="relu'(x != 0)")
    if dx[2] in (0.0, 1.0):
        op.convention(f"relu'(0) = {dx[2]:g}")
    else:
        op.fail("relu'(0)", float(dx[2]), "0 or 1")


def _kink(op, name, value, left, right, dtype, left_name=None):
    """`value` is the left or right derivative at a kink, or their mean, in `dtype`; the
    convention names the side (the left value by `left_name` when given, e.g. "alpha"). Where
    both sides round to one value there is no side to record."""
    eps = policy("transcendental", dtype).bound(np.ones(1), 0.0)[0]
    candidates = {"left": left, "right": right, "mean": (left + right) / 2}
    rounded = {side: float(np.asarray(c).astype(as_dtype(dtype))) for side, c in candidates.items()}
    for side, candidate in candidates.items():
        if abs(value - rounded[side]) <= eps * abs(rounded[side]):
            if rounded["left"] != rounded["right"]:
                shown = left_name if side == "left" and left_name else f"{candidate:g}"
                op.convention(f"{name} = {shown} ({side})")
            return
    op.fail(name, float(value), f"{left:g}, {right:g} or their mean")


@check("grad.kinks", x=activation_inputs(dtype="float32"), dtype=dtypes(), alpha=alphas())
def activation_derivatives_follow_their_formulas_and_pick_a_side_at_kinks(op, x, dtype, alpha):
    with np.errstate(over="ignore"):
        x = x.astype(as_dtype(dtype))
    # zeros of x's dtype, not the int 0: numpy 1.x finds no common dtype of bfloat16 and int64
    x = np.where(np.isfinite(x.astype(np.float64)), x, np.zeros_like(x))
    away = (x.astype(np.float64) != 0) & (x.astype(np.float64) != 6)
    tol = policy("transcendental", dtype)
    kinks = np.array([[[0.0, 6.0]]]).astype(as_dtype(dtype))
    activations = [("leaky_relu", {"alpha": alpha}, ref.leaky_relu_vjp),
                   ("relu6", {}, ref.relu6_vjp), ("elu", {"alpha": alpha}, ref.elu_vjp)]
    # e.g. an elu without alpha: the other two are still checked; with none, the draw is declined
    supported = [a for a in activations if op.supports(a[0], x, vjp=True, **a[1]) is True]
    if not supported:
        op.require(activations[0][0], x, vjp=True, **activations[0][1])
    for name, params, reference in supported:
        dx = _unit_vjp(op, name, x, **params)
        want = reference(x, np.ones_like(x, dtype=np.float64), **params)
        op.expect_close(dx[away], want[away], tol, quantity=f"{name}'(x) (alpha={alpha!r})"
                        if params else f"{name}'(x)")
        at = _unit_vjp(op, name, kinks, **params)[0, 0]
        if name == "leaky_relu":
            _kink(op, "leaky_relu'(0)", at[0], alpha, 1.0, dtype, left_name="alpha")
        elif name == "relu6":
            _kink(op, "relu6'(0)", at[0], 0.0, 1.0, dtype)
            _kink(op, "relu6'(6)", at[1], 1.0, 0.0, dtype)
        else:
            _kink(op, "elu'(0)", at[0], alpha, 1.0, dtype, left_name="alpha")


@check("grad.sigmoid.bounded", x=activation_inputs())
def sigmoid_derivative_is_at_most_a_quarter(op, x):
    dx = _unit_vjp(op, "sigmoid", x)
    want = ref.sigmoid_vjp(x, np.ones(x.shape))
    op.expect_close(dx, want, policy("transcendental", x.dtype),
                    scale=expected.sigmoid_grad_scale(x), quantity="sigmoid'(x)")
    top = float(np.nanmax(dx))
    op.expect_true("max sigmoid'(x)", top, "<= 0.25", top <= 0.25)
    at_zero = _unit_vjp(op, "sigmoid", np.zeros((1, 1, 1), dtype=x.dtype))
    op.expect_equal("sigmoid'(0)", float(at_zero.item()), 0.25)


@st.composite
def softmax_gradients(draw):
    dtype = draw(dtypes())
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 6)))
    return values(draw, shape, dtype, "normal"), values(draw, shape, dtype, "integers")


@check("grad.softmax", case=on_an_axis(softmax_gradients()))
def softmax_vjp_is_s_times_dy_minus_its_mean(op, case):
    x, dy = case.last
    (dx,) = op.vjp("softmax", (case.arrays[0],), case.arrays[1], axis=case.axis)
    dx = case.back(dx)
    want = ref.softmax_vjp(x, dy, axis=-1)
    dy64 = np.abs(dy.astype(np.float64))
    s = ref.softmax(x, axis=-1)  # the terms of s * (dy - sum(dy * s)), s with its own error
    scale = (s * (dy64 + (s * dy64).sum(axis=-1, keepdims=True))
             + dy64.max() * expected.softmax_scale(x))
    op.expect_close(dx, want, expected.softmax_tolerance(x), scale=scale,
                    quantity=f"dx (axis={case.axis})")


@check("grad.log_softmax", case=on_an_axis(softmax_gradients()))
def log_softmax_vjp_is_dy_minus_s_times_its_sum(op, case):
    x, dy = case.last
    (dx,) = op.vjp("log_softmax", (case.arrays[0],), case.arrays[1], axis=case.axis)
    dx = case.back(dx)
    want = ref.log_softmax_vjp(x, dy, axis=-1)
    dy64 = np.abs(dy.astype(np.float64))
    s = ref.softmax(x, axis=-1)  # the terms of dy - s * sum(dy), s with its own error
    scale = (dy64 + s * dy64.sum(axis=-1, keepdims=True)
             + dy64.sum(axis=-1, keepdims=True) * expected.softmax_scale(x))
    op.expect_close(dx, want, expected.softmax_tolerance(x), scale=scale,
                    quantity=f"dx (axis={case.axis})")


@check("grad.tanh", call=with_cotangent(activation_inputs()))
def tanh_derivative_is_one_minus_tanh_squared(op, call):
    x, dy = call
    (dx,) = op.vjp("tanh", (x,), dy)
    want = ref.tanh_vjp(x, dy)
    scale = np.abs(dy.astype(np.float64)) * expected.tanh_grad_scale(x)
    op.expect_close(dx, want, policy("transcendental", x.dtype), scale=scale,
                    quantity="dy * tanh'(x)")
    at_zero = _unit_vjp(op, "tanh", np.zeros((1, 1, 1), dtype=x.dtype))
    op.expect_equal("tanh'(0)", float(at_zero.item()), 1.0)


def _conv_transpose_gradients(op, case, dy, with_bias):
    """The adapter's and the reference's VJP of a transposed conv, and the reference's on
    |x|, |w| and |dy| (the magnitude of the summed terms)."""
    arrays = (case.x, case.w, case.b) if with_bias else (case.x, case.w)
    got = op.vjp("conv_transpose", arrays, dy, **case.params)
    want = ref.conv_transpose_vjp(case.x, case.w, case.b, dy, **case.params)
    magnitude = [None if a is None else np.abs(a.astype(np.float64))
                 for a in (case.x, case.w, case.b, dy)]
    scale = ref.conv_transpose_vjp(*magnitude, **case.params)
    return got, want, scale


# A VALID transposed conv whose kernel (1) is shorter than its stride (3): the spec's output is
# (i-1)*s + k = 4 long; a library that makes it (i-1)*s + max(k, s) = 6 long (Keras) has a VJP
# that cannot take the spec's cotangent.
KERNEL_BELOW_STRIDE = (ConvCase(np.ones((1, 1, 2), np.float32), np.ones((1, 1, 1), np.float32), None,
                                dict(strides=(3,), pads="VALID", dilations=(1,), groups=1,
                                     output_padding=(0,)), (1, 1, 4)),
                       np.ones((1, 1, 4), np.float32))


@check("grad.conv_transpose.input", call=with_cotangent(conv_transpose_cases(bias=False)),
       examples=[{"call": KERNEL_BELOW_STRIDE}])
def conv_transpose_input_gradient_is_a_conv(op, call):
    case, dy = call
    (dx, _), (want, _, _), (scale, _, _) = _conv_transpose_gradients(op, case, dy, False)
    reduction = case.w.shape[1] * math.prod(case.w.shape[2:])  # C_out/g * taps per dx element
    op.expect_close(dx, want, policy("reduction", case.dtype, reduction), scale=scale,
                    quantity="dx")


@check("grad.conv_transpose.weight", call=with_cotangent(conv_transpose_cases(bias=True)),
       examples=[{"call": (KERNEL_BELOW_STRIDE[0]._replace(b=np.ones(1, np.float32)),
                           KERNEL_BELOW_STRIDE[1])}])
def conv_transpose_weight_gradient_correlates_dy_with_x(op, call):
    case, dy = call
    (_, dw, db), (_, want, want_b), (_, scale, scale_b) = _conv_transpose_gradients(
        op, case, dy, True)
    positions = case.x.shape[0] * math.prod(case.x.shape[2:])
    op.expect_close(dw, want, policy("reduction", case.dtype, positions), scale=scale,
                    quantity="dw")
    outputs = case.x.shape[0] * math.prod(case.out_shape[2:])
    op.expect_close(db, want_b, policy("reduction", case.dtype, outputs), scale=scale_b,
                    quantity="db")


@st.composite
def adaptive_gradient_calls(draw, ties=True):
    """(x, output_size, dy): an adaptive-pool call, its input with distinct values unless
    `ties`, and a cotangent of its output."""
    x, output_size = draw(adaptive_calls())
    x = x if ties else distinct(draw, x)  # distinct may widen x to hold them exactly
    return x, output_size, values(draw, x.shape[:2] + output_size, x.dtype.name, "integers")


def _adaptive_gradient(op, name, call):
    """`name`'s VJP against the reference's; an element lies in up to 2 bins per axis."""
    x, output_size, dy = call
    (dx,) = op.vjp(name, (x,), dy, output_size=output_size)
    reference = getattr(ref, f"{name}_vjp")
    want = reference(x, dy, output_size=output_size)
    scale = reference(x, np.abs(dy.astype(np.float64)), output_size=output_size)
    shares = 2 ** len(output_size)
    op.expect_close(dx, want, policy("reduction", x.dtype, shares), scale=scale, quantity="dx")


@check("grad.adaptive_pool", requires=[("adaptive_avg_pool", {})], call=adaptive_gradient_calls())
def adaptive_avg_pool_gradient_spreads_each_bin(op, call):
    _adaptive_gradient(op, "adaptive_avg_pool", call)


@check("grad.adaptive_pool", requires=[("adaptive_max_pool", {})],
       call=adaptive_gradient_calls(ties=False))  # ties are grad.max_pool.ties' matter
def adaptive_max_pool_gradient_goes_to_each_bins_maximum(op, call):
    _adaptive_gradient(op, "adaptive_max_pool", call)


@st.composite
def upsample_gradient_calls(draw):
    """(x, scale_factors, dy): an upsampling call and a cotangent of its output."""
    x, factors = draw(upsample_calls())
    out = x.shape[:2] + tuple(i * r for i, r in zip(x.shape[2:], factors))
    return x, factors, values(draw, out, x.dtype.name, "integers")


@check("grad.upsample.nearest", requires=[("upsample_nearest", {})],
       call=upsample_gradient_calls())
def nearest_upsampling_gradient_sums_each_block(op, call):
    x, factors, dy = call
    (dx,) = op.vjp("upsample_nearest", (x,), dy, scale_factors=factors)
    want = ref.upsample_nearest_vjp(x, dy, scale_factors=factors)
    scale = ref.upsample_nearest_vjp(x, np.abs(dy.astype(np.float64)), scale_factors=factors)
    op.expect_close(dx, want, policy("reduction", x.dtype, math.prod(factors)), scale=scale,
                    quantity="dx")


@check("grad.pixel_shuffle", requires=[("pixel_shuffle", {})], call=shuffle_calls())
def pixel_shuffle_gradient_is_the_inverse_shuffle(op, call):
    x, r = call
    n, c, h, w = x.shape
    # distinct values (a period of 251: exact in float16 and bfloat16), so that any misplaced
    # element shows: a permutation's gradient is checked by where each value lands
    dy = (np.arange(x.size).reshape(n, c // (r * r), h * r, w * r) % 251 - 125).astype(x.dtype)
    (dx,) = op.vjp("pixel_shuffle", (x,), dy, upscale_factor=r)
    op.expect_close(dx, ref.pixel_shuffle_vjp(x, dy, upscale_factor=r), policy("exact", x.dtype),
                    quantity="dx")
