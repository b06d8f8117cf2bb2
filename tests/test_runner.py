"""`cnnspec run`: exit codes, results JSON, determinism, deviations, unsupported, crashes, hangs."""

import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from cnnspec import UsageError
from cnnspec.conformance.deviations import parse
from cnnspec.conformance.runner import run
from cnnspec.reports.results import schema
from cnnspec.spec import RULES

TESTS = Path(__file__).resolve().parent


def cli(*args):
    return subprocess.run([sys.executable, "-m", "cnnspec", "run", *args], capture_output=True,
                          text=True, cwd=TESTS.parent, check=False)


def adapter(name, module="misbehaving.py"):
    return f"{TESTS / module}:{name}"


@pytest.fixture(scope="module")
def control(tmp_path_factory):
    path = tmp_path_factory.mktemp("control") / "out.json"
    shown = cli("--adapter", "numpy", "--profile", "ci", "--json", str(path))
    return shown, json.loads(path.read_text())


def test_control_passes_every_rule_with_schema_valid_results(control):
    shown, data = control
    assert shown.returncode == 0, shown.stdout
    jsonschema.validate(data, schema())
    ids = [row["id"] for row in data["rules"]]
    assert len(set(ids)) >= 55 and set(ids) <= set(RULES)
    assert {row["status"] for row in data["rules"]} == {"pass"}
    assert all(row["examples"] > 0 for row in data["rules"])
    assert data["adapter"]["name"] == "numpy" and data["suite"]["profile"] == "ci"
    assert "replay: cnnspec run --adapter numpy --profile ci" in shown.stdout


def test_ci_profile_gives_the_same_verdicts_every_run(control):
    _, first = control
    verdicts = [(row["id"], row["status"], row["examples"], row["conventions"])
                for row in first["rules"]]
    for _ in range(2):
        again = run("numpy", profile="ci").to_dict()
        assert [(r["id"], r["status"], r["examples"], r["conventions"])
                for r in again["rules"]] == verdicts


def test_rule_prefixes_select_rules_and_a_prefix_matching_none_is_a_usage_error(tmp_path):
    path = tmp_path / "pool.json"
    shown = cli("--adapter", "numpy", "--rule", "pool.output_size", "--json", str(path))
    assert shown.returncode == 0
    assert [r["id"] for r in json.loads(path.read_text())["rules"]] == [
        "pool.output_size.floor", "pool.output_size.ceil"]
    bad = cli("--adapter", "numpy", "--rule", "pool.nothing")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "--rule 'pool.nothing' matches no rule id" in bad.stderr


@pytest.mark.parametrize("args, message", [
    (["--adapter", "torchh"], "unknown adapter 'torchh': the known ones are numpy, torch"),
    (["--adapter", "no_such_module:Thing"], "cannot import no_such_module"),
    (["--adapter", "missing/file.py:Thing"], "no file missing/file.py"),
    (["--adapter", "numpy", "--profile", "fast"],
     "--profile: invalid choice: 'fast' (choose from 'quick', 'ci', 'thorough')"),
    (["--adapter", "numpy", "--jobs", "-1"], "give a number of worker processes >= 0"),
    (["--adapter", "numpy", "--timeout", "-5"], "'-5': give the seconds one adapter call may "
                                                "take, > 0 (0: no limit)"),
    (["--adapter", "numpy", "--shrink-budget", "soon"], "'soon': give the seconds a check may "
                                                        "spend shrinking a failure, > 0"),
    (["--adapter", "numpy", "--adapter", "torchh"], "unknown adapter 'torchh'"),
])
def test_bad_invocations_exit_2_with_one_line(args, message):
    shown = cli(*args)
    assert shown.returncode == 2
    assert message in shown.stderr
    assert shown.stderr.count("\n") == 1 and "Traceback" not in shown.stderr


