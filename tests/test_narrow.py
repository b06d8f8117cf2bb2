"""Libraries that support part of the space get every rule checked inside it (tests/narrow.py)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert row["examples"] == 40 and row["declined"] > 0  # the ci profile checks 40
