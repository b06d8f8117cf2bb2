"""Where adapters differ (reports/differences.py): the report's first section and `cnnspec diff`
list the same rules, from real runs of adapters that differ in status, convention and coverage."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cnnspec.conformance.runner import run
from cnnspec.reports import differences, matrix

TESTS = Path(__file__).resolve().parent
RULES = ["pool.avg_count_include_pad", "pool.max_nan", "activation.elu", "conv.output_size",
         "softmax.overflow", "pool.output_size.ceil"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The control; a mutant (a status difference); a library that ignores NaN in max pooling
    (a convention difference); a float32-only library (a coverage difference); a naive softmax
    with its overflow declared (a deviation); pooling without ceil mode (an unsupported option)."""
    out = tmp_path_factory.mktemp("runs")
    for name, spec in [("numpy", "numpy"),
                       ("mutant", f"{TESTS / 'mutants.py'}:CountIncludePadInverted"),
                       ("float32-only", f"{TESTS / 'narrow.py'}:Float32Only"),
                       ("ignores-nan", f"{TESTS / 'conventions.py'}:IgnoresNanInMaxPool"),
                       ("declared", f"{TESTS / 'misbehaving.py'}:DeclaredNaiveSoftmax"),
                       ("no-ceil", f"{TESTS / 'misbehaving.py'}:NoCeilMode")]:
        data = run(spec, profile="quick", prefixes=RULES).to_dict()
        data["adapter"]["name"] = name
        (out / f"{name}.json").write_text(json.dumps(data))
    return out


def test_each_kind_of_difference_is_listed_with_what_each_adapter_does(folder):
    from cnnspec.reports.results import load

    built = matrix.build([load(p) for p in sorted(folder.glob("*.json"))])
    found = {d.rule.id: d for d in differences.differences(built)}
    failing = found["pool.avg_count_include_pad"]
    assert failing.kind == "status"
    groups = {tuple(b.adapters): b.what for b in failing.behaviours}
    assert groups[("mutant",)].startswith("fail: ")
    assert failing.rank == "changes outputs"
    assert failing.consequences[0].adapters == ["mutant"]
    assert failing.consequences[0].detail.startswith("gives results the rule forbids")
    coverage = found["activation.elu"]
    assert coverage.kind == "coverage"
    assert any(b.adapters == ["float32-only"] and "part of the rule" in b.what
               for b in coverage.behaviours)
    assert "conv.output_size" in found  # float32-only declines the other dtypes there too
    nan = found["pool.max_nan"]
    assert nan.kind == "convention"  # listed as such, though float32-only also covers less
    whats = {tuple(b.adapters): b.what for b in nan.behaviours}
    assert whats[("ignores-nan",)] == "ignore", whats
    assert whats[("declared", "float32-only", "mutant", "no-ceil", "numpy")] == "propagate", whats

def test_ranked_as_port_ranks_with_the_specific_consequence(folder):
    """What changes outputs (a declared deviation, a failure, a convention) before what cannot
    run as written (an option lacking), coverage last; each entry says its own consequence."""
    from cnnspec.reports.results import load

    built = matrix.build([load(p) for p in sorted(folder.glob("*.json"))])
    ranked = differences.differences(built)
    ranks = [d.rank for d in ranked]
    assert ranks == sorted(ranks, key=differences.ORDER.index), ranks
    order = [d.rule.id for d in ranked]
    assert order.index("softmax.overflow") < order.index("pool.output_size.ceil")
    assert order.index("pool.output_size.ceil") < order.index("activation.elu")
    found = {d.rule.id: d for d in ranked}
    deviation = found["softmax.overflow"]
    assert deviation.rank == "changes outputs"
    (consequence,) = [c for c in deviation.consequences if c.adapters == ["declared"]]
    assert consequence.detail == ("outputs differ (Softmax survives huge logits): exp(x) "
                                  "overflows: NaN for logits past log(max)")
    lacking = found["pool.output_size.ceil"]
    assert lacking.rank == "cannot run as written"
    consequence = lacking.consequences[0]
    assert consequence.adapters == ["no-ceil"] and consequence.detail == "avg_pool: pooling has no ceil mode"
    assert found["activation.elu"].rank == "coverage"
    assert found["activation.elu"].consequences[0].detail.startswith("runs only part of the rule")
    nan = found["pool.max_nan"].consequences[0]
    assert nan.rank == "changes outputs" and "ignore on ignores-nan" in nan.detail
    text = differences.text(ranked, built.adapters)
    assert "changes outputs on declared: outputs differ (Softmax survives huge logits)" in text
    assert "cannot run as written on no-ceil: avg_pool: pooling has no ceil mode" in text


def test_the_terminal_and_the_report_list_the_same_rules(folder, tmp_path):
    shown = subprocess.run([sys.executable, "-m", "cnnspec", "diff", str(folder)],
                           capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stderr
    listed = [line.split(" (")[0] for line in shown.stdout.splitlines()
              if line and not line.startswith(" ") and "(" in line and ":" in line]
    assert shown.stdout.startswith(f"{len(listed)} rules where")
    page = tmp_path / "report.html"
    subprocess.run([sys.executable, "-m", "cnnspec", "report", str(folder), "--html",
                    str(page)], check=True, capture_output=True)
    html = page.read_text()
    section = html[html.index('<section id="differences">'):html.index("</section>")]
    assert [rule for rule in listed if f'href="#{rule}"' in section] == listed
    shown = [part.split('"')[0] for part in section.split('<h3><a href="#')[1:]]
    assert shown == listed  # in the same, ranked, order
    assert section.count('<div class="difference') == len(listed)


def test_diff_needs_two_adapters(folder):
    shown = subprocess.run([sys.executable, "-m", "cnnspec", "diff", str(folder / "numpy.json")],
                           capture_output=True, text=True, check=False)
    assert shown.returncode == 2 and "two or more" in shown.stderr
    assert shown.stderr.count("\n") == 1