def test_output_paths_are_checked_before_any_work(tmp_path):
    (tmp_path / "a_file").write_text("")
    for args, message in [
        (["--json", str(tmp_path)], f"--json {tmp_path}: is a folder; give a file path, such as "
                                    f"{tmp_path / 'results.json'}"),
        (["--html", str(tmp_path)], f"--html {tmp_path}: is a folder"),
        (["--json", str(tmp_path / "a_file" / "out.json")], "a_file is a file, not a folder"),
        (["--adapter", "torch", "--json", str(tmp_path)], f"--json {tmp_path}: is a folder"),
    ]:
        shown = cli("--adapter", "numpy", *args)
        assert shown.returncode == 2 and shown.stdout == "", shown.stdout
        assert message in shown.stderr and shown.stderr.count("\n") == 1, shown.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]  # no temporary file left


@pytest.mark.parametrize("name", ["numpy", "torch", "tensorflow", "jax"])
def test_a_device_the_framework_cannot_use_is_a_usage_error_before_the_run(name):
    pytest.importorskip(name)
    shown = cli("--adapter", name, "--device", "cuda:7", "--jobs", "1")
    assert shown.returncode == 2 and shown.stdout == "", shown.stdout
    ours = [line for line in shown.stderr.splitlines() if line.startswith("cnnspec")]
    assert len(ours) == 1 and "Traceback" not in shown.stderr, shown.stderr  # TF logs its own
    assert ours[0].startswith(f"cnnspec run: adapter {name!r}: building") and "'cuda:7'" in ours[0]


def test_an_adapter_instance_on_another_device_is_refused():
    shown = cli("--adapter", adapter("INSTANCE"), "--device", "cuda:0")
    assert shown.returncode == 2
    assert "is an instance on device 'cpu', not 'cuda:0': name its class" in shown.stderr


def test_a_misspelt_rule_prefix_gets_a_suggestion():
    shown = cli("--adapter", "numpy", "--rule", "pool.max_matches_refrence")
    assert shown.returncode == 2 and shown.stdout == ""
    assert "did you mean pool.max_matches_reference," in shown.stderr


@pytest.mark.parametrize("jobs", [[], ["--jobs", "0"]])
def test_a_framework_that_is_not_installed_names_its_extra(monkeypatch, capsys, jobs):
    from cnnspec.adapters import registry
    from cnnspec.cli import main

    real = registry.importlib.util.find_spec
    monkeypatch.setattr(registry.importlib.util, "find_spec",
                        lambda name, *a: None if name == "jax" else real(name, *a))
    assert main(["run", "--adapter", "numpy", "--adapter", "jax", *jobs]) == 2
    err = capsys.readouterr().err
    assert err == ("cnnspec run: adapter 'jax' needs jax, which is not installed: "
                   "pip install 'jax' (cnnspec's [jax] extra)\n")


def test_a_declared_deviation_turns_the_failure_into_deviation(tmp_path):
    path = tmp_path / "declared.json"
    shown = cli("--adapter", adapter("DeclaredNaiveSoftmax"), "--rule", "softmax.overflow",
                "--json", str(path))
    assert shown.returncode == 0, shown.stdout
    row = json.loads(path.read_text())["rules"][0]
    assert row["status"] == "deviation"
    assert row["deviation"]["evidence"] == "https://github.com/FluxML/NNlib.jl/pull/43"
    assert row["reproducer"] and "softmax" in row["message"]


def test_a_deviation_that_no_longer_fails_is_reported_stale():
    row = run(adapter("ControlWithStaleDeviation"), prefixes=["softmax.overflow"]).rules[0]
    assert row.status == "pass"
    assert [d.observed for d in row.stale] == ["exp(x) overflows: NaN for logits past log(max)"]
    assert row.notes()[0].text.startswith("stale deviation: exp(x) overflows")


def test_an_option_the_framework_lacks_is_unsupported_with_the_reason():
    rows = {r.id: r for r in run(adapter("NoCeilMode"), prefixes=["pool.output_size"]).rules}
    assert rows["pool.output_size.floor"].status == "pass"
    assert rows["pool.output_size.ceil"].status == "unsupported"
    assert "pooling has no ceil mode" in rows["pool.output_size.ceil"].message
    assert any("pooling has no ceil mode" in r for r in rows["pool.output_size.ceil"].reasons)


