"""A rule run is one `RuleRun` handed in by the runner: runs in threads of one process do not
share anything, so they give the rows they give one after the other."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np
import pytest
from hypothesis.errors import UnsatisfiedAssumption

from cnnspec.adapters import OPS, load
from cnnspec.conformance.context import RuleRun
from cnnspec.conformance.deviations import Deviation, for_adapter
from cnnspec.conformance.failures import RuleFailure
from cnnspec.conformance.probe import Probe
from cnnspec.conformance.registry import all_checks
from cnnspec.conformance.runner import run_rule
from cnnspec.conformance.tolerance import policy
from cnnspec.reports.results import RuleResult

TESTS = Path(__file__).resolve().parent

# what a row says about its rule: every field but how long it took
VERDICT = tuple(f.name for f in fields(RuleResult) if f.name not in ("duration_s", "adapter_s"))


def _row(ref: str, adapter, rule_id: str) -> dict:
    row = run_rule(adapter, ref, rule_id, all_checks()[rule_id], profile="ci", seed=None,
                   timeout=60.0, deviations=for_adapter(adapter))
    return {key: asdict(row)[key] for key in VERDICT}


def test_rules_run_in_threads_give_the_rows_they_give_one_after_the_other():
    """The same rules on the control and on mutants that fail them, so that a run that saw
    another's counts, digest, shrinking or failure would show it in a row."""
    adapters = {ref: load(ref) for ref in (
        "numpy", f"{TESTS / 'mutants.py'}:NaiveSoftmax",
        f"{TESTS / 'mutants.py'}:CeilKeepsWindowInEndPadding")}
    runs = [(ref, rule_id) for rule_id in ("softmax.overflow", "pool.output_size.ceil")
            for ref in adapters]
    serial = [_row(ref, adapters[ref], rule_id) for ref, rule_id in runs]
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        threaded = list(pool.map(lambda run: _row(run[0], adapters[run[0]], run[1]), runs))
    statuses = [row["status"] for row in serial]
    assert statuses.count("fail") == 2 and statuses.count("pass") == 4, statuses
    for one, other in zip(serial, threaded):
        assert one == other, one["id"]


def test_a_recipes_adapter_shared_by_runs_in_threads_counts_each_runs_recipes():
    """NAME+recipes names the recipe of a call; the run counts it: two runs of a rule side by
    side on one adapter object give the recipe counts of a run alone."""
    pytest.importorskip("tensorflow")
    adapter = load("tensorflow+recipes")
    alone = _row("tensorflow+recipes", adapter, "upsample.pixel_shuffle")
    assert alone["status"] == "pass"
    assert alone["recipes"] == {"cnnspec.recipes.tensorflow.pixel_shuffle": alone["examples"]}
    with ThreadPoolExecutor(max_workers=2) as pool:
        rows = list(pool.map(lambda _: _row("tensorflow+recipes", adapter,
                                            "upsample.pixel_shuffle"), range(2)))
    assert rows == [alone, alone]


def test_a_probe_counts_into_the_run_it_is_given_only():
    """Two runs of one rule side by side: each example's probe writes to its own run."""
    x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    first, second = RuleRun("softmax.simplex"), RuleRun("softmax.simplex")
    op = Probe(load("numpy"), first)
    op.convention("kept")
    op.softmax(x, axis=1)
    assert first.conventions == {"kept": 1} and first.adapter_s > 0
    assert not second.conventions and second.adapter_s == 0


@pytest.mark.filterwarnings("ignore:Using `reject` outside a property-based test")
def test_a_declared_crash_is_set_aside_in_the_run_not_called():
    entry = Deviation("softmax.simplex", "crashes", "bug", "https://e", {}, crashes=True)
    run = RuleRun("softmax.simplex", deviations=[entry])
    op = Probe(load("numpy"), run)
    with pytest.raises(UnsatisfiedAssumption):
        op.softmax(np.zeros((1, 3), np.float32), axis=1)
    [(declared, failure)] = run.deviated
    assert declared is entry and isinstance(failure, RuleFailure)
    assert failure.headline.text().startswith("not called, declared to crash: softmax(axis=1)")
    assert run.adapter_s == 0


def test_close_is_a_pure_verdict_and_the_probe_fails_with_it():
    from cnnspec.conformance.assertions import close

    tolerance = policy("exact", np.dtype(np.float32))
    assert close(np.ones(3, np.float32), np.ones(3), tolerance) is None
    mismatch = close(np.array([1, 2, 4], np.float32), np.array([1.0, 2.0, 3.0]), tolerance)
    assert mismatch.bad_indices == [(2,)] and mismatch.count == 1
    op = Probe(load("numpy"), RuleRun("softmax.simplex"))
    with pytest.raises(RuleFailure) as raised:
        op.expect_close(np.array([1, 2, 4], np.float32), [1.0, 2.0, 3.0], tolerance)
    assert raised.value.data["mismatch"] == mismatch.as_dict()


def test_the_registry_is_built_for_its_caller():
    """all_checks() reads the checks off the check modules' functions into a new dict: what one
    caller does to it reaches no other, and the checks themselves are the same objects."""
    mine, theirs = all_checks(), all_checks()
    assert mine is not theirs and mine == theirs
    mine["softmax.simplex"].clear()
    del mine["pool.output_size.ceil"]
    again = all_checks()
    assert again["softmax.simplex"] == theirs["softmax.simplex"] != []
    assert "pool.output_size.ceil" in again
    # the checks factories made are found too: geometry's one per op
    assert len(again["dtype.preserved"]) == len(OPS)
