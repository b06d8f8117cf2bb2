"""The CI gate: compare results with a committed baseline, rule by rule, adapter by adapter.

Each status has a rank: pass 0; deviation and unsupported 1; fail and error 2. A change to a
higher rank is worse: pass -> deviation or unsupported (a declared difference, or coverage
lost), anything -> fail or error, and a rule that is gone from the results. A change to a lower
rank is better. A change between equal ranks (deviation <-> unsupported, fail <-> error) is
listed as changed and is not worse. A rule in the results but not in the baseline (new in this
cnnspec, or newly in the adapter's protocol) is listed as new, whatever its status, and is not
worse: an upgrade adds rows, it does not fail the gate; with `count_new` (`cnnspec gate
--count-new`) a new rule that fails or errors is worse. A worse row quotes what the new results
say: the failure's headline and its reproducer, or the error.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from .results import Results, ResultsError, RuleResult

RANK = {"pass": 0, "deviation": 1, "unsupported": 1, "fail": 2, "error": 2}
QUOTED_LINES = 12  # of a worse row's reproducer or error


@dataclass(frozen=True)
class Change:
    adapter: str
    rule: str
    before: str  # "new" when the baseline has no such rule
    after: str  # "missing" when the rule is gone
    row: RuleResult | None = None  # the new results' row
    new_counts: bool = False  # whether a new rule that fails or errors is worse

    @property
    def new(self) -> bool:
        return self.before == "new"

    @property
    def worse(self) -> bool:
        if self.new:
            return self.new_counts and RANK[self.after] == RANK["fail"]
        return self.after == "missing" or RANK[self.after] > RANK[self.before]

    @property
    def better(self) -> bool:
        return not self.new and self.after != "missing" and RANK[self.after] < RANK[self.before]

    def evidence(self) -> str:
        """What the new results say about this rule: enough in a CI log to start fixing."""
        if self.row is None:
            return "the rule is not in the new results"
        row = self.row
        if row.status == "deviation" and row.deviation:
            text = f"declared: {row.deviation['observed']} ({row.deviation['evidence']})"
        else:
            text = row.summary() or f"{self.after}, with no message"
        if row.reproducer:
            text += "\nreproducer:\n" + textwrap.indent(_head(row.reproducer), "  ")
        elif row.status == "error" and row.message:  # the whole error: its headline first
            text = _head(row.message.strip(), QUOTED_LINES + 1)
        return text


def _head(text: str, limit: int = QUOTED_LINES) -> str:
    """The first `limit` lines of `text`, and how many more there are."""
    lines = text.splitlines()
    more = len(lines) - limit
    return "\n".join(lines[:limit] + ([f"... ({more} more lines)"] if more > 0 else []))


def compare(baseline: list[Results], current: list[Results], *,
            count_new: bool = False) -> list[Change]:
    """Every (adapter, rule) whose status differs, then the rules the baseline lacks (new);
    adapters must match one to one."""
    before = {r.adapter["name"]: r for r in baseline}
    after = {r.adapter["name"]: r for r in current}
    if set(before) != set(after):
        raise ResultsError(f"the baseline has adapters {sorted(before)} but the results have "
                           f"{sorted(after)}; gate each adapter against its own baseline")
    changes = []
    for name in sorted(before):
        now = {row.id: row for row in after[name].rules}
        for row in before[name].rules:
            new = now.get(row.id)
            status = new.status if new else "missing"
            if status != row.status:
                changes.append(Change(name, row.id, row.status, status, new))
        known = {row.id for row in before[name].rules}
        changes += [Change(name, row.id, "new", row.status, row, count_new)
                    for row in after[name].rules if row.id not in known]
    return changes


def table(changes: list[Change]) -> str:
    if not changes:
        return "no change against the baseline"
    width = max(len(c.rule) for c in changes)
    lines = [f"{'':8} {'adapter':<12} {'rule':<{width}}  before -> after"]
    for change in changes:
        mark = ("WORSE" if change.worse else "better" if change.better
                else "new" if change.new else "changed")
        lines.append(f"{mark:8} {change.adapter:<12} {change.rule:<{width}}  "
                     f"{change.before} -> {change.after}")
        if change.worse:
            lines.append(textwrap.indent(change.evidence(), " " * 9))
    return "\n".join(lines)