def test_a_crashing_adapter_gives_error_rows_for_its_rules_only(tmp_path):
    path = tmp_path / "raising.json"
    shown = cli("--adapter", adapter("RaisingConv"), "--rule", "conv.output_size",
                "--rule", "pool.max_matches", "--json", str(path))
    assert shown.returncode == 1
    rows = {r["id"]: r for r in json.loads(path.read_text())["rules"]}
    assert rows["conv.output_size"]["status"] == "error"
    assert "RuntimeError: planted crash in conv" in rows["conv.output_size"]["message"]
    assert rows["pool.max_matches_reference"]["status"] == "pass"


def rows_of(path):
    return {r["id"]: r for r in json.loads(path.read_text())["rules"]}


@pytest.mark.parametrize("name, rule, death, op, signum", [
    ("AbortingMaxPool", "pool.max_matches_reference", "SIGABRT (signal 6)", "max_pool", 6),
    ("SegfaultingSoftmax", "softmax.overflow", "SIGSEGV (signal 11)", "softmax", 11),
])
def test_an_adapter_that_kills_its_process_loses_only_that_rule(tmp_path, name, rule, death,
                                                                op, signum):
    path = tmp_path / "dead.json"
    shown = cli("--adapter", adapter(name), "--rule", "conv.output_size", "--rule", rule,
                "--rule", "activation.relu6", "--json", str(path))
    assert shown.returncode == 1, shown.stdout + shown.stderr
    rows = rows_of(path)
    assert list(rows) == ["conv.output_size", rule, "activation.relu6"]  # catalogue order
    assert rows[rule]["status"] == "error"
    message = rows[rule]["message"]
    assert f"the adapter's worker process died: {death}" in message
    assert f"--rule {rule} --jobs 0" in message  # the in-process replay
    assert "Fatal Python error" in message  # faulthandler's stack from the worker's stderr
    assert rows["conv.output_size"]["status"] == rows["activation.relu6"]["status"] == "pass"
    # the call in flight, named with its arrays' dtypes and shapes, and a reproducer script
    # that kills a fresh process with the same signal
    assert re.search(rf"in the call {op}\(a0 float\d+ \(\d+(, \d+)*\), ", message), message
    [call] = rows[rule]["counterexample"]["calls"]
    assert call["op"] == op and call["arrays"][0]["shape"]
    script = rows[rule]["reproducer"]
    assert f"out0 = adapter.{op}(a0_0, " in script
    replayed = subprocess.run([sys.executable, "-c", script], capture_output=True,
                              cwd=TESTS.parent, check=False)
    assert replayed.returncode == -signum, replayed.stderr


def test_a_call_hanging_where_the_alarm_cannot_reach_is_killed_by_the_watchdog(tmp_path):
    path = tmp_path / "hung.json"
    shown = cli("--adapter", adapter("HangingInC"), "--rule", "sigmoid.stability",
                "--rule", "activation.relu", "--timeout", "0.5", "--json", str(path))
    assert shown.returncode == 1
    rows = rows_of(path)
    assert rows["sigmoid.stability"]["status"] == "error"
    assert ("no result within --timeout=0.5s: the call did not return to Python, so its worker "
            "was killed") in rows["sigmoid.stability"]["message"]
    assert rows["activation.relu"]["status"] == "pass"


def test_worker_processes_give_the_verdicts_of_an_in_process_run(tmp_path):
    verdicts = []
    for jobs in ("0", "1", "2"):
        path = tmp_path / f"jobs{jobs}.json"
        shown = cli("--adapter", "numpy", "--adapter", adapter("NoCeilMode"), "--rule", "pool",
                    "--rule", "grad.max_pool", "--jobs", jobs, "--json", str(path))
        assert shown.returncode == 0
        files = sorted(tmp_path.glob(f"jobs{jobs}-*.json"))
        assert len(files) == 2
        verdicts.append([[(r["id"], r["status"], r["examples"], r["conventions"], r["reasons"],
                           r["also_declared"], r["stale"])
                          for r in rows_of(file).values()] for file in files])
    assert verdicts[0] == verdicts[1] == verdicts[2]


