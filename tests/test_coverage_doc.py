"""docs/coverage.md is what the checks draw: regenerated from a recorded `ci` run on the control."""

from pathlib import Path

from cnnspec.conformance.coverage import markdown, record
from cnnspec.spec import RULES

DOC = Path(__file__).resolve().parents[1] / "docs" / "coverage.md"


def test_coverage_doc_is_generated_from_the_checks():
    by_rule = record()
    assert set(by_rule) == set(RULES)
    assert DOC.read_text(encoding="utf-8") == markdown(by_rule), (
        "regenerate: python -m cnnspec.conformance.coverage > docs/coverage.md")


def test_every_keyword_of_every_op_is_drawn():
    text = DOC.read_text(encoding="utf-8")
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| ")][2:]
    empty = [row[:2] for row in rows if not row[2].strip(" |")]
    assert not empty, f"keywords no check draws: {empty}"
