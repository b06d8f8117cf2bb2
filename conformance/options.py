"""Options that both ways of running the suite take, `cnnspec run` and the pytest plugin, parsed
the same way (argparse types: a bad value is one line naming it and the fix)."""

from __future__ import annotations

import argparse
import math

SHRINK_BUDGET_S = 30.0
"""--shrink-budget's default: seconds a check may spend shrinking its first failing example."""


def _seconds_or_no_limit(text: str, what: str) -> float | None:
    """`text` as seconds >= 0, 0 meaning no limit (None); else one line naming the value."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r}: give the seconds {what}, > 0 "
                                         f"(0: no limit)")
    return seconds or None


def timeout_seconds(text: str) -> float | None:
    """--timeout: the seconds one adapter call may take, > 0; 0 means no limit (None)."""
    return _seconds_or_no_limit(text, "one adapter call may take")


def shrink_budget_seconds(text: str) -> float | None:
    """--shrink-budget: the seconds a check may spend shrinking a failure, > 0; 0 means no
    limit of cnnspec's (None: Hypothesis's own bound, about five minutes, applies)."""
    return _seconds_or_no_limit(text, "a check may spend shrinking a failure")
