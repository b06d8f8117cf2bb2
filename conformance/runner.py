"""Runs the checks of every rule (or those under given prefixes) on one adapter.

Each rule's checks run under the profile's Hypothesis settings; the rule's row is the worst of
its checks: fail, else error, else pass, else unsupported. A failure that an entry of the
adapter's deviations file describes becomes `deviation`; an entry whose rule passes is stale.
"""

from __future__ import annotations

import datetime
import os
import platform
import random
import time
from dataclasses import dataclass, field

import numpy as np
from hypothesis.errors import HypothesisException, Unsatisfiable

from cnnspec import __version__
from cnnspec.adapters import AdapterError, Capabilities, capabilities, load
from cnnspec.adapters.registry import BUILTIN
from cnnspec.adapters.registry import check as check_adapter
from cnnspec.reports.results import Declared, Headline, Results, RuleResult
from cnnspec.spec import RULES, closest_ids
from cnnspec.spec.errors import UsageError

from . import region, shards
from .context import RuleRun
from .deviations import builtin_deviations, for_adapter
from .failures import (AdapterCrash, CallTimedOut, RuleFailure, ShrinkingStopped, first_line,
                       reproducer)
from .options import SHRINK_BUDGET_S
from .profiles import PROFILES
from .tolerance import TABLE
from .registry import Check, all_checks


def select_rules(prefixes=()) -> list[str]:
    """Rule ids (with checks) under any of `prefixes`; a prefix that matches none is an error."""
    checks = all_checks()
    if not prefixes:
        return list(checks)
    selected = []
    for prefix in prefixes:
        matched = [rule_id for rule_id in checks if rule_id.startswith(prefix)]
        if not matched:
            near = [rule_id for rule_id in closest_ids(prefix) if rule_id in checks]
            hint = f"did you mean {', '.join(near)}?" if near else "`cnnspec rules` lists them"
            raise UsageError(f"--rule {prefix!r} matches no rule id: {hint}")
        selected += [rule_id for rule_id in matched if rule_id not in selected]
    return [rule_id for rule_id in checks if rule_id in selected]


@dataclass
class CheckOutcome:
    status: str
    message: str | None = None
    headline: Headline | None = None  # of an error (a failure has its own)
    failure: RuleFailure | None = None
    crash: AdapterCrash | None = None
    reasons: list = field(default_factory=list)
    timed_out: bool = False
    shrink_stopped: float | None = None  # the budget that stopped the shrinking, in seconds


def failed_outcome(failure: Exception, check: Check) -> CheckOutcome:
    """The outcome of a check that stopped on `failure`: a RuleFailure fails, an AdapterCrash
    is an error, and so is any other exception (the check's own)."""
    if isinstance(failure, RuleFailure):
        return CheckOutcome("fail", str(failure), failure=failure)
    if isinstance(failure, AdapterCrash):
        return crashed(failure, check.rule_id)
    return raised(failure, check.rule_id, f"{check.name} raised {type(failure).__name__}")


def crashed(crash: AdapterCrash, rule_id: str, *, timed_out: bool = False) -> CheckOutcome:
    """The error outcome of an adapter call that raised or hung."""
    return CheckOutcome("error", str(crash), crash=crash, timed_out=timed_out,
                        headline=crash.headline(rule_id))


def raised(error: BaseException, rule_id: str, what: str) -> CheckOutcome:
    """The error outcome of a check that raised `error` itself: `what` happened, in words."""
    return CheckOutcome("error", f"{what}: {error}", headline=Headline(
        rule_id, said=f"{what}: {first_line(str(error))}"))


