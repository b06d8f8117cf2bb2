"""The run of one rule on one adapter: what its checks are given, and what their examples leave.

The runner builds one `RuleRun` per rule run and hands it to each check's Hypothesis test
(`Check.test(settings, seed, run=run)`), which hands it to every example's `Probe`; nothing
of a run lives anywhere else, so rules may run one after the other or side by side (threads)
alike. (The call timeout is an alarm of the main thread: a run in another thread has none.)

    run = RuleRun("pool.output_size.ceil", deviations=[...], timeout=60.0)
    check.test(PROFILES["ci"], run=run)(adapter)
    run.examples, run.declined, run.digest.hexdigest(), run.deviated
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from .digest import ExampleDigest
from .failures import ShrinkingStopped
from .options import SHRINK_BUDGET_S


@dataclass
class RuleRun:
    """One rule's run: its settings (the adapter's deviations, the call timeout and the
    watchdog's cell, the shrink budget, where to record calls) and what its examples left
    behind (counts, unsupported reasons, conventions, the digest, time inside the adapter)."""

    rule_id: str
    deviations: list = field(default_factory=list)  # the adapter's entries for this rule
    every_deviation: list = field(default_factory=list)  # all its entries, to name one
    timeout: float | None = 60.0  # seconds an adapter call may take (None: no limit)
    # In a worker process, a shared double (multiprocessing.Value "d") that holds the
    # time.time() at which the running adapter call started, 0.0 between calls: the parent's
    # watchdog reads it (workers.py). None in a process without a watchdog.
    call_started: object = None
    # After a check's first failing example, Hypothesis only shrinks: the examples it tries
    # then are not counted, nor digested, and the shrinking has a budget (--shrink-budget).
    shrink_budget: float | None = SHRINK_BUDGET_S
    record_calls: str | None = None  # a file to write each call to before it is made
    examples: int = 0  # drawn, the declined ones included
    declined: int = 0  # drawn, but outside what the adapter supports: nothing checked
    check_unsupported: set = field(default_factory=set)  # the reasons of the running check
    conventions: Counter = field(default_factory=Counter)
    recipes: Counter = field(default_factory=Counter)  # recipe import path -> examples it ran
    deviated: list = field(default_factory=list)  # (entry, failure) of examples set aside
    adapter_s: float = 0.0  # time inside the adapter's calls
    digest: ExampleDigest = field(default_factory=ExampleDigest)  # of the checked examples
    shrinking_since: float | None = None  # of the running check: when its first failure came
    smallest: BaseException | None = None  # the running check's last (smallest) failure

    def begin_check(self, name: str) -> None:
        self.check_unsupported = set()
        self.shrinking_since, self.smallest = None, None
        self.digest.check(name)

    def start_example(self) -> None:
        """Stops the check (ShrinkingStopped) when its shrinking is past the budget."""
        if self.shrinking_since is None or self.shrink_budget is None:
            return
        spent = time.perf_counter() - self.shrinking_since
        if spent > self.shrink_budget:
            raise ShrinkingStopped(self.smallest, self.shrink_budget)

    def finish_example(self, drawn: dict, declined: bool, recipes=(), *,
                       error: BaseException | None) -> None:
        """Counts an example that ran before the check's first failure (that one included),
        and the `recipes` it ran (a NAME+recipes adapter's), digests it unless the adapter
        `declined` it, and keeps each failure (`error`: what the example raised, None when it
        passed or was declined) as the smallest so far."""
        if isinstance(error, Exception) and (
                self.smallest is None or type(error) is type(self.smallest)):
            self.smallest = error
        if self.shrinking_since is not None:
            return
        self.examples += 1
        self.recipes.update(recipes)
        if declined:
            self.declined += 1
        else:
            self.digest.example(drawn)
        if error is not None:
            self.shrinking_since = time.perf_counter()

    def decline(self, reason: str) -> None:
        """Notes why the adapter declined a call of the running example."""
        self.check_unsupported.add(reason)

    def set_aside(self, entry, failure) -> None:
        """Keeps `failure` as evidence of the declared deviation `entry`."""
        self.deviated.append((entry, failure))

    def crash_declared(self, call):
        """The entry that declares `call` to kill the process, or None."""
        return next((d for d in self.deviations if d.crashes and d.matches(call)), None)

    def error_declared(self, call, error: BaseException):
        """The entry that declares `call` to raise `error`, or None."""
        return next((d for d in self.deviations if d.explains_error(call, error)), None)

    def failure_declared(self, call, data: dict):
        """The entry that declares a failure of `call` (with the check's `data`), or None."""
        return next((d for d in self.deviations if d.matches(call, data)), None)

    def declared_elsewhere(self, call):
        """An entry of another rule that declares `call`'s behaviour, or None."""
        return next((d for d in self.every_deviation
                     if d.rule != self.rule_id and d.matches(call)), None)
