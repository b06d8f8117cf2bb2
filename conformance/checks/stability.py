"""Numerical stability of softmax, log-softmax, sigmoid and the activations (rules.md section 4)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from cnnspec.adapters import OPS
from cnnspec.spec import reference as ref

from .. import expected
from ..domains import alphas
from ..registry import check
from ..strategies import (activation_inputs, as_dtype, codes, dtypes, logits, normals, on_an_axis,
                          on_last_axis, signed, values)
from ..tolerance import policy

SOFTMAX_ROWS = {  # pinned rows of rules.md
    "underflow": np.array([[-10000.0, -10000.0]], dtype=np.float32),
    "overflow": np.array([[800.0, 1.0, 1.0]], dtype=np.float32),
    "log_of_softmax": np.array([[0.0, -1000.0]], dtype=np.float32),
}


def _softmax_matches(op, case, name="softmax"):
    """The adapter's softmax (or log_softmax) of `case` along its axis, against the reference;
    returned in float64 with the axis last."""
    x = case.last[0]
    out = getattr(op, name)(case.x, axis=case.axis)
    op.expect_equal(f"{name}(x, axis={case.axis}).shape", out.shape, case.x.shape)
    got = case.back(out)
    want = getattr(ref, name)(x, axis=-1)
    scale = (expected.softmax_scale if name == "softmax" else expected.log_softmax_scale)(x)
    finite = np.isfinite(got.astype(np.float64))[np.isfinite(want)]
    op.expect_true(f"{name}(x, axis={case.axis})", got.astype(np.float64).tolist(),
                   "finite where the reference is", bool(finite.all()))
    op.expect_close(got, want, expected.softmax_tolerance(x), scale=scale,
                    quantity=f"{name}(x, axis={case.axis})")
    return got.astype(np.float64)


@st.composite
def shifted_logits(draw):
    dtype = draw(dtypes())
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 6)))
    x = signed(codes(draw, math.prod(shape)) % 17).reshape(shape)
    shift = draw(st.integers(-100, 100))  # integers: x and x + c are exact in every dtype
    return x.astype(as_dtype(dtype)), (x + shift).astype(as_dtype(dtype))


@check("softmax.shift_invariance", case=on_an_axis(shifted_logits()))
def softmax_ignores_a_constant_shift(op, case):
    x, shifted = case.last
    want = ref.softmax(x, axis=-1)
    tol, scale = expected.softmax_tolerance(x), expected.softmax_scale(x)
    base = case.back(op.softmax(case.x, axis=case.axis))
    moved = case.back(op.softmax(case.arrays[1], axis=case.axis))
    op.expect_close(moved, want, tol, scale=scale, quantity=f"softmax(x + c, axis={case.axis})")
    op.expect_close(base, want, tol, scale=scale, quantity=f"softmax(x, axis={case.axis})")


def _softmax_sums_to_one(op, case):
    """softmax matches the reference and each slice along the axis sums to 1."""
    got = _softmax_matches(op, case)
    op.expect_close(got.sum(axis=-1), np.ones(got.shape[:-1]),
                    expected.softmax_tolerance(case.last[0]), quantity="sum(softmax(x))")


@check("softmax.overflow", case=on_an_axis(logits(style="huge")),
       examples=[{"case": on_last_axis(SOFTMAX_ROWS["overflow"])}])
def softmax_survives_logits_near_the_dtype_maximum(op, case):
    _softmax_sums_to_one(op, case)


@check("softmax.underflow", case=on_an_axis(logits(style="negative")),
       examples=[{"case": on_last_axis(SOFTMAX_ROWS["underflow"])}])
def softmax_survives_very_negative_logits(op, case):
    _softmax_sums_to_one(op, case)


@check("softmax.simplex", case=on_an_axis(logits()))
def softmax_lies_on_the_simplex_and_keeps_the_order(op, case):
    got = _softmax_matches(op, case)
    op.expect_true("min(softmax(x))", float(got.min()), ">= 0", bool((got >= 0).all()))
    op.expect_true("max(softmax(x))", float(got.max()), "<= 1", bool((got <= 1).all()))
    n = got.shape[-1]
    xs = case.last[0].astype(np.float64).reshape(-1, n)
    for row, out in zip(xs, got.reshape(-1, n)):
        order = np.argsort(row, kind="stable")
        ordered = out[order]
        strictly_less = np.diff(row[order]) > 0
        op.expect_true("softmax order", ordered.tolist(), "non-decreasing with x",
                       bool((np.diff(ordered)[strictly_less] >= 0).all()))


@st.composite
def masked_logits(draw):
    """Two rows: row 0 with some -inf (not all), row 1 all -inf; the -inf mask of row 0."""
    dtype = draw(dtypes())
    n = draw(st.integers(2, 6))
    x = normals(draw, 2 * n).reshape(2, n) * 3
    masked = (codes(draw, 2 * n) % 5 >= 3).reshape(2, n)  # 2 in 5: -inf
    masked[0, 0] = False  # row 0 keeps a finite logit; row 1 is all -inf
    x[0][masked[0]] = -np.inf
    x[1] = -np.inf
    return x.astype(as_dtype(dtype))


@check("softmax.neg_inf", case=on_an_axis(masked_logits(), extra_axes=False))
def minus_infinity_gets_exactly_zero(op, case):
    x = case.last[0]
    masked = np.isneginf(x[0].astype(np.float64))
    got = case.back(op.softmax(case.x, axis=case.axis)).astype(np.float64)
    op.expect_close(got[0], ref.softmax(x[:1], axis=-1)[0], expected.softmax_tolerance(x),
                    scale=expected.softmax_scale(x[:1])[0], quantity=f"softmax(x, axis={case.axis})")
    op.expect_true("softmax(-inf)", got[0][masked].tolist(), "exactly 0",
                   bool((got[0][masked] == 0).all()))
    row = got[1]
    if np.isnan(row).all():
        op.convention("all -inf row: NaN")
    elif (row == 0).all():
        op.convention("all -inf row: 0")
    else:
        op.fail("softmax(all -inf)", row.tolist(), "all NaN or all 0")


@check("log_softmax.stability", case=on_an_axis(logits()),
       examples=[{"case": on_last_axis(SOFTMAX_ROWS["log_of_softmax"])}])
def log_softmax_is_x_minus_logsumexp(op, case):
    _softmax_matches(op, case, name="log_softmax")


@check("log_softmax.stability", case=on_an_axis(masked_logits(), extra_axes=False))
def log_softmax_of_minus_infinity_is_minus_infinity(op, case):
    """Row 0 of `masked_logits`: -inf logits give exactly -inf (log 0), the others
    x - logsumexp(x) of the finite ones; row 1 (all -inf) is softmax.neg_inf's matter."""
    x = case.last[0]
    got = case.back(op.log_softmax(case.x, axis=case.axis)).astype(np.float64)[0]
    masked = np.isneginf(x[0].astype(np.float64))
    op.expect_true("log_softmax(-inf)", got[masked].tolist(), "exactly -inf",
                   bool(np.isneginf(got[masked]).all()))
    want = ref.log_softmax(x[:1], axis=-1)[0]
    scale = expected.log_softmax_scale(x[:1])[0]
    op.expect_close(got[~masked], want[~masked], expected.softmax_tolerance(x),
                    scale=scale[~masked], quantity=f"log_softmax(x, axis={case.axis})")


