"""Runs the suite in worker processes: an adapter that kills its process (a segfault, an abort
inside a framework's C code) or hangs where Python's alarm cannot reach loses only the rule it
was running, and adapters run side by side.

The parent hands out one rule at a time to workers, each bound to one adapter and started with
`spawn` (no framework state is forked). A worker loads its adapter once, runs each rule it is
given with `runner.run_rule` and sends the row back. Then:

- a worker that dies turns the rule it was running into an `error` row that names the signal and
  quotes the end of the worker's stderr (where `faulthandler` writes the Python stack of the
  crash); a fresh worker takes the adapter's remaining rules;
- an adapter call that has not returned `grace` seconds after --timeout (the in-process alarm
  raises at --timeout, but only when the call gets back to Python) gets its worker killed: an
  `error` row, and a fresh worker;
- each worker's frameworks get CPUs // jobs threads (`threads.share`), so that workers do not
  fight over the cores;
- with `jobs` > 1, up to `jobs` workers run at once: every adapter gets one in the order given,
  costliest first (`COST_PER_RULE`), and a free slot then helps the adapter with the most
  rules left.

Ctrl-C stops the workers; every adapter's results keep the rows that came back, marked partial.
"""

from __future__ import annotations

import collections
import faulthandler
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait

from cnnspec.adapters import AdapterError, load
from cnnspec.reports.results import Headline, Results, RuleResult

from . import inflight, shards, threads
from .deviations import for_adapter
from .failures import RuleFailure
from .options import SHRINK_BUDGET_S
from .registry import all_checks
from .runner import (UsageError, adapter_info, check_names, check_profile, now, run, run_rule,
                     select_rules, suite_info)

# Seconds per rule of each built-in adapter on the ci profile (benchmarks/suite_speed.py, 2-core
# CPU, JAX with a cold compilation cache): the costliest adapters get a worker first, so that
# the cheap ones fill the other slots around them. Other adapters count as 1.
COST_PER_RULE = {"jax": 3.5, "tensorflow": 0.9, "torch": 0.4, "numpy": 0.15}
GRACE_S = 5.0  # past --timeout, before the watchdog kills a worker whose call never returned
STDERR_TAIL = 1500  # characters of a dead worker's stderr quoted in its error row


def _serve(connection, call_started, stderr_path, adapter_ref, device, settings,
           record_calls=None):
    """A worker's main loop: load the adapter, then run each rule id received until None
    (with `record_calls`, a file that each adapter call is written to before it is made)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    stderr = open(stderr_path, "w", buffering=1)
    os.dup2(stderr.fileno(), 2)
    faulthandler.enable(file=stderr)
    try:
        adapter = load(adapter_ref, device)
        deviations = for_adapter(adapter)
    except (AdapterError, ValueError) as error:
        connection.send(("load_error", str(error)))
        return
    except Exception as error:
        connection.send(("load_error", f"adapter {adapter_ref!r}: loading failed: "
                                       f"{type(error).__name__}: {error}"))
        return
    connection.send(("ready", adapter_info(adapter)))
    checks = all_checks()
    while (rule_id := connection.recv()) is not None:
        row = run_rule(adapter, adapter_ref, rule_id, checks[rule_id], deviations=deviations,
                       record_calls=record_calls, call_started=call_started, **settings)
        connection.send(("row", asdict(row)))


@dataclass
class _Adapter:
    """One adapter's share of the run: rules to hand out, rows back, when it ran."""

    ref: str
    pending: collections.deque
    rows: dict = field(default_factory=dict)
    info: dict | None = None
    started: float | None = None
    clock: float | None = None
    finished: float | None = None


@dataclass
class _Replay:
    """A rule whose worker died: it runs again in a fresh worker that records each call before
    making it, so that a second death names the call in flight (inflight.py)."""

    share: _Adapter
    rule_id: str
    death: str  # how the first worker died
    stderr: str  # the end of its stderr
    record_path: str = ""

    def __post_init__(self):
        handle, self.record_path = tempfile.mkstemp(prefix="cnnspec-call-", suffix=".pickle")
        os.close(handle)

    def discard(self) -> None:
        for path in (self.record_path, f"{self.record_path}.writing"):
            try:
                os.unlink(path)
            except OSError:
                pass