def _default_sigint():
    """In the child: Ctrl-C as in a terminal. A test run in the background (nohup, CI) inherits
    an ignored SIGINT, which Python keeps, and the signal would never arrive."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt(path, jobs, when, times):
    """Starts `cnnspec run` in a session of its own, sends SIGINT `times` times to its whole
    process group (as a terminal's Ctrl-C or `timeout -s INT` do) `when` it is started
    ("start": before any row; "running": after the first row), and returns (exit, out, err)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cnnspec", "run", "--adapter", adapter("HangingSigmoid"),
         "--rule", "softmax.overflow", "--rule", "sigmoid.stability", "--json", str(path),
         "--jobs", jobs],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=TESTS.parent,
        preexec_fn=_default_sigint, start_new_session=True)
    try:
        if when == "start":
            time.sleep(0.3)
        else:
            for line in process.stdout:  # softmax.overflow's row, then sigmoid hangs for 30 s
                if "softmax.overflow" in line:
                    break
            time.sleep(1.0)
        for _ in range(times):
            os.killpg(process.pid, signal.SIGINT)
            time.sleep(0.05)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    for _ in range(50):  # the run and its workers are gone
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return process.returncode, out, err, False
        time.sleep(0.1)
    return process.returncode, out, err, True


@pytest.mark.parametrize("jobs", ["0", "2"])
@pytest.mark.parametrize("when, times", [("start", 1), ("running", 1), ("running", 2)])
def test_ctrl_c_in_any_phase_writes_the_rows_it_has_marked_partial(tmp_path, jobs, when, times):
    path = tmp_path / "interrupted.json"
    code, out, err, left = _interrupt(path, jobs, when, times)
    assert code == 1 and "Traceback" not in err and not left, err
    assert "interrupted: the results are partial" in out
    data = strict_json(path)
    jsonschema.validate(data, schema())
    assert data["suite"]["partial"] is True
    rows = [(r["id"], r["status"]) for r in data["rules"]]
    assert rows == ([] if when == "start" else [("softmax.overflow", "pass")])


@pytest.mark.parametrize("jobs", ["0", "1"])
def test_a_hanging_call_is_an_error_after_the_timeout(tmp_path, jobs):
    path = tmp_path / "hanging.json"
    shown = cli("--adapter", adapter("HangingSigmoid"), "--rule", "sigmoid.stability",
                "--rule", "activation.relu", "--timeout", "0.5", "--jobs", jobs,
                "--json", str(path))
    assert shown.returncode == 1
    rows = rows_of(path)
    assert rows["sigmoid.stability"]["status"] == "error"
    assert "no result within --timeout=0.5s" in rows["sigmoid.stability"]["message"]
    assert rows["activation.relu"]["status"] == "pass"
    # one timeout ends the rule: no retrying and shrinking through it (that took ~100x)
    assert rows["sigmoid.stability"]["duration_s"] < 10 * 0.5


def test_a_failure_reads_in_the_grammar_and_its_reproducer_replays_it():
    row = run(adapter("NaiveSoftmax", "mutants.py"), prefixes=["softmax.overflow"]).rules[0]
    assert row.status == "fail"
    headline = row.headline.text()
    assert row.message.startswith(headline)
    assert (row.headline.quantity, row.headline.call) == ("softmax(x, axis=-1)", "softmax(axis=-1)")
    assert headline.startswith("softmax(x, axis=-1)=[")
    assert "but should be finite where the reference is" in headline
    assert headline.endswith("[softmax.overflow: softmax(axis=-1)]")
    replay = subprocess.run([sys.executable, "-c", row.reproducer], capture_output=True,
                            text=True, cwd=TESTS, check=False)
    assert replay.returncode == 0, replay.stderr
    assert "nan" in replay.stdout


