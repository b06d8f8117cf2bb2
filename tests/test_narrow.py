"""Libraries that support part of the space get every rule checked inside it (tests/narrow.py)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cnnspec.adapters import OPS

TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize("adapter", ["TwoSpatialAxesOnly", "Float32Only"])
def test_every_rule_is_checked_inside_what_the_adapter_supports(adapter, tmp_path):
    path = tmp_path / "narrow.json"
    shown = subprocess.run([sys.executable, "-m", "cnnspec", "run", "--adapter",
                            f"{TESTS / 'narrow.py'}:{adapter}", "--json", str(path)],
                           capture_output=True, text=True, cwd=TESTS.parent, check=False)
    assert shown.returncode == 0, shown.stdout[-3000:]
    rows = json.loads(path.read_text())["rules"]
    unchecked = [row["id"] for row in rows if row["status"] != "pass"]
    assert not unchecked, f"{adapter}: not checked: {unchecked}"


def test_declined_draws_are_counted_apart_from_the_examples_checked(tmp_path):
    path = tmp_path / "narrow.json"
    subprocess.run([sys.executable, "-m", "cnnspec", "run", "--adapter",
                    f"{TESTS / 'narrow.py'}:Float32Only", "--rule", "activation.elu", "--json",
                    str(path)], capture_output=True, text=True, cwd=TESTS.parent, check=True)
    row = json.loads(path.read_text())["rules"][0]
    from cnnspec.conformance.registry import all_checks

    checks = len(all_checks()["activation.elu"])  # its formula, and a NaN among the inputs
    assert row["examples"] == 40 * checks and row["declined"] > 0  # the ci profile checks 40


def test_declared_capabilities_are_drawn_inside_and_the_rest_is_skipped_without_a_draw(tmp_path):
    path = tmp_path / "declared.json"
    shown = subprocess.run([sys.executable, "-m", "cnnspec", "run", "--adapter",
                            f"{TESTS / 'narrow.py'}:Declared2dForwardFloat32", "--json",
                            str(path)], capture_output=True, text=True, cwd=TESTS.parent,
                           check=False)
    assert shown.returncode == 0, shown.stdout[-3000:]
    results = json.loads(path.read_text())
    missing = results["adapter"]["capabilities"]["missing"]
    assert missing["spatial_ranks"] == [1, 3] and missing["dtypes"] == ["bfloat16", "float16",
                                                                         "float64"]
    rows = {row["id"]: row for row in results["rules"]}
    gradient_rules = [i for i in rows if i.startswith("grad.") or i in (
        "conv_transpose.is_conv_input_gradient", "params.conv", "params.inception",
        "receptive_field.recursion", "receptive_field.gridding", "dilation.hdc")]
    for rule_id in gradient_rules:  # decided up front: not one draw
        row = rows[rule_id]
        assert row["status"] == "unsupported" and row["examples"] == row["declined"] == 0, row
        assert "inference only" in row["message"]
    others = [row for i, row in rows.items() if i not in gradient_rules]
    assert all(row["status"] == "pass" and row["examples"] > 0 for row in others)
    # only pinned examples (1-d arrays written into a check) can fall outside
    assert sum(row["declined"] for row in others) <= 3


def test_the_calls_read_from_a_check_are_made_on_every_example():
    """The runner skips a check up front when an op it reads from the source (registry.calls_of)
    is not declared; that is right only if every example makes those calls."""
    import dataclasses

    from hypothesis import HealthCheck, settings

    from cnnspec.adapters.numpy_adapter import NumpyAdapter
    from cnnspec.conformance.context import RuleRun
    from cnnspec.conformance.registry import all_checks

    class Recording(NumpyAdapter):
        seen: set

        def __getattribute__(self, name):
            attribute = super().__getattribute__(name)
            if name in OPS:
                super().__getattribute__("seen").add((name, False))
            return attribute

        def vjp(self, op, args, cotangent, **params):
            self.seen.add((op, True))
            return super().vjp(op, args, cotangent, **params)

    adapter = Recording()
    few = settings(max_examples=4, derandomize=True, database=None, deadline=None,
                   suppress_health_check=list(HealthCheck))
    for checks in all_checks().values():
        for check in checks:
            examples = []

            def recorded(run, adapter, *args, __run=check.run_example, __examples=examples,
                         **kwargs):
                adapter.seen = set()
                __run(run, adapter, *args, **kwargs)
                __examples.append(adapter.seen)

            dataclasses.replace(check, run_example=recorded).test(
                few, run=RuleRun(check.rule_id))(adapter)
            assert examples, check.name
            for seen in examples:
                assert check.calls <= seen, (check.name, sorted(check.calls - seen))


def _check_body(op, x):
    _helper_defined_below(op, x)


def _helper_defined_below(op, x):
    op.relu(x)


def test_a_helper_defined_below_its_check_is_read_too():
    from cnnspec.conformance.registry import Check

    check = Check("activation.relu", "body", None, {}, (), (), _check_body)
    assert check.calls == {("relu", False)}


def test_a_row_names_every_declared_limit_on_its_rules_domain():
    """A declared option left out (never drawn, so never declined) is named in the rule's row,
    its report cell and its `cnnspec diff` entry, beside the limits declined call by call."""
    from cnnspec.conformance.runner import run
    from cnnspec.reports import differences, matrix

    rule = "pool.avg_count_include_pad"
    narrow = run(f"{TESTS / 'narrow.py'}:NeverCountsPadding", prefixes=[rule])
    row = narrow.rules[0]
    assert row.status == "pass", row.message
    note = "; ".join(row.reasons)
    assert "avg_pool: its average pooling never counts padding" in note
    assert "no float64 3-d average pooling kernel" in note
    built = matrix.build([run("numpy", prefixes=[rule]), narrow])
    entry = next(d for d in differences.differences(built) if d.rule.id == rule)
    what = {tuple(b.adapters): b.what for b in entry.behaviours}[("never-counts-padding",)]
    assert "never counts padding" in what and "float64 3-d" in what, what
