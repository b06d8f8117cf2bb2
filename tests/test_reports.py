"""`cnnspec report` (the HTML matrix), `cnnspec gate` (the CI gate) and JUnit XML via pytest."""

import copy
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cnnspec.conformance.registry import all_checks
from cnnspec.conformance.runner import run
from cnnspec.reports.results import Headline
from cnnspec.spec import RULES

TESTS = Path(__file__).resolve().parent


def cli(*args, cwd=TESTS.parent):
    return subprocess.run([sys.executable, "-m", "cnnspec", *args], capture_output=True,
                          text=True, cwd=cwd, check=False)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A real control run, and a mutant's run renamed as a second adapter."""
    folder = tmp_path_factory.mktemp("results")
    control = run("numpy", profile="quick").to_dict()
    mutant = run(f"{TESTS / 'mutants.py'}:CountIncludePadInverted", profile="quick",
                 prefixes=["pool"]).to_dict()
    mutant["adapter"]["name"] = "mutant"
    for name, data in [("numpy", control), ("mutant", mutant)]:
        (folder / f"{name}.json").write_text(json.dumps(data))
    return folder, control, mutant


def test_report_shows_every_rule_and_adapter_with_drill_down(results, tmp_path):
    folder, _, mutant = results
    page = tmp_path / "report.html"
    shown = cli("report", str(folder / "numpy.json"), str(folder / "mutant.json"),
                "--html", str(page))
    assert shown.returncode == 0, shown.stderr
    html = page.read_text()
    assert all(f'id="{rule_id}"' in html for rule_id in RULES)
    assert '<th>numpy</th>' in html and '<th>mutant</th>' in html
    assert 'class="status s-fail"' in html and 'class="status s-missing"' in html
    failed = next(r for r in mutant["rules"] if r["status"] == "fail")
    assert "reproducer:" in html and 'class="errmap"' in html
    assert failed["id"] in html
    assert "http" not in html.split("<body>")[0]  # nothing fetched: no CDN, no external CSS
    assert "<script src" not in html and "<script" in html  # one small inline script only
    assert "<th>rule</th>" in html and 'data-filter="fails"' in html
    assert 'class="mismatch"' in html and "largest error / allowed: inf" not in html


def test_report_of_a_folder_merges_every_results_file(results, tmp_path):
    folder, _, _ = results
    shown = cli("report", str(folder), "--html", str(tmp_path / "r.html"))
    assert shown.returncode == 0 and f"(2 adapters, {len(RULES)} rules)" in shown.stdout


def test_report_escapes_what_the_results_say(results, tmp_path):
    _, control, _ = results
    hostile = copy.deepcopy(control)
    hostile["rules"][0].update(status="fail", message="<script>alert(1)</script>",
                               reproducer="x = '<b>'")
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(hostile))
    cli("report", str(path), "--html", str(tmp_path / "h.html"))
    html = (tmp_path / "h.html").read_text()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)" in html


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(schema="cnnspec.results/0"),
     "$.schema is 'cnnspec.results/0', but this cnnspec reads 'cnnspec.results/1', "
     "'cnnspec.results/2', 'cnnspec.results/3' and 'cnnspec.results/4'"),
    (lambda d: d["rules"][3].update(status="great"), "$.rules[3].status is 'great'"),
    (lambda d: d["adapter"].pop("version"), "$.adapter has no 'version'"),
    (lambda d: d.pop("rules"), "$ has no 'rules'"),
])
def test_bad_results_files_are_one_line_with_the_json_path(results, tmp_path, mutate, message):
    _, control, _ = results
    data = copy.deepcopy(control)
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    shown = cli("report", str(path), "--html", str(tmp_path / "x.html"))
    assert shown.returncode == 2 and message in shown.stderr
    assert shown.stderr.count("\n") == 1