def test_a_value_failure_shows_the_mismatch_block_and_the_tolerance():
    row = run(adapter("CountIncludePadInverted", "mutants.py"),
              prefixes=["pool.avg_count_include_pad"]).rules[0]
    assert row.status == "fail"
    assert "Not within tolerance: |got - ref| <= eps*|ref| + " in row.message
    assert "(tolerance.policy: reduction," in row.message
    assert "Mismatched elements: " in row.message and "Max absolute difference" in row.message
    assert row.max_error > 0
    assert row.counterexample["calls"][-1]["op"] == "avg_pool"
    assert row.mismatch["count"] >= 1 and row.mismatch["elements"]
    assert row.error_map["grid"] and len(row.error_map["at"]) >= 2
    assert not {"mismatch", "error_map", "error_map_at"} & set(row.counterexample)


def test_an_error_row_records_no_convention():
    row = run(adapter("RaisesAfterAConvention"), prefixes=["pool.max_nan"]).rules[0]
    assert row.status == "error" and "planted crash after 5 calls" in row.message
    assert row.conventions == {} and row.convention is None, row.conventions


def test_a_vjp_that_cannot_take_the_specs_cotangent_says_so():
    """The forward output is longer than the spec's (a declared deviation of the forward
    rule): the VJP's row names both shapes and that deviation, not the library's IndexError."""
    row = run(adapter("ValidTransposedConvMaxKS"),
              prefixes=["grad.conv_transpose.input"]).rules[0]
    assert row.status == "fail", row.message
    headline, raised = row.message.splitlines()[:2]
    assert headline.startswith("conv_transpose(...).shape, the adapter's forward output=(1, 1, 6), "
                               "but should be (1, 1, 4), the spec's and the cotangent's shape: its "
                               "VJP cannot take the spec's cotangent (a declared deviation: a "
                               "'valid' transposed conv is (i - 1)*s + max(k, s) long "
                               "(https://example.org/valid-length))"), headline
    assert raised == "the adapter's VJP raised IndexError: index 5 is out of bounds for axis 2 " \
                     "with size 4"


def strict_json(path):
    """The file parsed as RFC 8259 JSON: NaN, Infinity and -Infinity are not tokens of it."""
    def refuse(token):
        raise ValueError(f"{path} holds {token}, which is not JSON")
    return json.loads(Path(path).read_text(), parse_constant=refuse)


@pytest.mark.parametrize("name, status", [("NanRelu6AtInfinity", "fail"),
                                          ("DeclaredNanRelu6", "deviation")])
def test_a_nan_error_is_written_as_strict_json_that_validates(tmp_path, name, status):
    path = tmp_path / "nan.json"
    shown = cli("--adapter", adapter(name), "--rule", "activation.relu6", "--json", str(path),
                "--html", str(tmp_path / "nan.html"))
    assert shown.returncode == (1 if status == "fail" else 0), shown.stdout + shown.stderr
    data = strict_json(path)
    jsonschema.validate(data, schema())
    row = data["rules"][0]
    assert row["status"] == status and row["max_error"] == "inf"
    # the counterexample keeps each non-finite number as itself: relu6(+inf) gave NaN where 6
    # was due, so the input is "inf", the got "nan" (not "-inf", not "inf"), the ref 6.0
    counterexample = row["counterexample"]
    element = row["mismatch"]["elements"][0]
    assert (element["got"], element["expected"]) == ("nan", 6.0)
    x = np.asarray(counterexample["calls"][0]["arrays"][0]["values"], dtype=object).ravel()
    assert "inf" in x.tolist() and "-inf" not in x.tolist()
    assert (tmp_path / "nan.html").is_file()
    from cnnspec.reports.results import decode_number, load
    loaded = load(path).rules[0]
    assert loaded.max_error == float("inf")
    assert math.isnan(decode_number(loaded.mismatch["elements"][0]["got"]))


ENTRY = "[[deviation]]\nrule = 'softmax.overflow'\nobserved = 'o'\nkind = 'bug'\nevidence = 'https://e'\n"


