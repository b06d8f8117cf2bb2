"""Where the adapters of a matrix differ, rule by rule: in status, in coverage, or in the
convention they follow. The HTML report's first section and `cnnspec diff` show the same list.

A rule is listed when the adapters that ran it (two or more) do not all agree: some pass and
others deviate, fail, error or lack the option (status); they record different behaviours
where the rule allows several (convention, such as NaN in a max window); or all pass, but some
only on part of the rule's domain (coverage: draws declined, or a check unsupported). Each entry says, per
adapter, what it does in words, and what that means when a model moves between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .matrix import Matrix, status

PARTLY = "partly unsupported: "


@dataclass
class Behaviour:
    """What one group of adapters does on a rule."""

    adapters: list
    what: str  # in words: "pass", "deviate: <observed>", "lack the option: <reason>", ...
    link: str | None = None  # a deviation's evidence


@dataclass
class Difference:
    rule: object  # cnnspec.spec.Rule
    kind: str  # "status", "coverage" or "convention"
    behaviours: list = field(default_factory=list)
    meaning: str = ""  # what it means when porting a model between these adapters


def _words(cell) -> tuple[str, str | None]:
    """One adapter's behaviour on a rule, in words, with a link when there is evidence."""
    kind = status(cell)
    if kind == "pass":
        return f"pass ({cell.convention})" if cell.convention else "pass", None
    if kind == "deviation":
        seen = f"; elsewhere {cell.convention}" if cell.convention else ""
        return (f"deviate (declared {cell.deviation['kind']}): {cell.deviation['observed']}"
                f"{seen}", cell.deviation.get("evidence"))
    if kind == "unsupported":
        return f"lack it: {(cell.message or '').split('; ')[0]}", None
    headline = (cell.message or "").splitlines()[0] if cell.message else ""
    return f"{'fail' if kind == 'fail' else 'raise or crash'}: {headline}", None


def _grouped(ran, describe) -> list[Behaviour]:
    groups: dict = {}
    for name, cell in ran:
        what, link = describe(cell)
        groups.setdefault((what, link), []).append(name)
    return [Behaviour(names, what, link) for (what, link), names in groups.items()]


def _coverage(cell) -> tuple[str, None]:
    partly = [n[len(PARTLY):] for n in (cell.notes if cell else []) if n.startswith(PARTLY)]
    if partly:
        return f"pass on part of the rule only ({partly[0]})", None
    return "pass on the whole rule", None


def _convention(cell) -> tuple[str, None]:
    if cell is None or not cell.convention:
        return "record no convention", None
    return cell.convention, None


def _meaning(kind: str, behaviours: list) -> str:
    if kind == "convention":
        return ("Both behaviours are allowed by the rule, but a model moved between these "
                "adapters sees different numbers where the convention applies.")
    if kind == "coverage":
        return ("Every adapter passes where it was checked, but not on the same calls: a model "
                "using the calls one lacks does not run there as written.")
    if any(b.what.startswith(("fail", "raise")) for b in behaviours):
        return ("Some adapter gives results the rule forbids: a model relying on this rule "
                "changes its outputs (or stops) when moved there.")
    if any(b.what.startswith("deviate") for b in behaviours):
        return ("A known, declared difference: a model moved between these adapters changes "
                "its outputs where the deviation applies.")
    return ("Some adapter lacks the option: a model using it must be rewritten, not only "
            "ported, to run there.")


KINDS = ("status", "convention", "coverage")  # the order they are listed in


def differences(matrix: Matrix) -> list[Difference]:
    """Every rule of the matrix on which its adapters do not all agree: differences in status
    first, then in convention, then in coverage, each in catalogue order."""
    out = []
    if len(matrix.results) < 2:
        return out
    for _, rows in matrix.sections:
        for row in rows:
            ran = [(name, cell) for name, cell in zip(matrix.adapters, row.cells) if cell]
            if len(ran) < 2:  # a rule that only one adapter ran has nothing to compare
                continue
            statuses = {status(cell) for _, cell in ran}
            if len(statuses) > 1:
                kind, describe = "status", _words
            elif len({cell.convention for _, cell in ran}) > 1:
                kind, describe = "convention", _convention
            elif statuses == {"pass"} and len({_coverage(cell)[0] for _, cell in ran}) > 1:
                kind, describe = "coverage", _coverage
            else:
                continue
            behaviours = _grouped(ran, describe)
            out.append(Difference(row.rule, kind, behaviours, _meaning(kind, behaviours)))
    return sorted(out, key=lambda d: KINDS.index(d.kind))


def text(found: list[Difference], adapters: list[str]) -> str:
    """The differences as plain text, for the terminal (`cnnspec diff`)."""
    if not found:
        return f"No differences between {', '.join(adapters)}.\n"
    lines = [f"{len(found)} rule{'s' if len(found) != 1 else ''} where "
             f"{', '.join(adapters)} differ:", ""]
    for difference in found:
        lines.append(f"{difference.rule.id} ({difference.kind}): {difference.rule.title}")
        for behaviour in difference.behaviours:
            link = f" <{behaviour.link}>" if behaviour.link else ""
            lines.append(f"  {', '.join(behaviour.adapters)}: {behaviour.what}{link}")
        lines.append(f"  meaning: {difference.meaning}")
        lines.append("")
    return "\n".join(lines)