class _Worker:
    def __init__(self, context, share: _Adapter, device, settings, jobs: int,
                 replay: _Replay | None = None):
        self.share, self.replay = share, replay
        # the rules it takes: the adapter's pending ones, or the one rule it replays
        self.queue = collections.deque([replay.rule_id]) if replay else share.pending
        self.call_started = context.Value("d", 0.0, lock=False)
        handle, self.stderr_path = tempfile.mkstemp(prefix="cnnspec-worker-", suffix=".log")
        os.close(handle)
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_serve, daemon=True, name=f"cnnspec-{share.ref}",
            args=(child, self.call_started, self.stderr_path, share.ref, device, settings,
                  replay.record_path if replay else None))
        variables = threads.share(jobs)  # the child inherits the environment at its start
        saved = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        # ... and ignored signals: a Ctrl-C to the terminal's process group must not break the
        # worker's start-up with a traceback of its own (the parent handles Ctrl-C)
        main_thread = threading.current_thread() is threading.main_thread()
        sigint = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None
        try:
            self.process.start()
        finally:
            if main_thread:
                signal.signal(signal.SIGINT, sigint)
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        child.close()
        self.rule: str | None = None  # the rule it is running

    def give(self) -> bool:
        """Sends the adapter's next rule; False (and sends the stop) when none is left."""
        if self.queue:
            self.rule = self.queue.popleft()
            try:
                self.connection.send(self.rule)
            except OSError:  # the worker is gone before it got the rule: it is not lost
                self.queue.appendleft(self.rule)
                self.rule = None
                raise
            return True
        self.rule = None
        self.connection.send(None)
        return False

    def stderr_tail(self) -> str:
        try:
            with open(self.stderr_path, encoding="utf-8", errors="replace") as stream:
                return crash_excerpt(stream.read())
        except OSError:
            return ""

    def close(self, kill: bool = False) -> None:
        if kill and self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=10)
        self.connection.close()
        try:
            os.unlink(self.stderr_path)
        except OSError:
            pass


def crash_excerpt(stderr: str) -> str:
    """What a dead worker's stderr says about the crash: the lines just before faulthandler's
    report (a C library's own message, e.g. glibc's 'double free or corruption'), then the report
    without the frames of Hypothesis and multiprocessing and without the list of extension
    modules; at most STDERR_TAIL characters."""
    start = stderr.rfind("Fatal Python error")
    if start < 0:
        return stderr.strip()[-STDERR_TAIL:]
    before = stderr[:start].strip().splitlines()[-3:]
    report = [line for line in stderr[start:].splitlines()
              if line.strip() and not line.startswith("Extension modules")
              and not any(noise in line for noise in ("/hypothesis/", "/multiprocessing/",
                                                      '"<string>"'))]
    return "\n".join(before + report)[:STDERR_TAIL]


def _death(exitcode) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "a signal"
        return f"{name} (signal {-exitcode})"
    return f"exit status {exitcode}"


def _lost_row(rule_id: str, message: str, replay: str, stderr: str) -> RuleResult:
    message += f". In-process replay: {replay}"
    headline = Headline(rule_id, said=message)
    if stderr:
        message += "\nthe worker's stderr:\n" + stderr
    return RuleResult(id=rule_id, status="error", message=message, headline=headline)