def test_unreadable_inputs_and_one_adapter_twice_exit_2(results, tmp_path):
    folder, _, _ = results
    (tmp_path / "broken.json").write_text('{"schema": "cnnspec.results/1",')
    for args, message in [
        ([str(tmp_path / "none.json")], "none.json: no such results file"),
        ([str(tmp_path / "broken.json")], "not JSON (line 1, column"),
        ([str(folder / "numpy.json"), str(folder / "numpy.json")],
         "adapter 'numpy' appears in both"),
    ]:
        shown = cli("report", *args, "--html", str(tmp_path / "x.html"))
        assert shown.returncode == 2 and message in shown.stderr, shown.stderr


def test_gate_passes_an_unchanged_result(results):
    folder, _, _ = results
    shown = cli("gate", "--baseline", str(folder / "numpy.json"), str(folder / "numpy.json"))
    assert shown.returncode == 0
    assert "no change against the baseline" in shown.stdout


def test_gate_fails_when_a_single_rule_regresses_and_shows_improvements(results, tmp_path):
    _, control, _ = results
    now = copy.deepcopy(control)
    now["rules"][0]["status"] = "fail"
    baseline = copy.deepcopy(control)
    baseline["rules"][1]["status"] = "error"
    (tmp_path / "now.json").write_text(json.dumps(now))
    (tmp_path / "base.json").write_text(json.dumps(baseline))
    shown = cli("gate", "--baseline", str(tmp_path / "base.json"), str(tmp_path / "now.json"))
    assert shown.returncode == 1
    first, second = control["rules"][0]["id"], control["rules"][1]["id"]
    lines = {line.split()[2]: line for line in shown.stdout.splitlines()[1:-1]
             if not line.startswith(" ")}
    assert lines[first].startswith("WORSE") and lines[first].endswith("pass -> fail")
    assert lines[second].startswith("better") and lines[second].endswith("error -> pass")
    assert "1 worse, 1 better, 2 changed in all" in shown.stdout


def test_a_worse_row_quotes_the_new_failure_and_its_reproducer(tmp_path):
    base = tmp_path / "base.json"
    assert cli("run", "--adapter", "tests/mutants.py:NaiveSoftmax", "--rule", "softmax.overflow",
               "--rule", "activation.relu", "--json", str(base)).returncode == 1
    data = json.loads(base.read_text())
    index = [row["id"] for row in data["rules"]].index("softmax.overflow")
    failure = dict(data["rules"][index])
    for row in data["rules"]:
        row.update(status="pass", message=None, headline=None, mismatch=None, error_map=None,
                   reproducer=None, counterexample=None, max_error=None)
    base.write_text(json.dumps(data))
    data["rules"][index] = failure
    now = tmp_path / "now.json"
    now.write_text(json.dumps(data))
    shown = cli("gate", "--baseline", str(base), str(now))
    assert shown.returncode == 1
    worse, headline, *rest = shown.stdout.splitlines()[1:]
    assert worse.startswith("WORSE") and worse.endswith("softmax.overflow  pass -> fail")
    assert headline.strip() == Headline(**failure["headline"]).text()
    assert failure["message"].startswith(headline.strip())  # the human text, headline first
    assert headline.strip().startswith("softmax(x, axis=-1)=") and rest[0].strip() == "reproducer:"
    assert "adapter = load('tests/mutants.py:NaiveSoftmax')" in shown.stdout


def test_gate_counts_a_missing_rule_as_worse(results, tmp_path):
    _, control, _ = results
    fewer = copy.deepcopy(control)
    gone = fewer["rules"].pop()["id"]
    (tmp_path / "fewer.json").write_text(json.dumps(fewer))
    (tmp_path / "base.json").write_text(json.dumps(control))
    shown = cli("gate", "--baseline", str(tmp_path / "base.json"), str(tmp_path / "fewer.json"))
    assert shown.returncode == 1
    assert any(line.startswith("WORSE") and gone in line and line.endswith("pass -> missing")
               for line in shown.stdout.splitlines())


