"""The adapter guide's promises: a third party's adapter on the base stays short and gets every
applicable rule checked (tests/two_d_library.py), and `cnnspec new-adapter`'s template runs."""

import json
import subprocess
import sys
from pathlib import Path

import required

TESTS = Path(__file__).resolve().parent
OPS = {"conv", "max_pool", "avg_pool", "softmax", "relu"}  # what two_d_library.py has
NEEDS_A_PADDING_MODE = {"conv.same_padding"}  # SAME_UPPER / SAME_LOWER, which it declares none of


def test_the_two_dimensional_forward_only_adapter_is_under_50_lines():
    assert len((TESTS / "two_d_library.py").read_text().splitlines()) <= 50


def test_every_rule_it_can_check_is_checked(tmp_path):
    required.module("torch", "CNNSPEC_REQUIRE_TORCH")
    from cnnspec.conformance.registry import all_checks

    path = tmp_path / "two-d.json"
    shown = subprocess.run([sys.executable, "-m", "cnnspec", "run", "--adapter",
                            f"{TESTS / 'two_d_library.py'}:TwoDimensional", "--json", str(path)],
                           capture_output=True, text=True, cwd=TESTS.parent, check=False)
    assert shown.returncode == 0, shown.stdout[-3000:]
    rows = {row["id"]: row for row in json.loads(path.read_text())["rules"]}
    for rule_id, checks in all_checks().items():
        calls = set().union(*(check.calls for check in checks))
        forward = {op for op, is_vjp in calls if not is_vjp}
        if rule_id in NEEDS_A_PADDING_MODE:
            assert rows[rule_id]["status"] == "unsupported"
            assert "SAME_UPPER or SAME_LOWER" in rows[rule_id]["message"]
        elif calls and forward <= OPS and not any(is_vjp for _, is_vjp in calls):
            assert rows[rule_id]["status"] == "pass" and rows[rule_id]["examples"] > 0, rule_id
        if any(is_vjp for _, is_vjp in calls):  # forward only: decided without a draw
            assert rows[rule_id]["status"] == "unsupported", rule_id
            assert rows[rule_id]["examples"] == rows[rule_id]["declined"] == 0, rule_id


def test_the_template_is_a_working_adapter(tmp_path):
    made = subprocess.run([sys.executable, "-m", "cnnspec", "new-adapter", "my_adapter"],
                          capture_output=True, text=True, cwd=tmp_path, check=False)
    assert made.returncode == 0 and (tmp_path / "my_adapter.py").is_file(), made.stderr
    again = subprocess.run([sys.executable, "-m", "cnnspec", "new-adapter", "my_adapter.py"],
                           capture_output=True, text=True, cwd=tmp_path, check=False)
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "exists" in again.stderr
    path = tmp_path / "mine.json"
    shown = subprocess.run([sys.executable, "-m", "cnnspec", "run", "--adapter",
                            "my_adapter.py:MyLibrary", "--json", str(path)], capture_output=True,
                           text=True, cwd=tmp_path, check=False)
    assert shown.returncode == 0, shown.stdout[-3000:] + shown.stderr[-2000:]
    rows = {row["id"]: row for row in json.loads(path.read_text())["rules"]}
    assert {row["status"] for row in rows.values()} == {"pass", "unsupported"}
    for rule_id in ("activation.relu", "sigmoid.stability", "softmax.overflow"):
        assert rows[rule_id]["status"] == "pass" and rows[rule_id]["declined"] == 0


GUIDE = TESTS.parent / "docs" / "writing-an-adapter.md"


def test_the_guides_python_blocks_run():
    import re

    for block in re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S):
        exec(compile(block, str(GUIDE), "exec"), {})


def test_the_guide_lists_every_option_and_op():
    import re

    from cnnspec.adapters import OPS
    from cnnspec.adapters.capabilities import OPTIONS

    text = GUIDE.read_text()
    listed = set(re.findall(r"^\| `(\w+)` \| ", text, re.M))
    assert OPTIONS <= listed, sorted(OPTIONS - listed)
    named = set(re.findall(r"`(\w+)`", text))
    assert set(OPS) <= named, sorted(set(OPS) - named)
