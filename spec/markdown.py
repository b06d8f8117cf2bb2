"""Renders the catalogue as Markdown: the generated `spec/SPEC.md`, kept in sync by a test."""

from __future__ import annotations

from .catalogue import RULES, SECTIONS, SYMBOLS, Rule
from .worked_examples import written

HEADER = """\
# The cnnspec rule catalogue

Generated from `cnnspec.spec.RULES` by `cnnspec rules --markdown`; do not edit by hand.
Each rule has a stable id, a statement, its formula, its sources, and worked examples: Python
expressions over `cnnspec.spec` (`ref` is `cnnspec.spec.reference`) with the value the spec
gives. Every source is a page, a paper or an issue a reader can open.
"""


def rule_markdown(rule: Rule) -> str:
    lines = [f"### `{rule.id}`: {rule.title}", "", f"*kind: {rule.kind}*", "", rule.statement, "",
             f"Formula: `{rule.formula}`", ""]
    if rule.sources:
        lines.append("Sources: " + "; ".join(rule.sources))
        lines.append("")
    for example in rule.examples:
        expression, expected = written(example)
        note = f"  # {example.note}" if example.note else ""
        lines += ["```python", f">>> {expression}", f"{expected}{note}", "```", ""]
    return "\n".join(lines)


def symbols_markdown() -> str:
    """The table of SYMBOLS: what the letters of the formulas mean."""
    rows = [f"| `{'`, `'.join(n.strip() for n in names.split(','))}` | {meaning} |"
            for names, meaning in SYMBOLS]
    return "\n".join(["## Symbols", "", "| symbol | meaning |", "|---|---|", *rows, ""])


def spec_markdown() -> str:
    parts = [HEADER, symbols_markdown()]
    for number, section in enumerate(SECTIONS, start=1):
        rules = [rule for rule in RULES.values() if rule.section == section]
        parts.append(f"## {number}. {section} ({len(rules)} rules)\n")
        parts.extend(rule_markdown(rule) for rule in rules)
    return "\n".join(parts).rstrip() + "\n"
