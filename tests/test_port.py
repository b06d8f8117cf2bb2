"""`cnnspec port`: the ranked differences of moving a model, each with its verified recipe."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RULES = ("upsample.pixel_shuffle", "pool.adaptive_bins")


def cnnspec(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "cnnspec", *args], capture_output=True,
                          text=True, cwd=cwd, check=False)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Results of torch, tensorflow and tensorflow+recipes on two rules."""
    folder = tmp_path_factory.mktemp("results")
    for ref in ("torch", "tensorflow", "tensorflow+recipes"):
        shown = cnnspec("run", "--adapter", ref, "--jobs", "1",
                        *[a for rule in RULES for a in ("--rule", rule)],
                        "--json", str(folder / f"{ref}.json"))
        assert shown.returncode in (0, 1), shown.stderr
    return folder


def test_port_ranks_what_changes_outputs_before_what_cannot_run(results, tmp_path):
    out = tmp_path / "port.json"
    shown = cnnspec("port", "--from", "torch", "--to", "tensorflow", "--json", str(out),
                    str(results))
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert "running" not in shown.stderr  # every result was given
    changes, blocks = text.index("Changes outputs (1)"), text.index("Cannot run as written (1)")
    assert changes < text.index("upsample.pixel_shuffle") < blocks < \
        text.index("pool.adaptive_bins") < text.index("Coverage")
    assert "recipe: from cnnspec.recipes.tensorflow import pixel_shuffle" in text
    assert "verified: upsample.pixel_shuffle passes on tensorflow+recipes" in text
    data = json.loads(out.read_text())
    shuffle = next(i for i in data["items"] if i["rule"] == "upsample.pixel_shuffle")
    recipe = shuffle["recipes"][0]
    assert recipe["path"] == "cnnspec.recipes.tensorflow.pixel_shuffle" and recipe["examples"] > 0
    assert "import tensorflow as tf" in recipe["source"]
    assert "def _crd_to_dcr(" in recipe["source"] and "def pixel_shuffle(" in recipe["source"]
    namespace = {}
    exec(recipe["source"], namespace)  # paste-ready: it runs on its own
    assert callable(namespace["pixel_shuffle"])


@pytest.mark.parametrize("args, message", [
    (("--from", "torch", "--to", "torch"), "--from 'torch' and --to 'torch' name one adapter"),
    (("--from", "torch", "--to", "nosuch"), "unknown adapter 'nosuch'"),
    (("--from", "torch", "--to", "jax", "no-such.json"), "no-such.json: no such results file"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    shown = cnnspec("port", *args)
    assert shown.returncode == 2
    assert message in shown.stderr and len(shown.stderr.strip().splitlines()) == 1
