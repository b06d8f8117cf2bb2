"""Options that both ways of running the suite take, `cnnspec run` and the pytest plugin, parsed
the same way (argparse types: a bad value is one line naming it and the fix)."""

from __future__ import annotations

import argparse
import math


def timeout_seconds(text: str) -> float | None:
    """--timeout: the seconds one adapter call may take, > 0; 0 means no limit (None)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r}: give the seconds one adapter call may take, "
                                         f"> 0 (0: no limit)")
    return seconds or None


SHRINK_BUDGET_S = 30.0
"""--shrink-budget's default: seconds a check may spend shrinking its first failing example."""


def shrink_budget_seconds(text: str) -> float | None:
    """--shrink-budget: the seconds a check may spend shrinking a failure, >= 0; 0 means no
    limit (None: Hypothesis's own bound, about five minutes, applies)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r}: give the seconds a check may spend "
                                         f"shrinking a failure, >= 0 (0: no limit)")
    return seconds or None