def outside(declared: Capabilities, check: Check) -> str | None:
    """Why `check` lies wholly outside the declared region (decided before any draw), or None:
    an op or gradient it calls on every example is not declared, a gradient rule meets an
    adapter without gradients, or a call it requires is outside."""
    for op, is_vjp in sorted(check.calls):
        reason = declared.op_verdict(op, is_vjp)
        if reason:
            return f"{f'vjp({op})' if is_vjp else op}: {reason}"
    if RULES[check.rule_id].section == "Gradients" and not declared.gradients:
        return f"gradients: {declared.reason('gradients', 'the adapter declares no gradients')}"
    for op, params in check.requires:
        reason = declared.verdict(op, params)
        if reason:
            return f"{op}: {reason}"
    return None


def run_check(adapter, check: Check, rule_run: RuleRun, *, profile: str,
              seed: int | None) -> CheckOutcome:
    """One check's outcome on `adapter`; its examples count into `rule_run`."""
    declared = capabilities.of(adapter)
    reason = outside(declared, check)
    if reason:
        return CheckOutcome("unsupported", reasons=[reason])
    for op, params in check.requires:
        verdict = adapter.supports(op, **params)
        if verdict is not True:
            return CheckOutcome("unsupported", reasons=[f"{op}: {verdict}"])
    test = check.test(PROFILES[profile], seed, run=rule_run)
    rule_run.begin_check(check.name)
    narrowed = set()  # the declared limits that narrowed this check's draws
    try:
        with region.inside(declared, narrowed):
            test(adapter)
    except region.OutsideRegion as beyond:
        return CheckOutcome("unsupported", reasons=[str(beyond)])
    except ShrinkingStopped as stopped:
        outcome = failed_outcome(stopped.failure, check)
        outcome.shrink_stopped = stopped.seconds
        return outcome
    except RuleFailure as failure:
        return CheckOutcome("fail", str(failure), failure=failure)
    except AdapterCrash as crash:
        return crashed(crash, check.rule_id)
    except CallTimedOut as hung:
        return crashed(hung.crash, check.rule_id, timed_out=True)
    except Unsatisfiable as error:
        reasons = sorted(rule_run.check_unsupported | narrowed)
        if rule_run.deviated:
            return CheckOutcome("pass", reasons=reasons)  # every example was a declared one
        if reasons:
            return CheckOutcome("unsupported", reasons=reasons)
        if declared != capabilities.EVERYTHING:  # the control keeps the error: a strategy bug
            return CheckOutcome("unsupported", reasons=[
                "no example of this check lies inside the adapter's declared capabilities"])
        return raised(error, check.rule_id, "no valid example could be drawn")
    except (HypothesisException, Exception) as error:
        return raised(error, check.rule_id, f"{check.name} raised {type(error).__name__}")
    return CheckOutcome("pass", reasons=sorted(rule_run.check_unsupported | narrowed))


