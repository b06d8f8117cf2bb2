"""The pytest route: `pytest --pyargs cnnspec.conformance --adapter NAME`, and the plugin's
manners in the pytest sessions of projects that merely have cnnspec installed."""

import os
import subprocess
import sys

import pytest

from cnnspec.conformance.threads import VARIABLES


def pytest_run(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          capture_output=True, text=True, cwd=cwd, env=env, check=False)


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]])
@pytest.mark.parametrize("args, message", [
    ([], "ERROR: the cnnspec conformance suite needs --adapter NAME (one of numpy, torch"),
    (["--adapter", "nump"], "ERROR: unknown adapter 'nump': the known ones are numpy"),
])
def test_the_suite_without_a_usable_adapter_stops_with_one_line(tmp_path, xdist, args, message):
    shown = pytest_run("--pyargs", "cnnspec.conformance", *args, *xdist, cwd=tmp_path)
    assert shown.returncode == pytest.ExitCode.USAGE_ERROR, shown.stdout[-2000:]
    lines = [line for line in (shown.stdout + shown.stderr).splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith(message), lines[:5]


def test_a_session_that_does_not_run_the_suite_keeps_its_environment(tmp_path):
    (tmp_path / "test_env.py").write_text(
        "import os\n"
        f"def test_no_thread_variables():\n    assert not set({VARIABLES!r}) & set(os.environ)\n")
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    shown = pytest_run("-n", "2", cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stdout[-2000:]
    assert "1 passed" in shown.stdout
