"""The recipes (cnnspec.recipes): self-contained, named after what they reproduce, verified by the
rules their docstrings name on the `NAME+recipes` adapters, and caught when a bug is planted."""

import ast
import importlib
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from cnnspec.conformance.tolerance import policy
from cnnspec.reports.results import load, schema
from cnnspec.spec import RULES
from recipe_mutants import RECIPE_MUTANTS

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
TARGETS = {"tensorflow": "tensorflow", "keras": "keras", "jax": "jax", "torch": "torch"}
STANDARD = {"__future__", "math", "itertools"}


def recipes(target):
    """{name: function} of cnnspec.recipes.<target>'s public recipes."""
    module = importlib.import_module(f"cnnspec.recipes.{target}")
    return {name: fn for name, fn in vars(module).items()
            if inspect.isfunction(fn) and fn.__module__ == module.__name__
            and not name.startswith("_")}


def rule_ids(fn) -> list[str]:
    """The rule ids a docstring names (after "Rules:" / "Rule:", or in [brackets])."""
    doc = inspect.getdoc(fn) or ""
    named = re.findall(r"\b[a-z_0-9]+(?:\.[a-z_0-9]+)+\b", doc)
    return sorted({rule for rule in named if rule in RULES})


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "cnnspec", "run", *args], capture_output=True,
                          text=True, cwd=REPO, check=False)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_a_recipe_module_imports_its_framework_and_the_standard_library_only(target):
    tree = ast.parse((REPO / "recipes" / f"{target}.py").read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert imported - STANDARD == {TARGETS[target]}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_recipe_names_what_it_reproduces_and_its_rules(target):
    found = recipes(target)
    assert found
    helpers = {"same_pads", "explicit_pads", "ceil_extra", "adaptive_bins", "dilate_kernel",
               "zero_insert"}
    for name, fn in found.items():
        doc = inspect.getdoc(fn) or ""
        assert rule_ids(fn) or "[" in doc, f"{target}.{name} names no rule id"
        if name not in helpers:
            assert re.search(r"`(torch|tf|keras|TensorFlow|ONNX)|TensorFlow's|Keras's|TF's|ONNX",
                             doc.split("\n\n")[0]), f"{target}.{name}: says not what it reproduces"


# the recipes each +recipes adapter runs, and the rules (from their docstrings) it runs them on
ROUTED = {"tensorflow": ("max_pool", "avg_pool", "conv", "conv_transpose", "pixel_shuffle",
                         "adaptive_avg_pool", "adaptive_max_pool", "max_pool_argmax",
                         "max_unpool"),
          "keras": ("max_pool", "avg_pool", "conv", "conv_transpose", "pixel_shuffle",
                    "adaptive_max_pool"),
          "jax": ("max_pool", "avg_pool", "conv_transpose", "pixel_shuffle", "adaptive_avg_pool",
                  "adaptive_max_pool", "max_pool_argmax", "max_unpool"),
          "torch": ("max_pool", "avg_pool", "conv", "conv_transpose", "max_pool_argmax",
                    "max_unpool")}


def routed_rules(target) -> dict:
    """{rule id: [recipe import paths that name it]} of the routed recipes of `target`."""
    found = recipes(target)
    rules = {}
    for name in ROUTED[target]:
        for rule in rule_ids(found[name]):
            rules.setdefault(rule, []).append(f"cnnspec.recipes.{target}.{name}")
    return rules


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_recipe_passes_the_rules_it_names_on_the_recipes_adapter(target, tmp_path):
    rules = routed_rules(target)
    results = tmp_path / "results.json"
    shown = run_cli("--adapter", f"{target}+recipes", "--profile", "ci", "--jobs", "1",
                    *[a for rule in sorted(rules) for a in ("--rule", rule)],
                    "--json", str(results))
    assert shown.returncode == 0, shown.stdout[-3000:] + shown.stderr[-2000:]
    data = json.loads(results.read_text())
    jsonschema.validate(data, schema())
    assert data["adapter"]["name"] == f"{target}+recipes"
    rows = {row["id"]: row for row in data["rules"]}
    for rule, paths in rules.items():
        row = rows[rule]
        assert row["status"] in ("pass", "deviation"), f"{rule}: {row['status']}"
        ran = row["recipes"] or {}
        for path in paths:
            assert ran.get(path, 0) > 0, f"{path} names {rule}, but did not run there: {ran}"


@pytest.mark.parametrize("mutant", sorted(RECIPE_MUTANTS))
def test_a_recipe_with_a_planted_bug_is_caught_by_the_rule_that_names_it(mutant, tmp_path):
    recipe, rule = RECIPE_MUTANTS[mutant]
    results = tmp_path / "results.json"
    shown = run_cli("--adapter", f"{TESTS / 'recipe_mutants.py'}:{mutant}", "--profile", "ci",
                    "--jobs", "1", "--rule", rule, "--json", str(results))
    assert shown.returncode == 1, shown.stdout + shown.stderr
    row = {row["id"]: row for row in json.loads(results.read_text())["rules"]}[rule]
    assert row["status"] == "fail" and f"[{rule}: " in row["message"]
    assert row["recipes"].get(recipe, 0) > 0


def test_results_of_schema_2_are_read_without_recipes(tmp_path):
    shown = run_cli("--adapter", "numpy", "--rule", "activation.relu", "--json",
                    str(tmp_path / "new.json"))
    assert shown.returncode == 0, shown.stderr
    data = json.loads((tmp_path / "new.json").read_text())
    assert data["schema"] == "cnnspec.results/4" and data["rules"][0]["recipes"] is None
    data["schema"] = "cnnspec.results/2"
    for row in data["rules"]:
        del row["recipes"]
    (tmp_path / "old.json").write_text(json.dumps(data))
    assert {row.recipes for row in load(tmp_path / "old.json").rules} == {None}


def test_an_unknown_base_is_a_one_line_error():
    shown = run_cli("--adapter", "nosuch+recipes", "--rule", "activation.relu")
    assert shown.returncode == 2
    assert "unknown adapter 'nosuch+recipes'" in shown.stderr and "NAME+recipes" in shown.stderr
    assert "Traceback" not in shown.stderr


def test_a_base_without_recipes_is_a_one_line_error():
    shown = run_cli("--adapter", "numpy+recipes", "--rule", "activation.relu")
    assert shown.returncode == 2
    assert "cnnspec has recipes for jax, keras, tensorflow, torch only" in shown.stderr
    assert "Traceback" not in shown.stderr


def test_the_ported_model_gives_torchs_outputs_within_the_tolerance_policy():
    """Item 5: the worked example of docs/porting.md, torch -> tensorflow, keras and jax."""
    from cnnspec.recipes import example

    for port, (error, allowed, ratio, torch_ratio) in example.compare().items():
        assert ratio <= 1, f"torch -> {port}: error {error:.3g} above the bound {allowed:.3g}"
        assert torch_ratio <= 1


def test_the_model_comparison_catches_the_native_depth_to_space():
    """The same comparison fails a port that keeps TF's DCR depth_to_space for PixelShuffle."""
    import tensorflow as tf

    from cnnspec.recipes import example
    from cnnspec.recipes import tensorflow as recipes

    original = recipes.pixel_shuffle
    try:
        recipes.pixel_shuffle = lambda x, r: tf.nn.depth_to_space(x, r)
        _, _, ratio, _ = example.compare()["tensorflow"]
    finally:
        recipes.pixel_shuffle = original
    assert ratio > 1


def test_pixel_unshuffle_inverts_the_shuffle_and_matches_torch():
    import tensorflow as tf
    import torch

    from cnnspec.recipes import jax as jax_recipes
    from cnnspec.recipes import tensorflow as tf_recipes

    x = np.arange(2 * 8 * 3 * 2, dtype=np.float32).reshape(2, 8, 3, 2)
    shuffled = torch.nn.functional.pixel_shuffle(torch.from_numpy(x), 2).numpy()
    nhwc = tf_recipes.pixel_shuffle(tf.constant(x.transpose(0, 2, 3, 1)), 2).numpy()
    np.testing.assert_array_equal(nhwc.transpose(0, 3, 1, 2), shuffled)
    back = tf_recipes.pixel_unshuffle(tf.constant(shuffled.transpose(0, 2, 3, 1)), 2).numpy()
    np.testing.assert_array_equal(back.transpose(0, 3, 1, 2), x)
    np.testing.assert_array_equal(np.asarray(jax_recipes.pixel_unshuffle(shuffled, 2)), x)


def test_depth_to_space_in_torch_and_jax_match_tensorflow():
    import tensorflow as tf
    import torch

    from cnnspec.recipes import jax as jax_recipes
    from cnnspec.recipes import torch as torch_recipes

    x = np.arange(2 * 12 * 2 * 3, dtype=np.float32).reshape(2, 12, 2, 3)
    expected = tf.nn.depth_to_space(tf.constant(x.transpose(0, 2, 3, 1)), 2).numpy()
    expected = expected.transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(torch_recipes.depth_to_space(torch.from_numpy(x), 2).numpy(),
                                  expected)
    np.testing.assert_array_equal(np.asarray(jax_recipes.depth_to_space(x, 2)), expected)


@pytest.mark.parametrize("kernel, stride", [(1, 3), (2, 3), (3, 2), (4, 2)])
def test_keras_valid_transposed_conv_length_in_torch_matches_keras(kernel, stride):
    import torch
    from keras import ops

    from cnnspec.recipes import torch as torch_recipes

    rng = np.random.default_rng(kernel * 10 + stride)
    x = rng.standard_normal((1, 2, 5)).astype(np.float32)
    w = rng.standard_normal((2, 3, kernel)).astype(np.float32)  # (C_in, C_out, k)
    expected = ops.convert_to_numpy(ops.conv_transpose(
        x.transpose(0, 2, 1), w.transpose(2, 1, 0), stride, padding="valid"))
    got = torch_recipes.keras_valid_conv_transpose(torch.from_numpy(x), torch.from_numpy(w),
                                                   strides=(stride,)).numpy()
    assert got.shape[-1] == (5 - 1) * stride + max(kernel, stride)
    scale = torch_recipes.keras_valid_conv_transpose(
        torch.from_numpy(np.abs(x).astype(np.float64)), torch.from_numpy(np.abs(w).astype(
            np.float64)), strides=(stride,)).numpy()
    bound = policy("reduction", np.float32, 2 * kernel).bound(expected.transpose(0, 2, 1), scale)
    assert (np.abs(got - expected.transpose(0, 2, 1)) <= bound).all()
