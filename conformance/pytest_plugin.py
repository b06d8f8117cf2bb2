"""pytest plugin: `pytest --pyargs cnnspec.conformance --adapter NAME` runs the suite as tests.

Each check is a test: `pass` passes, `unsupported` skips with the reason, `deviation` is an
xfail with the evidence, `fail` and `error` fail with the message and the reproducer. xdist,
junit-xml and the rest of the pytest ecosystem work on it as on any test.

The plugin loads in every pytest session where cnnspec is installed, so it stays out of the
way of sessions that do not run the suite: it only adds its options. A session that collects
the suite's tests without `--adapter`, or with an adapter that cannot be found, stops with one
line that says what to give (a green run with every test skipped would hide a forgotten flag).
Under xdist, each worker's frameworks get their share of the CPUs' threads (`threads.share`),
in sessions given `--adapter` only.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .options import SHRINK_BUDGET_S, shrink_budget_seconds, timeout_seconds
from .threads import share

SUITE_FILE = Path(__file__).with_name("test_conformance.py")


def pytest_addoption(parser):
    group = parser.getgroup("cnnspec", "cnnspec conformance suite")
    group.addoption("--adapter", default=None, metavar="NAME",
                    help="adapter to check: a known name, module:attribute or file.py:attribute")
    group.addoption("--cnnspec-profile", default="ci", choices=("quick", "ci", "thorough"),
                    help="Hypothesis profile of the conformance checks (default: ci)")
    group.addoption("--cnnspec-timeout", type=timeout_seconds, default=60.0, metavar="SECONDS",
                    help="bound on one adapter call (default 60; 0: no limit)")
    group.addoption("--cnnspec-shrink-budget", type=shrink_budget_seconds,
                    default=SHRINK_BUDGET_S, metavar="SECONDS",
                    help=f"seconds a check may spend shrinking a failure "
                         f"(default {SHRINK_BUDGET_S:g}; 0: no limit)")


def pytest_configure(config):
    """Checks --adapter in a session whose arguments name the suite (in the xdist controller
    too, before workers start), and gives each xdist worker its share of threads."""
    if _names_the_suite(config.args):
        _check_adapter(config.getoption("adapter"))
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")  # set by xdist in its workers
    if config.getoption("adapter") and workers:
        os.environ.update(share(int(workers)))


def pytest_collection_modifyitems(session, config, items):
    """The same check for a session that collected the suite's tests some other way."""
    if hasattr(config, "workerinput"):  # an xdist worker: its controller checked
        return
    if any(getattr(item, "path", None) == SUITE_FILE for item in items):
        _check_adapter(config.getoption("adapter"))


def _names_the_suite(args) -> bool:
    """Whether the command line names the suite: `--pyargs cnnspec.conformance` (or one of its
    tests), or the path of its folder or of its test file."""
    for arg in args:
        name = arg.split("::")[0]
        if name.startswith("cnnspec.conformance") or (
                Path(name).resolve() in (SUITE_FILE, SUITE_FILE.parent)):
            return True
    return False


def _check_adapter(ref):
    """One line naming what to give, instead of a run where every check skips or errors."""
    from cnnspec.adapters import AdapterError, known
    from cnnspec.adapters.registry import check

    if not ref:
        raise pytest.UsageError(f"the cnnspec conformance suite needs --adapter NAME (one of "
                                f"{', '.join(known())}, module:attribute or file.py:attribute)")
    try:
        check(ref)
    except AdapterError as error:
        raise pytest.UsageError(str(error)) from None


@pytest.fixture(scope="session")
def cnnspec_adapter(request):
    """(reference, instance) of the adapter named by --adapter."""
    from cnnspec.adapters import AdapterError, load

    ref = request.config.getoption("adapter")
    try:
        return ref, load(ref)
    except AdapterError as error:
        pytest.exit(str(error), returncode=pytest.ExitCode.USAGE_ERROR)
