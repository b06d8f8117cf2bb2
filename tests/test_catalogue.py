"""The catalogue: every rules.md id, every worked example exact, SPEC.md in sync, the CLI."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import required
from cnnspec.spec import KINDS, RULES, SECTIONS
from cnnspec.spec.markdown import spec_markdown
from cnnspec.spec.worked_examples import evaluate, expected_value, written

REPO = Path(__file__).resolve().parents[1]
RULES_MD = REPO.parent / "shared" / "rules.md"

# The ids of rules.md as of this catalogue: stable, never renamed (add, never remove).
STABLE_IDS = """
conv.output_size conv.valid_padding conv.half_padding conv.full_padding conv.same_padding
conv.output_channels conv.effective_kernel conv_transpose.output_size
conv_transpose.shape_roundtrip pool.output_size.floor pool.output_size.ceil
pool.channels_preserved layout.nchw_offsets invalid.rejected conv.cross_correlation
conv.matches_reference conv.multichannel_sum conv.pointwise_is_matmul conv.full_kernel_is_dense
conv.grouped_is_split_concat conv.depthwise conv.depthwise_separable conv.spatially_separable
conv.dilation_is_sparse_kernel conv.stride_is_subsampling conv.matrix_form conv.linearity
conv.translation_equivariance conv_transpose.zero_insert_flip conv_transpose.matrix_transpose
conv_transpose.adjoint conv_transpose.is_conv_input_gradient pool.max_matches_reference
pool.avg_matches_reference pool.max_padding_never_wins pool.avg_count_include_pad pool.max_nan
pool.max_window_permutation pool.global_average pool.adaptive_bins pool.max_unpool
upsample.nearest upsample.pixel_shuffle grad.max_pool.routing grad.max_pool.overlap_accumulates
grad.max_pool.ties grad.avg_pool.uniform grad.conv.input grad.conv.weight grad.relu.at_zero
grad.kinks grad.sigmoid.bounded grad.softmax softmax.shift_invariance softmax.overflow
softmax.underflow softmax.simplex softmax.neg_inf log_softmax.stability sigmoid.stability
activation.relu activation.leaky_relu activation.relu6 activation.elu activation.tanh
params.conv params.inception receptive_field.recursion receptive_field.gridding dilation.hdc
tolerance.policy
""".split()


def rules_md_ids(text):
    """Backticked ids in rules.md's tables, with the `activation.relu` / `.leaky_relu` shorthand."""
    ids = set()
    for line in text.splitlines():
        if not line.startswith("| `"):
            continue
        first_cell = line.split("|")[1]
        family = None
        for token in re.findall(r"`([a-z0-9_.]+)`", first_cell):
            if token.startswith("."):
                token = family + token
            family = token.rsplit(".", 1)[0]
            ids.add(token)
    ids.update(re.findall(r"rule of its own: `([a-z0-9_.]+)`", text))
    return ids


def test_catalogue_keeps_every_stable_id():
    missing = [rule_id for rule_id in STABLE_IDS if rule_id not in RULES]
    assert not missing, f"rule ids are never removed or renamed: {missing}"


def test_catalogue_has_every_id_of_rules_md():
    if not RULES_MD.exists():
        required.missing(f"{RULES_MD} is not beside this checkout", "CNNSPEC_REQUIRE_RULES_MD")
    ids = rules_md_ids(RULES_MD.read_text(encoding="utf-8"))
    assert len(ids) >= 63
    assert sorted(ids - set(RULES)) == []


def test_every_rule_is_complete():
    for rule in RULES.values():
        assert rule.section in SECTIONS and rule.kind in KINDS
        assert rule.title and rule.statement and rule.formula, rule.id
        assert rule.examples, f"{rule.id} has no worked example"
        assert rule.id.startswith(("conv", "pool", "layout", "invalid", "upsample", "grad",
                                   "softmax", "log_softmax", "sigmoid", "activation", "params",
                                   "receptive_field", "dilation", "tolerance", "dtype")), rule.id


@pytest.mark.parametrize("rule_id", list(RULES))
def test_worked_examples_come_out_of_the_spec_exactly(rule_id):
    for example in RULES[rule_id].examples:
        got = evaluate(example)
        expression, expected = written(example)
        assert got == expected_value(example), (
            f"{expression} = {got!r}, but should be {expected} [{rule_id}]")