# Sigmoid's far negative tail, about 4e-18 at -40 and still normal in float64 at -700: a
# cut-off that returns 0 there (right for float32 or float16) is wrong in float64.
SIGMOID_TAIL = (-41.0, -50.0, -100.0, -700.0)


@check("sigmoid.stability", x=activation_inputs(extra=SIGMOID_TAIL),
       examples=[{"x": np.array([[SIGMOID_TAIL]], dtype=np.float64)}])
def sigmoid_is_finite_bounded_and_symmetric(op, x):
    got = op.sigmoid(x).astype(np.float64)
    op.expect_true("sigmoid(x)", got.tolist(), "finite, in [0, 1]",
                   bool((np.isfinite(got) & (got >= 0) & (got <= 1)).all()))
    op.expect_close(got, ref.sigmoid(x), policy("transcendental", x.dtype))
    mirrored = op.sigmoid(-x).astype(np.float64)
    op.expect_close(mirrored, 1 - ref.sigmoid(x), policy("transcendental", x.dtype),
                    scale=np.maximum(ref.sigmoid(x), ref.sigmoid(-x)), quantity="sigmoid(-x)")


@check("sigmoid.stability", x=activation_inputs(nan=True))
def sigmoid_keeps_a_nan(op, x):
    """NaN in, NaN out; the other elements as ever."""
    got = op.sigmoid(x)
    op.expect_close(got, ref.sigmoid(x), policy("transcendental", x.dtype))


