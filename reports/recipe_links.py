"""The recipe (cnnspec.recipes) for each cell of the matrix that lacks the call (unsupported, or
a pass on part of the rule only) or gets it wrong (deviation, fail), with its verification: the
examples it ran on in that rule in the results of NAME+recipes when they are among those
rendered, else "not verified in these results".

Which recipes serve which rule is given by the caller (`cnnspec.recipes.adapter.recipes_by_rule`,
read by the CLI): {NAME: {"adapter": "NAME+recipes", "rules": {rule id: [import paths]}}}.
"""

from __future__ import annotations

from dataclasses import dataclass

from .matrix import Matrix, status

LACKING = ("unsupported", "deviation", "fail", "error")


@dataclass
class RecipeLink:
    path: str  # import path, e.g. cnnspec.recipes.tensorflow.avg_pool
    verified_by: str | None  # the NAME+recipes results rendered, None when absent
    examples: int | None = None  # the examples it ran on in the rule there, None: it did not run
    verdict: str | None = None  # the rule's status there ("pass", "partial", ...)

    @property
    def anchor(self) -> str:
        return f"recipe-{self.path}"

    @property
    def verification(self) -> str:
        """In words, for the report and `cnnspec diff`."""
        if self.examples is not None:
            plural = "" if self.examples == 1 else "s"
            if self.verdict in ("fail", "error"):
                return f"ran on {self.examples} example{plural} but does not pass yet " \
                       f"({self.verdict} on {self.verified_by})"
            return f"verified on {self.examples} example{plural} ({self.verdict} on " \
                   f"{self.verified_by})"
        if self.verified_by:
            return f"not run on this rule in {self.verified_by}"
        return "exists, not verified in these results"


def lacking(cell) -> bool:
    """The cell lacks the call or gets it wrong: what a recipe is for."""
    if cell is None:
        return False
    return status(cell) in LACKING or (status(cell) == "pass" and cell.partly)


def _verdict(row) -> str:
    return "partial" if row.status == "pass" and row.partly else row.status


def links(matrix: Matrix, routes: dict | None) -> dict:
    """{(adapter name, rule id): [RecipeLink]} for each lacking cell whose adapter has a recipe
    for that rule (in `routes`, or that ran there on NAME+recipes)."""
    rows = {r.adapter["name"]: {row.id: row for row in r.rules} for r in matrix.results}
    out: dict = {}
    for name, served in (routes or {}).items():
        if name not in rows:
            continue
        verifier = served["adapter"] if served["adapter"] in rows else None
        verified = rows.get(verifier, {})
        for rule_id, cell in rows[name].items():
            if not lacking(cell):
                continue
            checked = verified.get(rule_id)
            ran = (checked.recipes or {}) if checked is not None else {}
            paths = list(served["rules"].get(rule_id, ())) + sorted(set(ran) - set(
                served["rules"].get(rule_id, ())))
            if paths:
                out[(name, rule_id)] = [
                    RecipeLink(path, verifier, ran.get(path),
                               _verdict(checked) if path in ran else None) for path in paths]
    return out


def by_recipe(found: dict) -> list:
    """[(import path, [(adapter, rule id, RecipeLink)])] for the report's recipes section."""
    out: dict = {}
    for (name, rule_id), each in sorted(found.items()):
        for link in each:
            out.setdefault(link.path, []).append((name, rule_id, link))
    return sorted(out.items())
