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


def test_the_report_links_lacking_and_deviating_cells_to_their_recipe(results, tmp_path):
    """The report ranks as port does, and links TF's deviating pixel_shuffle cell and its
    unsupported adaptive pooling cell to their recipes, with the examples tensorflow+recipes
    verified them on; without tensorflow+recipes among the results: the recipe exists, not
    verified."""
    from cnnspec.recipes.adapter import recipes_by_rule
    from cnnspec.reports import differences, html, matrix
    from cnnspec.reports.recipe_links import links
    from cnnspec.reports.results import load

    loaded = {path.stem: load(path) for path in results.glob("*.json")}
    built = matrix.build([loaded["torch"], loaded["tensorflow"], loaded["tensorflow+recipes"]])
    ranked = [(d.rule.id, d.rank) for d in differences.differences(built)]
    assert ranked[:2] == [("upsample.pixel_shuffle", "changes outputs"),
                          ("pool.adaptive_bins", "cannot run as written")], ranked
    found = links(built, recipes_by_rule())
    verified = {row.id: row.recipes for row in loaded["tensorflow+recipes"].rules}
    shuffle = found[("tensorflow", "upsample.pixel_shuffle")]
    path = "cnnspec.recipes.tensorflow.pixel_shuffle"
    assert [link.path for link in shuffle] == [path]
    assert shuffle[0].examples == verified["upsample.pixel_shuffle"][path] > 0
    assert shuffle[0].verdict == "pass" and shuffle[0].verified_by == "tensorflow+recipes"
    adaptive = found[("tensorflow", "pool.adaptive_bins")]
    assert {link.path for link in adaptive if link.examples} == set(verified["pool.adaptive_bins"])
    assert ("torch", "upsample.pixel_shuffle") not in found  # it passes: nothing to link
    page = cnnspec("report", str(results), "--html", str(tmp_path / "report.html"))
    assert page.returncode == 0, page.stderr
    text = " ".join((tmp_path / "report.html").read_text().split())
    assert (f'recipe <a href="#recipe-{path}">{path}</a>: verified on '
            f'{shuffle[0].examples} examples (pass on tensorflow+recipes)') in text
    assert f'<li id="recipe-{path}">' in text
    section = text[text.index('<section id="differences">'):text.index("</section>")]
    assert (f'recipe for tensorflow: <a href="#recipe-{path}">{path}</a>: verified on '
            f'{shuffle[0].examples} examples') in section  # the ranked list names it too
    shown = cnnspec("diff", str(results))  # the terminal names it the same way
    assert shown.returncode == 0, shown.stderr
    assert (f"    recipe for tensorflow: {path}: verified on {shuffle[0].examples} examples "
            f"(pass on tensorflow+recipes)") in shown.stdout
    alone = html.render(matrix.build([loaded["torch"], loaded["tensorflow"]]), recipes_by_rule())
    assert f'<a href="#recipe-{path}">{path}</a>: exists, not verified in these results' \
        in " ".join(alone.split())
