"""`cnnspec run --shard K/N` and the merge of the shards by `report`, `diff` and `gate`."""

import copy
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from cnnspec.cli import main
from cnnspec.conformance import shards
from cnnspec.conformance.runner import select_rules
from cnnspec.reports.merge import merge
from cnnspec.reports.results import RuleResult, load, schema

PREFIXES = ["pool", "activation", "softmax", "conv_transpose"]  # 28 rules, a few s on numpy
SELECTED = len(select_rules(PREFIXES))  # counted, so that a new rule under them breaks nothing
TIMINGS = {"duration_s", "adapter_s"}  # what may differ between two runs of the same rows
COMPARED = [f.name for f in dataclasses.fields(RuleResult) if f.name not in TIMINGS]


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "cnnspec", *args], capture_output=True,
                          text=True, cwd=cwd, check=False)


def rule_options():
    return [word for prefix in PREFIXES for word in ("--rule", prefix)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The numpy control on PREFIXES' rules, whole and as 3 shards, each a `cnnspec run`."""
    folder = tmp_path_factory.mktemp("shards")
    whole = cli("run", "--adapter", "numpy", *rule_options(), "--jobs", "1", "--json",
                "whole.json", cwd=folder)
    assert whole.returncode == 0, whole.stderr
    for k in (1, 2, 3):
        shown = cli("run", "--adapter", "numpy", *rule_options(), "--jobs", "1",
                    "--shard", f"{k}/3", "--json", f"shard-{k}.json", cwd=folder)
        assert shown.returncode == 0, shown.stderr
        assert f"shard {k}/3" in shown.stdout and f"--shard {k}/3" in shown.stdout
    return folder


def shard_paths(folder, ks=(1, 2, 3)):
    return [folder / f"shard-{k}.json" for k in ks]


def test_the_union_of_three_shards_is_the_whole_run_row_for_row(runs):
    whole = load(runs / "whole.json")
    paths = shard_paths(runs)
    [merged] = merge([load(p) for p in paths], [str(p) for p in paths])
    assert merged.missing == [] and merged.results.suite["shards"]["given"] == [1, 2, 3]
    assert len(whole.rules) == SELECTED >= 28

    def fields(results):
        return [{name: getattr(row, name) for name in COMPARED} for row in results.rules]

    assert fields(merged.results) == fields(whole)  # every field but the timings, in order
    planned = [load(p).suite["shard"]["rules"] for p in paths]
    assert all(planned) and sorted(sum(planned, [])) == sorted(r.id for r in whole.rules)
    assert [[row.id for row in load(p).rules] for p in paths] == planned


def test_the_shards_are_balanced_within_the_lpt_bound(runs):
    """Graham's bound: the longest shard is at most (4/3 - 1/(3N)) times the best split's,
    which is at least the mean load and at least the costliest rule."""
    rule_ids = select_rules(PREFIXES)
    cost = shards.costs("numpy", rule_ids)
    loads = [sum(cost[r] for r in load(p).suite["shard"]["rules"]) for p in shard_paths(runs)]
    best_at_least = max(sum(cost.values()) / 3, max(cost.values()))
    assert max(loads) <= (4 / 3 - 1 / 9) * best_at_least


def test_the_split_is_deterministic_complete_and_breaks_ties_by_rule_id():
    ids = ["b.x", "a.x", "d.x", "c.x", "e.x"]
    parts = shards.split(ids, 2, dict.fromkeys(ids, 1.0))
    assert parts == [["a.x", "c.x", "e.x"], ["b.x", "d.x"]]  # sorted by id, dealt in turn
    cost = {"a.x": 5.0, "b.x": 4.0, "c.x": 3.0, "d.x": 3.0, "e.x": 2.0}
    assert shards.split(ids, 2, cost) == [["a.x", "d.x"], ["b.x", "c.x", "e.x"]]  # 8 and 9
    assert shards.split(ids, 7, cost)[5:] == [[], []]  # more shards than rules: empty ones


def test_costs_fall_back_to_the_recorded_adapters_and_the_median():
    recorded = shards.recorded_costs()
    rule_ids = select_rules()
    # every recorded id is a rule (none stale); a rule added since the table was written
    # takes the median until benchmarks/rule_costs.py records it (asserted below)
    assert set(recorded) >= {"numpy", "torch"} and set(recorded["numpy"]) <= set(rule_ids)
    recorded_ids = [rule for rule in rule_ids if rule in recorded["numpy"]]
    assert shards.costs("numpy", recorded_ids) == recorded["numpy"]
    unknown = shards.costs("mylib.adapter:Adapter", rule_ids)
    shares = [recorded[a][rule_ids[0]] / sum(recorded[a].values()) for a in recorded]
    assert unknown[rule_ids[0]] == pytest.approx(sum(shares) / len(shares))
    new = shards.costs("torch", ["a.rule.not.recorded"])["a.rule.not.recorded"]
    assert new == sorted(recorded["torch"].values())[len(recorded["torch"]) // 2]


@pytest.mark.parametrize("value", ["0/3", "4/3", "2", "a/b", "1/0", "-1/3", "1/3/5", ""])
def test_a_bad_shard_is_one_line_naming_it_exit_2(value, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", "--adapter", "numpy", f"--shard={value}"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1
    assert f"--shard: {value!r}: give K/N, shard K of N with 1 <= K <= N" in err


def test_a_shard_file_is_schema_valid_and_records_its_shard(runs):
    data = json.loads((runs / "shard-2.json").read_text())
    jsonschema.validate(data, schema())
    shard = data["suite"]["shard"]
    assert (shard["index"], shard["count"], shard["selected"]) == (2, 3, SELECTED)
    assert [row["id"] for row in data["rules"]] == shard["rules"]


def test_report_and_diff_merge_shards_and_name_a_missing_one(runs, tmp_path):
    shown = cli("report", str(runs / "shard-1.json"), str(runs / "shard-3.json"), "--html",
                "r.html", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr == ("cnnspec report: numpy: shard 2 of 3 is missing (given: 1, 3): its "
                            "rules show as missing\n")
    assert "shards 1, 3 of 3: <b>2 missing</b>" in (tmp_path / "r.html").read_text()
    mutant = json.loads((runs / "whole.json").read_text())
    mutant["adapter"]["name"] = "other"
    (tmp_path / "other.json").write_text(json.dumps(mutant))
    shown = cli("diff", *map(str, shard_paths(runs)), "other.json", cwd=tmp_path)
    assert shown.returncode == 0 and shown.stderr == "", shown.stderr


def test_the_gate_merges_shards_and_fails_on_a_missing_one(runs, tmp_path):
    shown = cli("gate", "--baseline", "whole.json", *map(str, shard_paths(runs)), cwd=runs)
    assert shown.returncode == 0 and "no change against the baseline" in shown.stdout
    shown = cli("gate", "--baseline", str(runs), *map(str, shard_paths(runs)), cwd=tmp_path)
    assert shown.returncode == 2 and "'numpy': rule" in shown.stderr  # whole + shards: overlap
    # a baseline holding only shard 1's rules: the missing shard 2 still fails the gate
    first = json.loads((runs / "shard-1.json").read_text())
    del first["suite"]["shard"]
    (tmp_path / "base.json").write_text(json.dumps(first))
    shown = cli("gate", "--baseline", "base.json", *map(str, shard_paths(runs, (1, 3))),
                cwd=tmp_path)
    assert shown.returncode == 1
    assert "WORSE    numpy: shard 2 of 3 is missing (given: 1, 3)" in shown.stdout
    shown = cli("gate", "--baseline", str(runs / "shard-1.json"), "base.json", cwd=tmp_path)
    assert shown.returncode == 2 and shown.stderr.count("\n") == 1
    assert "--baseline: numpy: shards 2, 3 of 3 are missing (given: 1)" in shown.stderr


@pytest.mark.parametrize("edit, message", [
    (lambda a, b: None, "is in both a.json and b.json"),  # one shard twice: its rules overlap
    (lambda a, b: b["suite"].pop("shard"), "is a whole run, the other files are shards"),
    (lambda a, b: b["suite"]["shard"].update(count=4), "their shard count N differ: 3 and 4"),
    (lambda a, b: b["suite"]["shard"].update(selection="0" * 16),
     "their rule selection (--rule) differ"),
    (lambda a, b: b["suite"].update(profile="quick"), "their profile differ"),
    (lambda a, b: b["adapter"].update(version="0.0"), "their adapter (version, device, ...)"),
])
def test_shards_that_are_not_of_one_run_are_refused_in_one_line(runs, tmp_path, edit, message):
    first = json.loads((runs / "shard-1.json").read_text())
    other = copy.deepcopy(first)
    if message != "is in both a.json and b.json":
        other["rules"] = json.loads((runs / "shard-2.json").read_text())["rules"]
        other["suite"]["shard"]["index"] = 2
    edit(first, other)
    (tmp_path / "a.json").write_text(json.dumps(first))
    (tmp_path / "b.json").write_text(json.dumps(other))
    for command in (["report", "--html", "r.html"], ["gate", "--baseline", "a.json"]):
        shown = cli(*command, "a.json", "b.json", cwd=tmp_path)
        assert shown.returncode == 2 and message in shown.stderr, shown.stderr
        assert shown.stderr.count("\n") == 1


def test_shards_split_by_other_versions_do_not_pass_as_complete(runs, tmp_path):
    datas = [json.loads(p.read_text()) for p in shard_paths(runs)]
    moved = datas[2]["rules"].pop()  # shard 3 planned one rule fewer, as another version might
    datas[2]["suite"]["shard"]["rules"].remove(moved["id"])
    for k, data in enumerate(datas, 1):
        (tmp_path / f"{k}.json").write_text(json.dumps(data))
    shown = cli("report", "1.json", "2.json", "3.json", "--html", "r.html", cwd=tmp_path)
    assert shown.returncode == 2
    assert (f"the 3 shards hold {SELECTED - 1} rules, not the {SELECTED} their run selected"
            in shown.stderr)


def test_files_of_schema_2_are_read_as_whole_runs(runs, tmp_path):
    data = json.loads((runs / "whole.json").read_text())
    data["schema"] = "cnnspec.results/2"
    (tmp_path / "old.json").write_text(json.dumps(data))
    shown = cli("gate", "--baseline", "old.json", str(runs / "whole.json"), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr


def test_an_empty_shard_writes_whole_results_and_completes_the_merge(tmp_path):
    for k in (1, 2):
        shown = cli("run", "--adapter", "numpy", "--rule", "activation.relu6", "--jobs", "1",
                    "--shard", f"{k}/2", "--json", f"{k}.json", cwd=tmp_path)
        assert shown.returncode == 0, shown.stdout + shown.stderr
    empty = load(tmp_path / "2.json")
    assert empty.rules == [] and "partial" not in empty.suite
    assert empty.adapter == load(tmp_path / "1.json").adapter  # loaded, not "unknown"
    [merged] = merge([load(tmp_path / "1.json"), empty], ["1.json", "2.json"])
    assert merged.missing == [] and [r.id for r in merged.results.rules] == ["activation.relu6"]


def test_a_shard_cut_short_keeps_its_shard_marked_partial(tmp_path):
    """Ctrl-C while shard 1/1's second rule hangs: the file names the shard and its plan, and
    merges (the rule not run shows as missing)."""
    path = tmp_path / "cut.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "cnnspec", "run", "--adapter",
         f"{Path(__file__).parent / 'misbehaving.py'}:HangingSigmoid", "--rule",
         "softmax.overflow", "--rule", "sigmoid.stability", "--shard", "1/1", "--jobs", "1",
         "--json", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), start_new_session=True)
    try:
        for line in process.stdout:  # softmax.overflow's row, then sigmoid hangs for 30 s
            if "softmax.overflow" in line:
                break
        time.sleep(1.0)
        os.killpg(process.pid, signal.SIGINT)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    cut = load(path)
    assert process.returncode == 1 and cut.suite["partial"] is True
    assert cut.suite["shard"]["rules"] == ["softmax.overflow", "sigmoid.stability"]
    [merged] = merge([cut], [str(path)])
    assert merged.missing == [] and [r.id for r in merged.results.rules] == ["softmax.overflow"]