@pytest.mark.parametrize("text, message", [
    ("[[deviation]]\nrule = 'x.y'\nobserved = 'o'\nkind = 'bug'\nevidence = 'https://e'",
     "rule='x.y' is not a rule id"),
    ("[[deviation]]\nrule = 'softmax.overflow'\nobserved = 'o'\nkind = 'meh'\nevidence = 'https://e'",
     "kind='meh' must be one of"),
    ("[[deviation]]\nrule = 'softmax.overflow'\nobserved = 'o'\nkind = 'bug'\nevidence = 'see docs'",
     "evidence='see docs' must be a link"),
    ("[[deviation]]\nrule = 'softmax.overflow'", "lacks observed, kind, evidence"),
    (ENTRY + "when = { dtpye = 'float32' }", "when: unknown key 'dtpye': did you mean 'dtype'?"),
    (ENTRY + "when = 'relu'", "when must be a table"),
    (ENTRY + "link = 'https://e'", "unknown key 'link':"),
    ("[[deviations]]\nrule = 'softmax.overflow'", "unknown table 'deviations'"),
    ("[[deviation", "not valid TOML"),
])
def test_malformed_deviation_files_name_the_problem(text, message):
    with pytest.raises(ValueError, match="f.toml.*" + message.replace("(", r"\(").replace(
            "[", r"\[")):
        parse(text, "f.toml")


def test_every_fact_a_check_attaches_to_a_failure_can_be_named_in_when():
    import ast

    from cnnspec.conformance.deviations import FACTS
    own = {"scale", "quantity", "block", "max_error", "tolerance"}  # the assertions' parameters
    attached = set()
    for path in (TESTS.parent / "conformance" / "checks").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("fail", "expect_equal", "expect_true", "expect_close")):
                attached |= {keyword.arg for keyword in node.keywords} - own
    assert attached == set(FACTS)


def test_a_typo_in_a_deviations_file_is_a_usage_error_before_the_run():
    shown = cli("--adapter", adapter("TypoInDeviations"), "--jobs", "2")
    assert shown.returncode == 2 and shown.stdout == ""
    assert "when: unknown key 'dtpye': did you mean 'dtype'?" in shown.stderr
    assert shown.stderr.count("\n") == 1


def test_an_exploring_run_records_its_seed_and_replays_with_it(tmp_path):
    path = tmp_path / "thorough.json"
    shown = cli("--adapter", "numpy", "--profile", "thorough", "--rule", "activation.relu6",
                "--json", str(path))
    assert shown.returncode == 0
    seed = json.loads(path.read_text())["suite"]["seed"]
    assert isinstance(seed, int) and f"--profile thorough --seed {seed}" in shown.stdout


def test_results_files_get_the_permissions_of_any_new_file(tmp_path):
    path = tmp_path / "mode.json"
    assert cli("--adapter", "numpy", "--rule", "activation.relu6", "--json", str(path),
               "--html", str(tmp_path / "mode.html")).returncode == 0
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == (tmp_path / "mode.html").stat().st_mode & 0o777
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_when_can_name_the_number_of_spatial_axes():
    import numpy as np

    from cnnspec.conformance.deviations import Deviation
    from cnnspec.conformance.failures import Call
    entry = Deviation("grad.max_pool.ties", "o", "bug", "https://e", {"spatial_axes": 3})
    assert entry.matches(Call("max_pool", (np.zeros((1, 1, 2, 2, 2)),), {}))
    assert not entry.matches(Call("max_pool", (np.zeros((1, 1, 2, 2)),), {}))


def test_an_adapter_that_writes_into_its_inputs_changes_no_evidence():
    rows = {r.id: r for r in run(adapter("WritesIntoItsInputs"),
                                 prefixes=["grad.avg_pool", "activation.relu"]).rules}
    assert {row.status for row in rows.values()} == {"pass"}, rows


