"""The conformance suite as pytest tests, one per check: `pytest --pyargs cnnspec.conformance
--adapter NAME` (the plugin `cnnspec.conformance.pytest_plugin` adds the options)."""

import pytest

from cnnspec.conformance.deviations import for_adapter
from cnnspec.conformance.registry import all_checks
from cnnspec.conformance.runner import run_rule

CHECKS = [check for checks in all_checks().values() for check in checks]


@pytest.mark.parametrize("check", CHECKS, ids=[f"{c.rule_id}::{c.name}" for c in CHECKS])
def test_rule(check, cnnspec_adapter, request):
    ref, adapter = cnnspec_adapter
    row = run_rule(adapter, ref, check.rule_id, [check],
                   profile=request.config.getoption("cnnspec_profile"), seed=None,
                   timeout=request.config.getoption("cnnspec_timeout"),
                   deviations=for_adapter(adapter),
                   shrink_budget=request.config.getoption("cnnspec_shrink_budget"))
    if row.status == "unsupported":
        pytest.skip(f"unsupported: {row.message}")
    if row.status == "deviation":
        pytest.xfail(f"deviation: {row.deviation['observed']} ({row.deviation['evidence']})")
    if row.status in ("fail", "error"):
        pytest.fail(f"{row.status}: {row.message}\n\nreproducer:\n{row.reproducer or '(none)'}",
                    pytrace=False)
