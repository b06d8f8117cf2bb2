"""Rows keep what the report shows as fields (schema cnnspec.results/4), and old files read the same.

tests/data/results-v3 and results-v4 hold one derandomized run each, of the same rules on the
same adapters: the unchanged code before schema 4 (cnnspec.results/3: text notes, a joined
convention, headlines inside the message) and this code (typed fields). Rules: a deviation
with other declared deviations and a part left out (pool.max_matches_reference), a deviation
whose example was never called (pool.adaptive_bins, declared to crash), conventions that
differ (pool.max_nan, grad.kinks), a partly unsupported pass with a stale deviation
(pool.global_average), an unsupported rule (pool.output_size.ceil) and a mutant's failure with
its mismatch and error map (pool.avg_count_include_pad on CountIncludePadInverted). Read back,
both render the same report, `cnnspec diff`, `cnnspec port` and gate evidence.
"""

import ast
import json
import re
from pathlib import Path

import jsonschema
import pytest

from cnnspec.reports import differences, gate, html, matrix, porting
from cnnspec.reports.results import (Declared, Headline, RuleResult, dumps, load, schema,
                                     upgrade_row)

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
NAMES = ("numpy", "keras", "mutant")


def loaded(version: int):
    return [load(DATA / f"results-v{version}" / f"{name}.json") for name in NAMES]


def test_the_fixtures_are_one_run_in_two_schemas():
    old, new = loaded(3), loaded(4)
    assert {r.schema for r in old} == {"cnnspec.results/3"}
    assert {r.schema for r in new} == {"cnnspec.results/4"}
    for before, after in zip(old, new):
        assert [(r.id, r.status, r.examples, r.digest) for r in before.rules] == \
            [(r.id, r.status, r.examples, r.digest) for r in after.rules]
    for name in NAMES:
        jsonschema.validate(json.loads((DATA / "results-v4" / f"{name}.json").read_text()),
                            schema())


def test_an_old_row_is_converted_into_the_typed_fields_once_when_read():
    old, new = ({r.id: r for r in results[1].rules} for results in (loaded(3), loaded(4)))
    fields = ("reasons", "also_declared", "stale", "mismatch", "error_map", "shrink_stopped_s",
              "counterexample", "deviation", "message", "max_error", "reproducer")
    for rule_id, row in new.items():
        assert {f: getattr(old[rule_id], f) for f in fields} == \
            {f: getattr(row, f) for f in fields}, rule_id
        assert old[rule_id].headline_text() == row.headline_text(), rule_id
        assert list(old[rule_id].conventions) == list(row.conventions), rule_id
    pooled = new["pool.max_matches_reference"]
    assert pooled.status == "deviation" and pooled.partly and pooled.also_declared
    assert all(isinstance(d, Declared) for d in pooled.also_declared)
    assert pooled.headline.quantity == "out[0, 0, 0, 0]" and pooled.headline.expected == "-inf"
    assert new["pool.global_average"].stale and new["pool.global_average"].partly
    assert len(new["pool.output_size.ceil"].reasons) > 1  # a list, never joined
    assert list(new["pool.max_nan"].conventions) == ["ignore", "propagate"]
    assert all(isinstance(n, int) and n > 0 for n in new["pool.max_nan"].conventions.values())
    assert set(old["pool.max_nan"].conventions.values()) == {None}  # old files did not count
    failed = next(r for r in loaded(4)[2].rules if r.status == "fail")
    assert failed.mismatch["count"] >= 1 and failed.error_map["grid"]


def _matrix(version: int):
    return matrix.build(loaded(version), list(NAMES))


def _page(version: int) -> str:
    """The report's differences and matrix (the runs' durations and times differ)."""
    page = html.render(_matrix(version))
    return page[page.index('<section id="differences">'):page.index('<h2 id="runs">')] + \
        page[page.index('<h2 id="matrix">'):]


def test_old_and_new_files_of_one_run_render_the_same_report():
    old, new = _page(3), _page(4)
    assert old == new
    assert 'class="status s-partial"' in new and 'class="errmap"' in new
    assert "not called, declared to crash: adaptive_max_pool" in new
    assert 'title="partly unsupported: ' in new and ">stale deviation<" in new