def test_gate_lists_a_new_rule_as_new_and_counts_it_only_when_asked(results, tmp_path):
    """An upgrade adds rules: one the baseline lacks is new, not worse, even when it fails;
    with --count-new a failing new rule is worse, a passing one still not."""
    _, control, _ = results
    base = copy.deepcopy(control)
    failing, passing = base["rules"].pop(0)["id"], base["rules"].pop(0)["id"]
    now = copy.deepcopy(control)
    now["rules"][0].update(status="fail", message="out=1, but should be 2 [x]")
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "now.json").write_text(json.dumps(now))
    shown = cli("gate", "--baseline", str(tmp_path / "base.json"), str(tmp_path / "now.json"))
    assert shown.returncode == 0, shown.stdout
    lines = {line.split()[2]: line for line in shown.stdout.splitlines()[1:-1]
             if not line.startswith(" ")}
    assert lines[failing].startswith("new") and lines[failing].endswith("new -> fail")
    assert lines[passing].startswith("new") and lines[passing].endswith("new -> pass")
    assert "0 worse, 0 better, 0 changed in all; 2 new since the baseline" in shown.stdout
    counted = cli("gate", "--count-new", "--baseline", str(tmp_path / "base.json"),
                  str(tmp_path / "now.json"))
    assert counted.returncode == 1, counted.stdout
    lines = {line.split()[2]: line for line in counted.stdout.splitlines()[1:-1]
             if not line.startswith(" ")}
    assert lines[failing].startswith("WORSE") and lines[passing].startswith("new")
    assert "1 worse, 0 better, 0 changed in all; 2 new since the baseline" in counted.stdout


def test_gate_refuses_mismatched_inputs(results, tmp_path):
    folder, control, _ = results
    other = copy.deepcopy(control)
    other["schema"] = "cnnspec.results/9"
    (tmp_path / "other.json").write_text(json.dumps(other))
    for baseline, message in [(folder / "mutant.json", "the baseline has adapters ['mutant']"),
                              (tmp_path / "other.json", "$.schema is 'cnnspec.results/9'")]:
        shown = cli("gate", "--baseline", str(baseline), str(folder / "numpy.json"))
        assert shown.returncode == 2 and message in shown.stderr


def test_pytest_writes_junit_xml_with_a_testcase_per_check(tmp_path):
    junit = tmp_path / "junit.xml"
    shown = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "cnnspec.conformance", "--adapter", "numpy",
         "--cnnspec-profile", "quick", "-q", "-p", "no:cacheprovider", f"--junit-xml={junit}"],
        capture_output=True, text=True, cwd=tmp_path, check=False)
    assert shown.returncode == 0, shown.stdout[-2000:]
    cases = ET.parse(junit).getroot().iter("testcase")
    names = [case.get("name") for case in cases]
    assert len(names) == sum(len(c) for c in all_checks().values())
    assert any("pool.output_size.ceil" in name for name in names)


def test_counts_of_one_are_singular(results, tmp_path):
    folder, _, _ = results
    shown = cli("report", str(folder / "numpy.json"), "--html", str(tmp_path / "one.html"))
    assert shown.returncode == 0 and f"(1 adapter, {len(RULES)} rules)" in shown.stdout
    assert "against 1\nadapter." in (tmp_path / "one.html").read_text()
    run = cli("run", "--adapter", "numpy", "--rule", "activation.relu6", "--jobs", "1")
    assert "profile ci, 1 worker process\n" in run.stdout


def test_a_reader_that_stops_early_gets_no_traceback():
    # `true` reads nothing and is gone before cnnspec writes: as `| head -n 1`, every time
    shown = subprocess.run(f"{sys.executable} -m cnnspec rules | true", shell=True,
                           capture_output=True, text=True, cwd=TESTS.parent, check=False)
    assert shown.stderr == ""
