"""Where the adapters of a matrix differ, rule by rule: in status, in coverage, or in the
convention they follow. The HTML report's first section and `cnnspec diff` show the same list.

A rule is listed when the adapters that ran it (two or more) do not all agree: some pass and
others deviate, fail, error or lack the option (status); they record different behaviours
where the rule allows several (convention, such as NaN in a max window); or all pass, but some
only on part of the rule's domain (coverage: draws declined, or a check unsupported). Each entry says, per
adapter, what it does in words, and its consequences for a model moved onto each adapter: the
deviation's observation, the forbidden result, the missing option or the part left out.

The list is ranked as `cnnspec port` ranks (reports.porting.classify, the one ranking): what
changes outputs first, then what cannot run as written, then differences where no adapter
passes, coverage last.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .matrix import Matrix, status
from .porting import CHANGES, COVERAGE, RANKS, classify, observed


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
    consequences: list = field(default_factory=list)  # [Consequence], worst first

    @property
    def rank(self) -> str:
        """The rank of its worst consequence (ORDER)."""
        return self.consequences[0].rank if self.consequences else ORDER[-1]


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
        return f"lack it: {_why(cell)}", None
    return f"{'fail' if kind == 'fail' else 'raise or crash'}: {cell.headline_text()}", None


def _why(cell) -> str:
    """Why a cell is unsupported: its first reason."""
    return cell.reasons[0] if cell.reasons else "unsupported"


def _grouped(ran, describe) -> list[Behaviour]:
    groups: dict = {}
    for name, cell in ran:
        what, link = describe(cell)
        groups.setdefault((what, link), []).append(name)
    return [Behaviour(names, what, link) for (what, link), names in groups.items()]


def _coverage(cell) -> tuple[str, None]:
    if cell is not None and cell.partly:
        return f"pass on part of the rule only ({cell.reasons_text()})", None
    return "pass on the whole rule", None


def _convention(cell) -> tuple[str, None]:
    if cell is None or not cell.convention:
        return "record no convention", None
    return cell.convention, None


@dataclass
class Consequence:
    """What one difference does to a model moved onto `adapters`, ranked as `cnnspec port`
    ranks it (reports.porting.RANKS, or OTHER)."""

    rank: str
    adapters: list
    detail: str  # the specific consequence: the deviation's observation, the missing option...

    @property
    def text(self) -> str:
        return f"{self.rank} on {', '.join(self.adapters)}: {self.detail}"


OTHER = "differs where none runs it"  # no adapter passes: nothing a port could lose
ORDER = RANKS[:-1] + (OTHER,) + RANKS[-1:]  # changes outputs, cannot run, other, coverage last


def _detail(rule, cause: str, cell) -> str:
    """The specific consequence of one cause on one adapter's cell."""
    if cause == "deviates":
        return f"outputs differ ({rule.title}): {observed(cell)}"
    if cause in ("fails", "errs"):
        verb = "gives results the rule forbids" if cause == "fails" else "raises or crashes"
        return f"{verb} ({rule.title}): {cell.headline_text()}"
    return _why(cell)


def _consequences(rule, ran: list) -> list[Consequence]:
    """Per adapter, the worst thing moving a model onto it does (porting.classify against each
    other adapter that runs the rule), grouped; one entry for differing conventions; coverage
    for adapters that pass on part of the rule only. In the ranking's order."""
    found: dict = {}
    conventions = False
    for name, cell in ran:
        causes = [c for c in (classify(other, cell) for n, other in ran if n != name) if c]
        if not causes:
            continue
        rank, cause = min(causes, key=lambda c: RANKS.index(c[0]))
        if cause == "convention":
            conventions = True
            continue
        found.setdefault((rank, _detail(rule, cause, cell)), []).append(name)
    out = [Consequence(rank, names, detail) for (rank, detail), names in found.items()]
    if conventions:
        groups: dict = {}
        for name, cell in ran:
            groups.setdefault(cell.convention or "no convention recorded", []).append(name)
        shown = "; ".join(f"{value} on {', '.join(names)}" for value, names in groups.items())
        out.append(Consequence(CHANGES, [n for n, _ in ran],
                               f"outputs differ ({rule.title}): {shown}"))
    for what, names in _partly(ran).items():
        out.append(Consequence(COVERAGE, names, f"runs only part of the rule: {what}"))
    if not out:
        statuses = ", ".join(sorted({status(cell) for _, cell in ran}))
        out.append(Consequence(OTHER, [n for n, _ in ran], f"no adapter passes ({statuses})"))
    return sorted(out, key=lambda c: ORDER.index(c.rank))


def _partly(ran) -> dict:
    """{the part left out: adapters} for the adapters that pass on part of the rule only."""
    out: dict = {}
    for name, cell in ran:
        if status(cell) == "pass" and cell.partly:
            out.setdefault(cell.reasons_text(), []).append(name)
    return out


def differences(matrix: Matrix) -> list[Difference]:
    """Every rule of the matrix on which its adapters do not all agree, ranked as `cnnspec port`
    ranks (reports.porting.classify): what changes outputs first, then what cannot run as
    written, then what differs where no adapter passes, coverage last; catalogue order within."""
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
            out.append(Difference(row.rule, kind, _grouped(ran, describe),
                                  _consequences(row.rule, ran)))
    return sorted(out, key=lambda d: ORDER.index(d.rank))


def text(found: list[Difference], adapters: list[str], recipes: dict | None = None) -> str:
    """The differences as plain text, for the terminal (`cnnspec diff`); `recipes`
    ({(adapter, rule id): [RecipeLink]}, reports.recipe_links) names each consequence's recipe."""
    if not found:
        return f"No differences between {', '.join(adapters)}.\n"
    lines = [f"{len(found)} rule{'s' if len(found) != 1 else ''} where "
             f"{', '.join(adapters)} differ:", ""]
    for difference in found:
        kind = difference.rank if difference.rank == difference.kind else \
            f"{difference.rank}; {difference.kind}"
        lines.append(f"{difference.rule.id} ({kind}): {difference.rule.title}")
        for behaviour in difference.behaviours:
            link = f" <{behaviour.link}>" if behaviour.link else ""
            lines.append(f"  {', '.join(behaviour.adapters)}: {behaviour.what}{link}")
        for consequence in difference.consequences:
            lines.append(f"  {consequence.text}")
            lines += [f"    recipe for {name}: {link.path}: {link.verification}"
                      for name in consequence.adapters
                      for link in (recipes or {}).get((name, difference.rule.id), ())]
        lines.append("")
    return "\n".join(lines)