def _crash_row(replay: _Replay, adapter_ref: str, second: str | None, in_process: str,
               timeout: float | None) -> RuleResult:
    """The row of a rule whose worker died: the death, and when its rerun (which records each
    call) died too (`second`: how), the call in flight and a reproducer script, tried in a
    fresh process."""
    rule_id = replay.rule_id
    call = inflight.read(replay.record_path) if second else None
    if call is None:
        how = ("a rerun in a fresh worker, recording each call, did not die: the crash depends "
               "on more than this rule's calls" if second is None else
               f"a rerun in a fresh worker ended too ({second.split(': ', 1)[-1]}) before any "
               f"adapter call")
        row = _lost_row(rule_id, f"{replay.death}; {how}; the adapter's other rules ran in a "
                                 f"fresh worker", in_process, replay.stderr)
        return row
    failure = RuleFailure(rule_id, f"the adapter's worker died in {call.signature()}",
                          calls=[call])
    script = failure.reproducer(adapter_ref)
    confirmed = _try_reproducer(script, timeout)
    message = (f"{replay.death}, in the call {inflight.describe(call)} (a rerun in a fresh "
               f"worker, recording its calls, ended there too: {second.split(': ', 1)[-1]}); "
               f"{confirmed}; the adapter's other rules ran in a fresh worker")
    row = _lost_row(rule_id, message, f"{in_process} (the same draws: it dies in this "
                                      f"process too, e.g. under a debugger)", replay.stderr)
    row.counterexample, row.reproducer = failure.counterexample(), script
    return row


def _try_reproducer(script: str, timeout: float | None) -> str:
    """Runs the reproducer in a fresh Python process: what it did, in words."""
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True,
                              timeout=(timeout or 60.0) + GRACE_S)
    except subprocess.TimeoutExpired:
        return "the reproducer below did not finish in a fresh process within --timeout"
    if done.returncode < 0:
        return f"the reproducer below kills a fresh process too: {_death(done.returncode)}"
    return (f"the reproducer below, alone in a fresh process, ended with exit status "
            f"{done.returncode}: the crash needs the calls before it")


