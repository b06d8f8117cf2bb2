"""The suite's judgements as pure functions of arrays and a tolerance: whether values are
close (the mismatch when not), the error map the report paints, whether an adapter returned an
array of numbers. They raise nothing and read no state; the `Probe` turns a verdict into the
rule's failure.

    mismatch = close(got, expected, policy("exact", np.dtype(np.float32)))  # None: within
    grid, corner = error_map(got, expected, allowed(expected, policy("exact", np.dtype(np.float32))))

Both read `failures.error_ratio`, the one definition of an element's error and whether it is
within what the tolerance allows.
"""

from __future__ import annotations

import numpy as np

from .failures import Mismatch, compare, error_ratio
from .tolerance import Tolerance


def allowed(expected, tolerance: Tolerance, scale=None) -> np.ndarray:
    """Per element, the |got - expected| the tolerance allows around the float64 `expected`
    (scaled by `scale`, |expected| by default)."""
    expected = np.asarray(expected, dtype=np.float64)
    return tolerance.bound(expected, np.abs(expected) if scale is None else scale)


def close(got, expected, tolerance: Tolerance, scale=None) -> Mismatch | None:
    """None when `got` is within the tolerance of the float64 `expected` everywhere
    (`error_ratio`'s `ok`); else the mismatch block. The two have the same shape."""
    expected = np.asarray(expected, dtype=np.float64)
    return compare(np.asarray(got), expected, allowed(expected, tolerance, scale),
                   tolerance.describe())


def error_map(got, expected, bound, side: int = 32) -> tuple[list, list]:
    """`error_ratio`'s |got - ref| / allowed on the 2-d slice of the output (its last two axes)
    that holds the worst element, at most `side` x `side` around it, capped at 1e6 (NaN or inf
    errors, and any error where nothing is allowed, show as the cap): for the report. Also the
    index of the slice's first element."""
    ratio = np.atleast_2d(np.minimum(error_ratio(got, expected, bound)[1], 1e6))
    worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    rows = max(0, worst[-2] - side // 2)
    cols = max(0, worst[-1] - side // 2)
    plane = ratio[tuple(worst[:-2])]
    corner = [int(i) for i in worst[:-2]] + [rows, cols]
    return plane[rows:rows + side, cols:cols + side].round(3).tolist(), corner


def described(value) -> str:
    """What an adapter returned, in a few words: its type, and dtype and shape if it has them."""
    kind = f"{type(value).__module__}.{type(value).__qualname__}".removeprefix("builtins.")
    if isinstance(value, np.ndarray):
        return f"{kind} of dtype {value.dtype.name}, shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"{kind} of {len(value)}"
    return kind


def is_array_of_numbers(out) -> bool:
    """Whether `out` is what the protocol's ops return: a NumPy array of numbers."""
    return isinstance(out, np.ndarray) and (out.dtype.kind in "fiub"
                                            or out.dtype.name == "bfloat16")
