"""The `ci` profile's examples are a function of the rule, the adapter's declared capabilities
and the seed only: the same for the `cnnspec` script and `python -m cnnspec`, from any working
directory, in worker processes or in the calling one, alone or beside another adapter, and
whatever literal constants the user's adapter module holds (Hypothesis draws those of every
loaded module outside site-packages, unless told not to: conformance/local_constants.py).
Each row's `digest` (conformance/digest.py) names the examples it checked."""

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# rules drawing integers (kernels, strides, pads, axes), floats (alpha, values) and dtypes
RULES = ("pool.output_size.ceil", "conv.matches_reference", "activation.leaky_relu",
         "grad.softmax", "pool.max_unpool")

# An adapter module full of the literal constants a third party's module may hold: kernel
# sizes, paddings, alphas, thresholds, dtype names. Outside any `tests` folder, as a user's is.
CONSTANTS_ADAPTER = '''
from cnnspec.adapters.numpy_adapter import NumpyAdapter

KERNELS = (2, 3, 5, 7, 11, 13, 17, 64, 127, 255, 1000)
PADS = (1, 2, 3, 4, 6, 9)
FLOATS = (0.01, 0.2, 0.3, 1.5, 2.5, 6.0, 1e-7, 1e-30, 65504.0, 3.4e38, -3.0, -40.0, 1e6)
NAMES = ("SAME_UPPER", "SAME_LOWER", "VALID", "float16", "bfloat16", "channels_last")


class WithConstants(NumpyAdapter):
    name = "with-constants"
'''


def rows(path: Path) -> list[tuple]:
    data = json.loads(path.read_text())
    return [(r["id"], r["status"], r["examples"], r["declined"], r["digest"])
            for r in data["rules"]]


def run(command: list[str], adapters: list[str], cwd: Path, out: Path, *options: str):
    """Runs `command run` on `adapters` and RULES; the results file(s) of `out`."""
    arguments = [arg for rule in RULES for arg in ("--rule", rule)]
    arguments += [arg for ref in adapters for arg in ("--adapter", ref)]
    shown = subprocess.run([*command, "run", *arguments, *options, "--json", str(out)],
                           cwd=cwd, capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stdout + shown.stderr


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """The rows of `python -m cnnspec run --adapter numpy --jobs 0`, from the repository."""
    out = tmp_path_factory.mktemp("baseline") / "numpy.json"
    run([sys.executable, "-m", "cnnspec"], ["numpy"], REPO, out, "--jobs", "0")
    found = rows(out)
    assert sorted(row[0] for row in found) == sorted(RULES)
    assert all(row[1] == "pass" and row[2] > 0 and len(row[4]) == 16 for row in found)
    return found


def test_the_script_in_workers_from_another_folder_checks_the_same_examples(baseline, tmp_path):
    script = shutil.which("cnnspec", path=str(Path(sys.executable).parent))
    assert script, "the cnnspec script is installed beside this Python"
    run([script], ["numpy"], tmp_path, tmp_path / "numpy.json", "--jobs", "2")
    assert rows(tmp_path / "numpy.json") == baseline


def test_a_user_module_full_of_constants_changes_no_example(baseline, tmp_path):
    module = tmp_path / "user_adapter.py"
    module.write_text(textwrap.dedent(CONSTANTS_ADAPTER))
    ref = f"{module}:WithConstants"
    # in one process, the user's module loaded before the control's rules run
    run([sys.executable, "-m", "cnnspec"], [ref, "numpy"], tmp_path, tmp_path / "r.json",
        "--jobs", "0")
    assert rows(tmp_path / "r-numpy.json") == baseline
    [theirs] = tmp_path.glob("r-*WithConstants.json")
    assert rows(theirs) == baseline  # the same capabilities, the same examples