def run_rule(adapter, adapter_ref: str, rule_id: str, checks, *, profile: str, seed,
             timeout, deviations, shrink_budget: float | None = SHRINK_BUDGET_S,
             record_calls: str | None = None, call_started=None) -> RuleResult:
    """One rule's row: its checks run on `adapter` under one `RuleRun`; with `record_calls`,
    each adapter call is written to that file before it is made (for a worker that may die in
    it: inflight.py); `call_started`, a worker's shared double, tells the parent's watchdog
    when the running call started (workers.py)."""
    clock = time.perf_counter()
    rule_run = RuleRun(rule_id, deviations=[d for d in deviations if d.rule == rule_id],
                        every_deviation=list(deviations), timeout=timeout,
                        call_started=call_started, shrink_budget=shrink_budget,
                        record_calls=record_calls)
    outcomes = []
    for check in checks:  # after a timeout the rule is an error: its other checks would hang too
        outcomes.append(run_check(adapter, check, rule_run, profile=profile, seed=seed))
        if outcomes[-1].timed_out:
            break
    result = RuleResult(id=rule_id, status="unsupported", examples=0)
    failed = next((o for o in outcomes if o.status == "fail"), None)
    errored = next((o for o in outcomes if o.status == "error"), None)
    reasons = sorted({r for o in outcomes for r in o.reasons})
    if failed:
        result.status = "fail"
        _shown(result, failed.failure, adapter_ref)
    elif errored:
        result.status, result.message = "error", errored.message
        result.headline = errored.headline
        if errored.crash is not None:
            result.reproducer = reproducer(adapter_ref, errored.crash.calls)
    elif rule_run.deviated:
        # set-aside examples are not shrunk: show the smallest of them
        entry, failure = min(rule_run.deviated, key=lambda pair: sum(
            np.size(a) for call in pair[1].calls for a in call.arrays if a is not None))
        result.status, result.deviation = "deviation", entry.as_dict()
        _shown(result, failure, adapter_ref)
        others = {id(e): e for e, _ in rule_run.deviated if e is not entry}
        result.also_declared = [Declared(e.observed, e.evidence) for e in others.values()]
        result.reasons = reasons
    elif any(o.status == "pass" for o in outcomes):
        result.status, result.reasons = "pass", reasons
    else:
        result.reasons = reasons
        result.message = result.summary()
    shown = failed or errored
    if shown and shown.shrink_stopped is not None:
        result.shrink_stopped_s = shown.shrink_stopped
    result.examples = rule_run.examples - rule_run.declined
    result.recipes = dict(sorted(rule_run.recipes.items())) or None  # NAME+recipes only
    result.declined = rule_run.declined
    result.digest = rule_run.digest.hexdigest()
    if rule_run.conventions and result.status not in ("fail", "error"):  # not a verdict then
        result.conventions = dict(sorted(rule_run.conventions.items()))
    matched = {id(entry) for entry, _ in rule_run.deviated}
    result.stale = [Declared(d.observed, d.evidence) for d in rule_run.deviations
                    if id(d) not in matched and result.status != "fail"]
    result.duration_s = round(time.perf_counter() - clock, 4)
    result.adapter_s = round(min(rule_run.adapter_s, result.duration_s), 4)
    return result


def _shown(result: RuleResult, failure: RuleFailure, adapter_ref: str) -> None:
    """The fields of the failure a row shows (a fail, or a deviation's smallest example)."""
    result.message, result.headline = str(failure), failure.headline
    result.mismatch, result.error_map = failure.mismatch, failure.error_map
    result.counterexample = failure.counterexample()
    result.reproducer = failure.reproducer(adapter_ref)
    result.max_error = failure.max_error


def check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise UsageError(f"--profile {profile!r}: the profiles are {', '.join(PROFILES)}")


def check_names(adapter_refs) -> None:
    """Each adapter is known, its framework installed, its module or file there: without
    importing any of them; a UsageError otherwise."""
    try:
        for ref in adapter_refs:
            check_adapter(ref)
    except AdapterError as error:
        raise UsageError(str(error)) from None


def check_invocation(adapter_refs, *, profile: str, prefixes=(), device: str | None = None):
    """What can be wrong with a run, checked before any rule runs; a UsageError (one line)
    otherwise: the profile, the --rule prefixes, each adapter (known, its framework installed,
    its module or file there), its deviations file, and, when a device is asked for, that each
    adapter can be built on it. A built-in adapter is built (its framework imported) only for
    a device; another is built to find its deviations file."""
    check_profile(profile)
    select_rules(prefixes)
    check_names(adapter_refs)
    try:
        for ref in adapter_refs:
            if device is None and ref in BUILTIN:
                builtin_deviations(ref)
            else:
                for_adapter(load(ref, device))
    except AdapterError as error:
        raise UsageError(str(error)) from None


def adapter_info(adapter) -> dict:
    """The `adapter` object of the results: name, framework, version, device."""
    info = {"name": str(adapter.name),
            "framework": str(getattr(adapter, "framework", adapter.name)),
            "version": str(getattr(adapter, "version", "unknown")),
            "device": str(getattr(adapter, "device", "cpu"))}
    if getattr(adapter, "backend", None):
        info["backend"] = str(adapter.backend)
    declared = capabilities.of(adapter).as_dict()
    if declared:
        info["capabilities"] = declared
    return info