@pytest.mark.parametrize("rule, message", [
    ("sigmoid.stability", "type of sigmoid(...)=list of 1, but should be a numpy.ndarray of numbers"),
    # a rank-1 input (drawn since softmax takes rank 1) makes the dropped axis a scalar
    ("softmax.simplex", "type of softmax(...)=numpy.float32, but should be a numpy.ndarray"),
    ("grad.avg_pool.uniform", "vjp('avg_pool')=numpy.ndarray of dtype"),
])
def test_a_wrong_return_type_is_a_failure_naming_it(rule, message):
    name = "SoftmaxDropsTheAxis" if rule.startswith("softmax") else "ReturnsAList"
    row = run(adapter(name), prefixes=[rule]).rules[0]
    assert row.status == "fail" and message in row.message, row.message


def test_a_failure_names_the_call_that_returned_the_value_not_the_last_call():
    import numpy as np

    from cnnspec.adapters import load
    from cnnspec.conformance.context import RuleRun
    from cnnspec.conformance.failures import RuleFailure
    from cnnspec.conformance.probe import Probe
    from cnnspec.conformance.tolerance import policy

    op = Probe(load("numpy"), RuleRun("softmax.simplex"))
    x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    first = op.softmax(x, axis=1)
    op.log_softmax(x, axis=0)
    with pytest.raises(RuleFailure) as raised:
        op.expect_close(first[0], np.zeros(3), policy("exact", x.dtype))
    assert raised.value.headline.text().endswith("[softmax.simplex: softmax(axis=1)]")


@pytest.mark.parametrize("name, rule, status", [
    ("RaisesOnHalfSigmoid", "sigmoid.stability", "deviation"),
    ("RaisesUndeclared", "sigmoid.stability", "error"),
    ("SegfaultsOnDoubleRelu6", "activation.relu6", "deviation"),
    ("FloorsWhenKernelBelowStride", "pool.max_matches_reference", "deviation"),
    ("FloorsWhenKernelBelowStride", "pool.output_size.floor", "pass"),
])
def test_deviations_declare_raises_crashes_and_derived_conditions(tmp_path, name, rule, status):
    path = tmp_path / "out.json"
    shown = cli("--adapter", adapter(name), "--rule", rule, "--json", str(path))
    data = strict_json(path)
    jsonschema.validate(data, schema())
    row = data["rules"][0]
    assert row["status"] == status, shown.stdout[-2000:]
    if status == "deviation":
        assert row["examples"] > 0 and row["deviation"]["evidence"].startswith("https://")


def test_a_derived_condition_covers_only_its_calls():
    """The entry covers kernel < stride only: the same bug elsewhere is still a failure."""
    from cnnspec.conformance.deviations import Deviation, AxisTest
    from cnnspec.conformance.failures import Call

    entry = Deviation("pool.max_matches_reference", "o", "bug", "https://e",
                      {"axes": (AxisTest.parse("any kernel_shape < strides", "t"),)})
    x = np.zeros((1, 1, 5, 5), np.float32)
    below = Call("max_pool", (x,), {"kernel_shape": (2, 3), "strides": (3, 3)})
    equal = Call("max_pool", (x,), {"kernel_shape": (3, 3), "strides": (3, 3)})
    assert entry.matches(below) and not entry.matches(equal)
    assert Deviation("r", "o", "bug", "https://e", {"dtype": {"not_in": ["float32"]}}
                     ).matches(equal) is False


@pytest.mark.parametrize("when, message", [
    ("axes = 'some kernel_shape < strides'", 'write "any|all QUANTITY OP QUANTITY|INTEGER"'),
    ("axes = 'any kernel_shap < strides'", "unknown quantity 'kernel_shap': did you mean 'kernel_shape'"),
    ("dtype = { among = ['float16'] }", "a table is a set test"),
])
def test_malformed_derived_conditions_name_the_fix(when, message):
    text = ENTRY + f"when = {{ {when} }}\n"
    with pytest.raises(UsageError, match=re.escape(message)):
        parse(text, "d.toml")


