"""The values the checks draw for the protocol's scalar keywords, written down once.

alpha (leaky_relu's negative slope, elu's saturation scale): 0 (the function is then relu or
relu with a plain exponential), 1, values above 1, and values that no binary float holds
exactly (0.1, 1/3): a float16 or bfloat16 path that rounds alpha to its own precision, or a
float64 path that goes through float32, shows there. Then any float in [0, 4].

axis (softmax, log_softmax): any axis of an array of rank 1 to 4, spelled non-negative or
negative, so that an implementation that ignores `axis`, or reads only one spelling of it,
is caught.
"""

from __future__ import annotations

from hypothesis import strategies as st

ALPHA_SPECIALS = (0.0, 1.0, 0.01, 0.1, 0.2, 1.0 / 3.0, 1.5, 3.0)
ALPHA_RANGE = (0.0, 4.0)
SOFTMAX_MAX_EXTRA_AXES = 2  # beside the reduction axis and the rows: ranks 2 to 4 (or one row: 1)


def alphas():
    """alpha from ALPHA_SPECIALS half the time, else any float in ALPHA_RANGE."""
    return st.one_of(st.sampled_from(ALPHA_SPECIALS),
                     st.floats(*ALPHA_RANGE, allow_nan=False, allow_infinity=False))
