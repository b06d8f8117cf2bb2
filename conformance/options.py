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