def test_raises_and_crashes_are_validated():
    with pytest.raises(UsageError, match="give the error's class name"):
        parse(ENTRY + "raises = 3\n", "d.toml")
    with pytest.raises(UsageError, match="not with raises"):
        parse(ENTRY + "raises = 'E'\ncrashes = true\n", "d.toml")


def test_an_exact_comparison_reports_an_infinite_error_ratio_and_the_worst_slice():
    """Exact policy: any difference exceeds the allowed 0 infinitely (it read 0 before), and
    the error map is the 2-d slice holding the worst element, not the first one."""
    from cnnspec.conformance.failures import compare
    from cnnspec.conformance.assertions import error_map

    expected = np.zeros((1, 2, 2, 3))
    got = expected.copy()
    got[0, 1, 1, 0] = 1.0
    mismatch = compare(got, expected, np.zeros_like(expected), "exact")
    assert mismatch.max_ratio == float("inf") and mismatch.bad_indices == [(0, 1, 1, 0)]
    assert mismatch.as_dict()["elements"][0] == {"index": [0, 1, 1, 0], "got": 1.0,
                                                  "expected": 0.0, "allowed": 0.0}
    grid, corner = error_map(got, expected, np.zeros_like(expected))
    assert corner == [0, 1, 0, 0] and grid[1][0] == 1e6 and grid[0][0] == 0.0


def test_the_verdict_and_the_error_map_agree_on_which_elements_are_wrong():
    """An accepted infinity (got inf where inf was due, nothing allowed) is not painted red:
    the map's ratio is 0 there and 5 at the one element the verdict flags."""
    from cnnspec.conformance.failures import compare
    from cnnspec.conformance.assertions import error_map

    got, expected = np.array([np.inf, 1.0, 2.0]), np.array([np.inf, 1.0, 2.5])
    allowed = np.array([0.0, 0.0, 0.1])
    mismatch = compare(got, expected, allowed, "mixed")
    assert mismatch.bad_indices == [(2,)] and mismatch.max_ratio == pytest.approx(5.0)
    grid, corner = error_map(got, expected, allowed)
    assert grid == [[0.0, 0.0, 5.0]] and corner == [0, 0]


def test_an_error_row_counts_the_examples_checked_not_the_attempts_at_shrinking():
    # every conv call raises: the first example that calls conv is the rule's last checked one
    [row] = run(adapter("RaisingConv"), prefixes=["conv.output_size"]).rules
    assert row.status == "error"
    assert row.examples == 1 and row.declined == 0, (row.examples, row.declined)


def test_the_shrink_budget_stops_shrinking_and_the_row_says_so():
    mutant = adapter("NaiveSoftmax", "mutants.py")
    [stopped] = run(mutant, prefixes=["softmax.simplex"], shrink_budget=1e-9).rules
    [shrunk] = run(mutant, prefixes=["softmax.simplex"], shrink_budget=None).rules
    assert stopped.status == shrunk.status == "fail"
    assert stopped.shrink_stopped_s == 1e-9 and shrunk.shrink_stopped_s is None
    assert any("shrinking stopped at its budget of 1e-09 s (--shrink-budget)" in note.text
               for note in stopped.notes()), stopped.notes()
    # the same examples before the first failure, whatever the shrinking did after it
    assert (stopped.examples, stopped.digest) == (shrunk.examples, shrunk.digest)
    # unbounded, shrinking reaches a counterexample no larger than the one it stopped at
    sizes = [sum(len(np.ravel(a["values"])) for c in row.counterexample["calls"]
                 for a in c["arrays"] if a.get("values") is not None)
             for row in (stopped, shrunk)]
    assert sizes[1] <= sizes[0]


def test_a_failing_run_prints_no_message_of_hypothesis(tmp_path):
    shown = cli("--adapter", adapter("NaiveSoftmax", "mutants.py"), "--rule", "softmax",
                "--jobs", "0", "--json", str(tmp_path / "out.json"))
    assert shown.returncode == 1
    assert "FAIL" in shown.stdout
    for noise in ("Falsifying example", "Hypothesis", "PLEASE REPORT", "Trying example"):
        assert noise not in shown.stdout + shown.stderr
