"""The shards of a run merged into one set of rows per adapter (`cnnspec run --shard K/N` writes
one results file per shard; `cnnspec report`, `diff` and `gate` read them together).

A shard's results record `suite.shard`: `index` K, `count` N, `rules` (the shard's rule ids),
`selected` (how many rules the whole run selected) and `selection` (`selection_digest` of their
ids). The files of one adapter merge when they are shards of one run: the same N, selection,
profile, seed and adapter (name, version, device, ...), no rule in two files and no K twice;
anything else is a ResultsError (one line, exit 2). A shard that is not among the files is
missing: the merged results say which (`suite.shards`), the report still renders the rows
there are, and `cnnspec gate` counts a missing shard as worse. A merge's `suite` is its first
shard's, with the earliest `started`, the shards' summed `duration_s` (machine time, not the
wall time of the matrix) and `shards` (count, given, missing, selected) in place of `shard`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .results import Results, ResultsError


def selection_digest(rule_ids) -> str:
    """A short digest of a set of rule ids: the SHA-256 of the sorted ids, one a line."""
    text = "\n".join(sorted(rule_ids))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Merged:
    results: Results
    source: str  # the file, or the files of the shards joined by " + "

    @property
    def missing(self) -> list[int]:
        """The K of the shards not given (empty for a whole run)."""
        return self.results.suite.get("shards", {}).get("missing", [])


def missing_text(merged: Merged) -> str:
    """'torch: shard 2 of 3 is missing (given: 1, 3)' for a merge with missing shards."""
    shards = merged.results.suite["shards"]
    word = "shard" if len(merged.missing) == 1 else "shards"
    verb = "is" if len(merged.missing) == 1 else "are"
    return (f"{merged.results.adapter['name']}: {word} {', '.join(map(str, merged.missing))} of "
            f"{shards['count']} {verb} missing (given: {', '.join(map(str, shards['given']))})")


def merge(results: list[Results], sources: list[str]) -> list[Merged]:
    """One Merged per adapter, in the order each adapter first appears."""
    groups: dict[str, list] = {}
    for result, source in zip(results, sources):
        groups.setdefault(result.adapter["name"], []).append((result, source))
    return [_merge_one(name, group) for name, group in groups.items()]


def _merge_one(name: str, group: list) -> Merged:
    if all("shard" not in result.suite for result, _ in group):
        if len(group) == 1:
            return Merged(*group[0])
        first, second = (source for _, source in group[:2])
        raise ResultsError(f"adapter {name!r} appears in both {first} and {second}: merge one "
                           f"run per adapter")
    seen: dict[str, str] = {}
    for result, source in group:
        for row in result.rules:
            if row.id in seen:
                raise ResultsError(f"adapter {name!r}: rule {row.id!r} is in both {seen[row.id]} "
                                   f"and {source}: give each shard of one run once (a whole "
                                   f"run's results, or its shards, not both)")
            seen[row.id] = source
    whole = next((source for result, source in group if "shard" not in result.suite), None)
    if whole:
        raise ResultsError(f"adapter {name!r}: {whole} is a whole run, the other files are "
                           f"shards: give the whole run's results, or its shards, not both")
    first, first_source = group[0]
    given: dict[int, str] = {}
    for result, source in group:
        _same_run(name, first, first_source, result, source)
        index = result.suite["shard"]["index"]
        if index in given:
            raise ResultsError(f"adapter {name!r}: shard {index}/{result.suite['shard']['count']} "
                               f"is in both {given[index]} and {source}: give each shard once")
        given[index] = source
    count = first.suite["shard"]["count"]
    missing = [k for k in range(1, count + 1) if k not in given]
    planned = {rule for result, _ in group for rule in result.suite["shard"]["rules"]}
    if not missing and (len(planned) != first.suite["shard"]["selected"]
                        or selection_digest(planned) != first.suite["shard"]["selection"]):
        raise ResultsError(f"adapter {name!r}: the {count} shards hold {len(planned)} rules, not the "
                           f"{first.suite['shard']['selected']} their run selected: were they "
                           f"split by different cnnspec versions? Run every shard with one")
    from cnnspec.spec import RULES  # here: `cnnspec --help` need not import the catalogue

    position = {rule_id: i for i, rule_id in enumerate(RULES)}
    rows = sorted((row for result, _ in group for row in result.rules),
                  key=lambda row: (position.get(row.id, len(position)), row.id))
    suite = {key: value for key, value in first.suite.items() if key != "shard"}
    suite.update(
        started=min(result.suite["started"] for result, _ in group),
        duration_s=round(sum(result.suite["duration_s"] for result, _ in group), 3),
        shards={"count": count, "given": sorted(given), "missing": missing,
                "selected": first.suite["shard"]["selected"]})
    if any(result.suite.get("partial") for result, _ in group):
        suite["partial"] = True
    sources = " + ".join(given[k] for k in sorted(given))
    return Merged(Results(adapter=first.adapter, suite=suite, rules=rows, schema=first.schema),
                  sources)


def _same_run(name: str, first: Results, first_source: str, other: Results, source: str):
    """A ResultsError unless `other` is a shard of the same run as `first`."""
    a, b = first.suite["shard"], other.suite["shard"]
    for what, left, right in [
            ("shard count N", a["count"], b["count"]),
            ("rule selection (--rule)", a["selection"], b["selection"]),
            ("profile", first.suite.get("profile"), other.suite.get("profile")),
            ("seed", first.suite.get("seed"), other.suite.get("seed")),
            ("adapter (version, device, ...)", first.adapter, other.adapter)]:
        if left != right:
            raise ResultsError(f"adapter {name!r}: {first_source} and {source} are not shards of "
                               f"one run (their {what} differ: {_short(left)} and "
                               f"{_short(right)}); merge the shards of one run")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
