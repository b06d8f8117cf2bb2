"""`cnnspec run --shard K/N`: the selected rules split over N shards, balanced by their cost,
so that the N jobs of a CI matrix run one adapter's suite side by side.

The split is greedy longest-processing-time first (R. L. Graham, "Bounds on multiprocessing
timing anomalies", SIAM J. Appl. Math. 17(2), 1969: its longest shard is within 4/3 - 1/(3N)
of the best split's): the rules in order of decreasing cost, ties by rule id, each given to the
shard with the least cost so far, ties to the lowest K. A rule's cost is the seconds its row
took in a recorded `ci` run of the adapter (`rule_costs.toml`); an adapter not recorded there
counts each rule at its mean share of the recorded adapters' time; a rule not recorded for the
adapter counts as the median of the adapter's rules. So a shard is a function of the selected
rule ids (after --rule), N, the adapter's name and the table: every job of a matrix computes
the same split on its own, and the N shards together hold each selected rule exactly once.

The results of a shard record it (`suite.shard`): K, N, the shard's rule ids, and how many rules
the whole selection has with a digest of their ids, so that `cnnspec report`, `diff` and `gate`
can merge the shards of one run and tell a missing shard or an overlap (cnnspec.reports.merge).
"""

from __future__ import annotations

import argparse
import heapq
import statistics
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cnnspec.reports.merge import selection_digest

COSTS_FILE = Path(__file__).with_name("rule_costs.toml")


@dataclass(frozen=True)
class Shard:
    index: int  # K, from 1
    count: int  # N

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_option(text: str) -> Shard:
    """--shard K/N: 1 <= K <= N (an argparse type: a bad value is one line naming it)."""
    index, slash, count = text.partition("/")
    try:
        shard = Shard(int(index), int(count)) if slash else None
    except ValueError:
        shard = None
    if shard is None or not 1 <= shard.index <= shard.count:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give K/N, shard K of N with 1 <= K <= N, e.g. --shard 1/3")
    return shard


@cache
def recorded_costs() -> dict[str, dict[str, float]]:
    """{adapter: {rule id: seconds}} of rule_costs.toml (read once; never changed)."""
    return tomllib.loads(COSTS_FILE.read_text(encoding="utf-8"))


def costs(adapter_ref: str, rule_ids) -> dict[str, float]:
    """The cost of each of `rule_ids` on the adapter named `adapter_ref` (see the module's
    docstring): its recorded seconds, else the mean share of the recorded adapters."""
    table = recorded_costs()
    column = table.get(adapter_ref)
    if column is None:
        shares = [{rule: seconds / sum(col.values()) for rule, seconds in col.items()}
                  for col in table.values()]
        column = {rule: statistics.fmean(share.get(rule, 0.0) for share in shares)
                  for rule in set().union(*shares)}
    default = statistics.median(column.values()) if column else 1.0
    return {rule: column.get(rule, default) for rule in rule_ids}


def split(rule_ids, count: int, cost: dict[str, float]) -> list[list[str]]:
    """The rule ids of each of `count` shards (greedy LPT, see the module's docstring), each in
    the order of `rule_ids`."""
    loads = [(0.0, k) for k in range(count)]  # (cost so far, shard index): a heap
    given = {}
    for rule in sorted(rule_ids, key=lambda rule: (-cost[rule], rule)):
        total, k = heapq.heappop(loads)
        given[rule] = k
        heapq.heappush(loads, (total + cost[rule], k))
    return [[rule for rule in rule_ids if given[rule] == k] for k in range(count)]


def select(rule_ids: list[str], shard: Shard | None, adapter_ref: str) -> list[str]:
    """The rules of `shard` among the selected `rule_ids` (all of them when `shard` is None)."""
    if shard is None:
        return list(rule_ids)
    return split(rule_ids, shard.count, costs(adapter_ref, rule_ids))[shard.index - 1]


def record(rule_ids: list[str], shard: Shard | None, adapter_ref: str) -> dict | None:
    """The results' `suite.shard` of a run of `shard` over the selected `rule_ids`."""
    if shard is None:
        return None
    return {"index": shard.index, "count": shard.count,
            "rules": select(rule_ids, shard, adapter_ref),
            "selected": len(rule_ids), "selection": selection_digest(rule_ids)}
