"""What a test needs from outside the project (a framework, the team's rules.md): a skip, saying
why, on a machine without it; a failure where CI requires it, with CI=1 (CI's own variable) or
the test's CNNSPEC_REQUIRE_<WHAT> set, so that CI never passes a test it did not run."""

from __future__ import annotations

import importlib
import os

import pytest


def missing(reason: str, variable: str, in_ci: bool = True):
    """Skips with `reason`; fails instead where `variable` is set, or CI (unless not `in_ci`:
    what no clean clone can have, such as a file of the team's beside the checkout)."""
    names = ("CI", variable) if in_ci else (variable,)
    setting = next((name for name in names if os.environ.get(name)), None)
    if setting:
        pytest.fail(f"{reason}, and {setting} is set: CI runs this test instead of skipping it")
    pytest.skip(reason)


def module(name: str, variable: str):
    """The imported module `name`, or `missing` when it cannot be imported."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        missing(f"{name} cannot be imported ({error})", variable)