ACTIVATIONS = [  # (rule, op, tolerance kind); the op's keywords (an alpha) from the op table
    ("activation.relu", "relu", "exact"),
    ("activation.leaky_relu", "leaky_relu", "transcendental"),
    ("activation.relu6", "relu6", "exact"),
    ("activation.elu", "elu", "transcendental"),
    ("activation.tanh", "tanh", "transcendental"),
]


def _activation_check(rule_id, name, takes_alpha, kind, nan):
    """One check of `name` against its formula on `activation_inputs`, with a NaN among them
    when `nan` (the formula keeps it: NaN in, NaN out)."""
    drawn = {"alpha": alphas()} if takes_alpha else {}

    def activation_matches_its_formula(op, x, **params):
        got = getattr(op, name)(x, **params)
        scale = expected.elu_scale(x, params["alpha"]) if name == "elu" else None
        shown = f"{name}(x, alpha={params['alpha']!r})" if params else f"{name}(x)"
        want = expected.representable(getattr(ref, name)(x, **params), x.dtype)
        op.expect_close(got, want, policy(kind, x.dtype), scale=scale, quantity=shown)
        if name == "tanh":
            finite = np.isfinite(x.astype(np.float64))
            negated = op.tanh(-x).astype(np.float64)
            op.expect_close(negated[finite], -got.astype(np.float64)[finite],
                            policy("transcendental", x.dtype), quantity="tanh(-x)")
        if name == "elu":  # saturates at -alpha, as the dtype holds it
            lowest = op.elu(np.array([[[-1e4]]], dtype=x.dtype), **params)
            saturation = float(np.asarray(-params["alpha"]).astype(x.dtype))
            op.expect_equal(f"elu(-1e4, alpha={params['alpha']!r})", float(lowest.item()),
                            saturation)

    activation_matches_its_formula.__name__ = (f"{name}_keeps_a_nan" if nan
                                               else f"{name}_matches_its_formula")
    return check(rule_id, x=activation_inputs(nan=nan), **drawn)(activation_matches_its_formula)


ACTIVATION_CHECKS = tuple(  # all_checks() finds them here
    _activation_check(rule_id, name, "alpha" in OPS[name], kind, nan)
    for rule_id, name, kind in ACTIVATIONS for nan in (False, True))


def _all_dtypes():
    return dtypes(("float16", "bfloat16", "float32", "float64"))


@st.composite
def _conv_arrays_in(draw, names):
    """(x, w): a conv's input (1, 4, 6, 6) and weight (3, 4, 3, 3) in a dtype drawn from
    `names`."""
    dtype = draw(names)
    return tuple(values(draw, shape, dtype, "normal") for shape in ((1, 4, 6, 6), (3, 4, 3, 3)))


@check("tolerance.policy", call=_conv_arrays_in(_all_dtypes()))
def each_dtype_is_within_its_row_of_the_table(op, call):
    """The same conv and softmax in every dtype, each held to its own row of the table."""
    x, w = call
    params = dict(strides=(1, 1), pads=((1, 1), (1, 1)), dilations=(1, 1), groups=1)
    want, scale, tol = expected.conv(x, w, None, params)
    op.expect_close(op.conv(x, w, **params), want, tol, scale=scale)
    out = op.softmax(x, axis=1)
    op.expect_close(out, ref.softmax(x, axis=1), expected.softmax_tolerance(x, axis=1),
                    scale=expected.softmax_scale(x, axis=1))