def test_the_text_shown_is_the_code_run():
    """Each example's text is the source of its lambdas' bodies: one whole expression each."""
    import ast

    for rule in RULES.values():
        for example in rule.examples:
            for text in written(example):
                assert isinstance(ast.parse(text, mode="eval").body, ast.expr), (rule.id, text)
    example = RULES["pool.output_size.ceil"].examples[1]
    assert written(example) == ("pool_output_size(9, 4, stride=4, pads=(2, 2), ceil_mode=True)", "3")


def test_the_package_evaluates_no_string_as_code():
    """No `eval(` or `exec(` in the installed package's source (the worked examples are code)."""
    import importlib.util

    found = []
    for package in ("cnnspec", "cnnspec.spec", "cnnspec.adapters", "cnnspec.conformance",
                    "cnnspec.reports", "cnnspec.recipes"):
        for folder in importlib.util.find_spec(package).submodule_search_locations:
            for path in sorted(Path(folder).rglob("*.py")):
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                    if re.search(r"\b(eval|exec)\s*\(", line):
                        found.append(f"{path}:{number}: {line.strip()}")
    assert not found, "strings run as code: " + "; ".join(found)


def test_spec_md_is_generated_from_the_catalogue():
    on_disk = (REPO / "spec" / "SPEC.md").read_text(encoding="utf-8")
    assert on_disk == spec_markdown(), "regenerate: cnnspec rules --markdown > spec/SPEC.md"


def cnnspec(*args):
    return subprocess.run([sys.executable, "-m", "cnnspec", *args], capture_output=True,
                          text=True, check=False)


def test_cli_rules_lists_every_id_and_json_round_trips():
    listed = cnnspec("rules")
    assert listed.returncode == 0
    assert all(re.search(rf"^{re.escape(r)}\s", listed.stdout, re.M) for r in RULES)
    as_json = json.loads(cnnspec("rules", "--json").stdout)
    assert [rule["id"] for rule in as_json] == list(RULES)
    assert {"id", "title", "statement", "formula", "sources", "kind"} <= set(as_json[0])


def test_cli_explain_shows_formula_sources_and_computed_example():
    shown = cnnspec("explain", "pool.output_size.ceil")
    assert shown.returncode == 0
    assert RULES["pool.output_size.ceil"].formula in shown.stdout
    assert "Symbols:\n  i, o " in shown.stdout and "  pb, pe, p " in shown.stdout
    assert "pytorch/issues/116420" in shown.stdout
    assert ">>> pool_output_size(9, 4, stride=4, pads=(2, 2), ceil_mode=True)\n  3" in shown.stdout


def test_cli_explain_unknown_id_is_one_line_with_the_closest_ids():
    shown = cnnspec("explain", "pool.output_size.cei")
    assert shown.returncode == 2
    assert shown.stdout == ""
    assert shown.stderr.count("\n") == 1
    assert "unknown rule id 'pool.output_size.cei'" in shown.stderr
    assert "pool.output_size.ceil" in shown.stderr


def test_cli_usage_errors_exit_2():
    assert cnnspec().returncode == 2
    assert cnnspec("frobnicate").returncode == 2


def test_every_source_is_something_a_reader_can_open():
    """A URL, an arXiv id or a DOI: never a file outside the repository."""
    for rule in RULES.values():
        assert rule.sources, rule.id
        for source in rule.sources:
            assert re.search(r"https?://|arXiv:\d{4}\.\d{4,5}|doi:10\.", source), (rule.id, source)
    texts = [text for rule in RULES.values() for text in
             (rule.statement, rule.formula, *rule.sources, *(e.note for e in rule.examples))]
    assert not [text for text in texts if re.search(r"\bseeds?\b", text)]


def test_every_letter_of_the_formulas_is_defined():
    from cnnspec.spec.catalogue import SYMBOLS, symbols_in

    defined = {name.strip() for names, _ in SYMBOLS for name in names.split(",")}
    for rule in RULES.values():
        letters = set(re.findall(r"(?<![A-Za-z_.0-9-])([A-Za-z](?:_[A-Za-z0-9]+)?)(?![A-Za-z(])",
                                 rule.formula))
        indexed = {x for x in letters if re.fullmatch(r"[A-Za-z]_[ijk0-9]", x) and x[0] in defined}
        missing = letters - defined - indexed - {"e"}  # x_j: element j of x; e: Euler's number
        assert not missing, (rule.id, missing)
    assert symbols_in("o = floor((i + pb) / s)")[0][0] == "i, o"