def test_old_and_new_files_of_one_run_give_the_same_diff_port_and_gate():
    old, new = _matrix(3), _matrix(4)
    assert differences.text(differences.differences(old), old.adapters) == \
        differences.text(differences.differences(new), new.adapters)
    assert "lack it: " in differences.text(differences.differences(new), new.adapters)
    ported = [porting.text(porting.port(*loaded(version)[:2])) for version in (3, 4)]
    assert ported[0] == ported[1] and "keras cannot run it: " in ported[1]
    evidence = []
    for version in (3, 4):
        numpy, _, mutant = loaded(version)
        mutant.adapter["name"] = "numpy"
        evidence.append(gate.table(gate.compare([numpy], [mutant])))
    assert evidence[0] == evidence[1] and "out[0, 0, 0, 0]=" in evidence[1]


def test_a_row_round_trips_through_the_json_and_a_worker_pipe():
    row = next(r for r in loaded(4)[1].rules if r.id == "pool.max_matches_reference")
    from dataclasses import asdict

    again = RuleResult(**asdict(row))  # as conformance.workers sends it
    assert again == row and isinstance(again.headline, Headline)
    assert json.loads(dumps(asdict(row)))["headline"]["rule"] == "pool.max_matches_reference"


def test_upgrade_row_reads_every_note_an_old_runner_wrote():
    row = upgrade_row({
        "id": "softmax.simplex", "status": "fail", "message": "out=1, but should be 2 [x: y]\nblock",
        "convention": "a; b", "counterexample": {"calls": [], "error_map": [[2.0]],
                                                 "error_map_at": [0, 0]},
        "notes": ["also declared: seen (https://e/1)", "partly unsupported: p: q; r: s",
                  "shrinking stopped at its budget of 1e-09 s (--shrink-budget): the "
                  "counterexample is the smallest found by then",
                  "stale deviation: gone (https://e/2) no longer fails"]})
    row = RuleResult(**row)
    assert row.reasons == ["p: q", "r: s"] and row.shrink_stopped_s == 1e-9
    assert row.also_declared == [Declared("seen", "https://e/1")]
    assert row.stale == [Declared("gone", "https://e/2")]
    assert row.conventions == {"a": None, "b": None} and row.convention == "a; b"
    assert row.error_map == {"grid": [[2.0]], "at": [0, 0]} and row.counterexample == {"calls": []}
    assert row.headline_text() == "out=1, but should be 2 [x: y]"


# Parsing a row's text back: the first line of a message, a "; "-joined list split, the
# "partly unsupported" prefix tested or cut, a message cut or searched.
PARSING = [re.compile(p) for p in (
    r"splitlines\(\)\s*\[\s*0\s*\]", r"""\.split\(\s*(['"]);\s\1\s*\)""",
    r"""startswith\([^)]*(PARTLY|partly)""", r"len\(PARTLY\)", r"""removeprefix\(""",
    r"""message\s*(or\s*['"]{2}\s*\)?)?\s*\.\s*(split|partition|startswith|removeprefix|find|index)""",
    r"""message\s*(or\s*['"]{2}\s*\)?)?\s*\[""", r"""select\(\s*['"]partly""")]


def _outside_the_old_reader(path: Path) -> str:
    """The file's text, upgrade_row's body blanked (the one place that parses old text)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return text
    lines = text.splitlines()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef) and node.name in ("upgrade_row", "_declared"):
            for number in range(node.lineno - 1, node.end_lineno):
                lines[number] = ""
    return "\n".join(lines)


@pytest.mark.parametrize("path", sorted(p.relative_to(REPO) for folder in ("reports", "cli")
                                        for p in (REPO / folder).rglob("*")
                                        if p.suffix in (".py", ".j2")), ids=str)
def test_reports_and_cli_render_fields_and_parse_no_row_text(path):
    text = _outside_the_old_reader(REPO / path)
    found = [(pattern.pattern, line.strip()) for line in text.splitlines()
             for pattern in PARSING if pattern.search(line)]
    assert not found, found


def test_every_json_writer_goes_through_the_one_encoder():
    for folder in ("reports", "cli", "conformance"):
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if path != REPO / "reports" / "results.py":
                assert "json.dump" not in text, path


@pytest.mark.parametrize("field, value", [("conventions", None), ("headline", "a text"),
                                          ("headline", {"no_such_key": 1})])
def test_a_typed_field_of_the_wrong_form_is_one_line_naming_the_file(field, value, tmp_path):
    from cnnspec.reports.results import ResultsError

    data = json.loads((DATA / "results-v4" / "numpy.json").read_text())
    data["rules"][0][field] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsError) as error:
        load(path)
    assert str(error.value).startswith(str(path)) and "\n" not in str(error.value)
