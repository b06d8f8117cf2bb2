"""pytest plugin: `pytest --pyargs cnnspec.conformance --adapter NAME` runs the suite as tests.

Each check is a test: `pass` passes, `unsupported` skips with the reason, `deviation` is an
xfail with the evidence, `fail` and `error` fail with the message and the reproducer. xdist,
junit-xml and the rest of the pytest ecosystem work on it as on any test. Under xdist, each
worker's frameworks get their share of the CPUs' threads (`threads.share`).
"""

from __future__ import annotations

import os

import pytest

from .options import timeout_seconds
from .threads import share

if "PYTEST_XDIST_WORKER_COUNT" in os.environ:  # set by xdist before the plugins load
    os.environ.update(share(int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))


def pytest_addoption(parser):
    group = parser.getgroup("cnnspec", "cnnspec conformance suite")
    group.addoption("--adapter", default=None, metavar="NAME",
                    help="adapter to check: a known name, module:attribute or file.py:attribute")
    group.addoption("--cnnspec-profile", default="ci", choices=("quick", "ci", "thorough"),
                    help="Hypothesis profile of the conformance checks (default: ci)")
    group.addoption("--cnnspec-timeout", type=timeout_seconds, default=60.0, metavar="SECONDS",
                    help="bound on one adapter call (default 60; 0: no limit)")


@pytest.fixture(scope="session")
def cnnspec_adapter(request):
    """(reference, instance) of the adapter named by --adapter."""
    from cnnspec.adapters import AdapterError, load

    ref = request.config.getoption("adapter")
    if not ref:
        pytest.skip("the conformance suite needs --adapter NAME")
    try:
        return ref, load(ref)
    except AdapterError as error:
        raise pytest.UsageError(str(error)) from None