def run_all(adapter_refs, *, jobs: int = 1, profile: str = "ci", prefixes=(),
            timeout: float | None = 60.0, seed: int | None = None, device: str | None = None,
            report=None, shrink_budget: float | None = SHRINK_BUDGET_S,
            shard: shards.Shard | None = None) -> dict[str, Results]:
    """Runs the suite (or one `shard` of it) on each adapter in worker processes;
    `report(adapter_ref, row)` sees each row as it comes. {adapter_ref: Results} in the order
    of `adapter_refs` (after Ctrl-C, only the adapters that started), rows in catalogue order."""
    check_profile(profile)
    check_names(adapter_refs)
    rule_ids = select_rules(prefixes)
    settings = dict(profile=profile, seed=seed, timeout=timeout, shrink_budget=shrink_budget)
    context = multiprocessing.get_context("spawn")
    shares = [_Adapter(ref, collections.deque(shards.select(rule_ids, shard, ref)))
              for ref in dict.fromkeys(adapter_refs)]
    empty = {share.ref for share in shares if not share.pending}  # shards with no rule
    workers: list[_Worker] = []
    replays: list[_Replay] = []  # rules whose worker died, waiting for their rerun
    partial = False

    def replay(share, rule_id):
        return (f"cnnspec run --adapter {share.ref} --profile {profile} --rule {rule_id} "
                f"--jobs 0" + (f" --seed {seed}" if seed is not None else ""))

    def record(share, row: RuleResult):
        share.rows[row.id] = row
        if report:
            report(share.ref, row)

    def running(share) -> int:
        return sum(w.share is share for w in workers)

    def next_share():
        waiting = [s for s in shares if s.pending]
        fresh = [s for s in waiting if running(s) == 0]
        if fresh:
            return max(fresh, key=lambda s: COST_PER_RULE.get(s.ref, 1.0))
        helpable = [s for s in waiting if len(s.pending) > 2 * running(s)]
        return max(helpable, key=lambda s: len(s.pending) / (running(s) + 1), default=None)

    def lose(worker: _Worker, message: str, died: bool = True):
        """The worker is gone: its rule (if any) is an error row, after a rerun that records
        its calls when the worker `died` (rather than being killed for a hang)."""
        share = worker.share
        if worker.replay is not None:
            record(share, _crash_row(worker.replay, share.ref, message,
                                     replay(share, worker.rule), timeout))
            worker.replay.discard()
        elif worker.rule is not None and died:
            replays.append(_Replay(share, worker.rule, message, worker.stderr_tail()))
        elif worker.rule is not None:
            record(share, _lost_row(worker.rule, f"{message}; the adapter's other rules ran in "
                                                 f"a fresh worker", replay(share, worker.rule),
                                    worker.stderr_tail()))
        elif share.info is None:  # died while loading: its rules cannot run
            tail = worker.stderr_tail()
            for rule_id in list(share.pending):
                record(share, _lost_row(rule_id, f"{message} while loading the adapter",
                                        replay(share, rule_id), tail))
            share.pending.clear()
        worker.rule = None

    try:
        while True:
            while len(workers) < max(jobs, 1) and replays:
                rerun = replays.pop(0)
                workers.append(_Worker(context, rerun.share, device, settings, jobs, rerun))
            while len(workers) < max(jobs, 1) and (share := next_share()) is not None:
                if share.clock is None:
                    share.started, share.clock = now(), time.perf_counter()
                workers.append(_Worker(context, share, device, settings, jobs))
            if not workers and not replays:
                break
            ready = wait([w.connection for w in workers] + [w.process.sentinel for w in workers],
                         timeout=0.25)
            for worker in list(workers):
                share, done = worker.share, False
                if worker.connection in ready or worker.process.sentinel in ready:
                    try:
                        while worker.connection.poll():
                            kind, payload = worker.connection.recv()
                            if kind == "load_error":
                                raise UsageError(payload)
                            if kind == "ready":
                                share.info = share.info or payload
                            elif worker.replay is not None:  # the rerun did not die
                                record(share, _crash_row(worker.replay, share.ref, None,
                                                         replay(share, worker.rule), timeout))
                                worker.replay.discard()
                            else:
                                record(share, RuleResult(**payload))
                            if not worker.give():
                                done = True
                                break
                    except (EOFError, OSError):
                        pass
                    if not done and not worker.process.is_alive():
                        worker.process.join()
                        lose(worker, f"the adapter's worker process died: "
                                     f"{_death(worker.process.exitcode)}")
                        done = True
                started = worker.call_started.value
                if (not done and timeout and started
                        and time.time() - started > timeout + GRACE_S):
                    lose(worker, f"no result within --timeout={timeout}s: the call did not "
                                 f"return to Python, so its worker was killed", died=False)
                    done = True
                if done:
                    worker.close(kill=True)
                    workers.remove(worker)
                    if (not share.pending and running(share) == 0
                            and not any(rerun.share is share for rerun in replays)):
                        share.finished = time.perf_counter()
    except KeyboardInterrupt:
        partial = True
    finally:
        for worker in workers:
            worker.close(kill=True)
            if worker.replay is not None:
                worker.replay.discard()
        for rerun in replays:  # interrupted before their rerun
            record(rerun.share, _lost_row(rerun.rule_id, rerun.death,
                                          replay(rerun.share, rerun.rule_id), rerun.stderr))
            rerun.discard()

    results = {}
    for share in shares:
        if share.info is None and not share.rows:
            if share.ref in empty and not partial:  # no rule to run: its results, in here
                results[share.ref] = run(share.ref, profile=profile, prefixes=prefixes,
                                         timeout=timeout, seed=seed, device=device, shard=shard,
                                         shrink_budget=shrink_budget)
            continue  # else never started (an interrupted run)
        info = share.info or {"name": share.ref, "framework": share.ref, "version": "unknown",
                              "device": device or "cpu"}
        end = share.finished or time.perf_counter()
        suite = suite_info(share.ref, profile=profile, seed=seed, device=device,
                           started=share.started, duration_s=end - share.clock,
                           partial=partial or bool(share.pending), jobs=jobs,
                           shard=shards.record(rule_ids, shard, share.ref))
        rows = [share.rows[rule_id] for rule_id in rule_ids if rule_id in share.rows]
        results[share.ref] = Results(adapter=info, suite=suite, rules=rows)
    return results