def machine_info() -> dict:
    """The machine a run ran on, for the report: CPU model, cores, OS and Python."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            cpu = next((line.split(":", 1)[1].strip() for line in stream
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count() or 1, "os": platform.platform(terse=True),
            "python": platform.python_version()}


def suite_info(adapter_ref: str, *, profile: str, seed, device, started, duration_s: float,
               partial: bool, jobs: int = 0, shard: dict | None = None) -> dict:
    """The `suite` object of the results, with the command line that replays the run (and the
    shard, `shards.record`, of a sharded run)."""
    replay = f"cnnspec run --adapter {adapter_ref} --profile {profile}" + (
        f" --seed {seed}" if seed is not None else "") + (
        f" --device {device}" if device is not None else "")
    suite = {"version": __version__, "profile": profile,
             "seed": seed if seed is not None else (0 if PROFILES[profile].derandomize else None),
             "started": started.isoformat(timespec="seconds"),
             "duration_s": round(duration_s, 3), "replay": replay, "jobs": jobs,
             "machine": machine_info(), "tolerance": TABLE}
    if partial:
        suite["partial"] = True
    if shard is not None:
        suite["shard"] = shard
    return suite


def seed_for(profile: str, seed: int | None) -> int | None:
    """The seed a run uses: the one given; for a profile that explores (not derandomized), a
    fresh random one, so that the results and the replay line name it (`--seed N`)."""
    if seed is None and not PROFILES[profile].derandomize:
        return random.randrange(2**31)
    return seed


def unfinished(adapter_ref: str, rows, *, profile: str, seed, device,
               shard: dict | None = None) -> Results:
    """The results of an adapter whose run was cut short (Ctrl-C) before the runner gathered
    them: the rows that came back, marked partial, the adapter named by its reference (and
    the `shards.record` of its shard, when the run got as far as planning it)."""
    info = {"name": adapter_ref, "framework": adapter_ref, "version": "unknown",
            "device": device or "cpu"}
    suite = suite_info(adapter_ref, profile=profile, seed=seed, device=device, started=now(),
                       duration_s=0.0, partial=True, shard=shard)
    return Results(adapter=info, suite=suite, rules=list(rows))


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def run(adapter_ref: str, *, profile: str = "ci", prefixes=(), timeout: float | None = 60.0,
        seed: int | None = None, report=None, adapter=None, device: str | None = None,
        shrink_budget: float | None = SHRINK_BUDGET_S,
        shard: shards.Shard | None = None) -> Results:
    """Runs the suite (or one `shard` of it) on the adapter named `adapter_ref` in this process;
    `report(result)` sees each row. (`workers.run_all` runs adapters in worker processes.)"""
    check_profile(profile)
    adapter = load(adapter_ref, device) if adapter is None else adapter
    selected = select_rules(prefixes)
    rule_ids = shards.select(selected, shard, adapter_ref)
    checks = all_checks()
    deviations = for_adapter(adapter)
    started, clock = now(), time.perf_counter()
    rows, partial = [], False
    try:
        for rule_id in rule_ids:
            row = run_rule(adapter, adapter_ref, rule_id, checks[rule_id], profile=profile,
                           seed=seed, timeout=timeout, deviations=deviations,
                           shrink_budget=shrink_budget)
            rows.append(row)
            if report:
                report(row)
    except KeyboardInterrupt:
        partial = True
    suite = suite_info(adapter_ref, profile=profile, seed=seed, device=device, started=started,
                       duration_s=time.perf_counter() - clock, partial=partial,
                       shard=shards.record(selected, shard, adapter_ref))
    return Results(adapter=adapter_info(adapter), suite=suite, rules=rows)
