"""A check's handle on the adapter for one example: calls recorded for the reproducer, support
checked before each call, every call bounded by the timeout, and the assertions of the grammar.

    op = Probe(adapter, "pool.output_size.ceil")
    out = op.max_pool(x, kernel_shape=(4,), strides=(4,), pads=((2, 2),), dilations=(1,), ceil_mode=True)
    op.expect_equal("out.shape", out.shape, (1, 1, 3))
"""

from __future__ import annotations

import functools
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from hypothesis import reject

from cnnspec.adapters import OPS, capabilities
from cnnspec.reports.results import Headline

from . import inflight
from .digest import ExampleDigest
from .failures import (AdapterCrash, Call, CallTimedOut, RuleFailure, ShrinkingStopped, compare,
                       error_ratio, first_line)
from .options import SHRINK_BUDGET_S
from .tolerance import Tolerance


@dataclass
class RuleState:
    """What the examples of one rule left behind: counts, unsupported reasons, conventions."""

    rule_id: str
    timeout: float | None = 60.0
    examples: int = 0  # drawn, the declined ones included
    declined: int = 0  # drawn, but outside what the adapter supports: nothing checked
    unsupported: set = field(default_factory=set)
    check_unsupported: set = field(default_factory=set)  # the reasons of the running check
    conventions: Counter = field(default_factory=Counter)
    deviations: list = field(default_factory=list)  # the adapter's entries for this rule
    every_deviation: list = field(default_factory=list)  # all its entries, to name one
    deviated: list = field(default_factory=list)  # (entry, failure) of examples set aside
    adapter_s: float = 0.0  # time inside the adapter's calls
    digest: ExampleDigest = field(default_factory=ExampleDigest)  # of the checked examples
    # After a check's first failing example, Hypothesis only shrinks: the examples it tries
    # then are not counted, nor digested, and the shrinking has a budget (--shrink-budget).
    shrink_budget: float | None = SHRINK_BUDGET_S
    shrinking_since: float | None = None  # of the running check: when its first failure came
    smallest: BaseException | None = None  # the running check's last (smallest) failure
    record_calls: str | None = None  # a file to write each call to before it is made

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

    def finish_example(self, probe: Probe, drawn: dict, error: BaseException | None) -> None:
        """Counts an example that ran before the check's first failure (that one included),
        digests it unless the adapter declined it, and keeps each failure (`error`: what the
        example raised, None when it passed or was declined) as the smallest so far."""
        if isinstance(error, Exception) and (
                self.smallest is None or type(error) is type(self.smallest)):
            self.smallest = error
        if self.shrinking_since is not None:
            return
        self.examples += 1
        if probe.declined:
            self.declined += 1
        else:
            self.digest.example(drawn)
        if error is not None:
            self.shrinking_since = time.perf_counter()


# When set (in a worker process), a shared double that holds the time.time() at which the
# running adapter call started, 0.0 between calls: the parent's watchdog reads it.
CALL_STARTED = None


_STATES: dict[str, RuleState] = {}


def begin(rule_id: str, timeout: float | None = 60.0, deviations=(),
          shrink_budget: float | None = SHRINK_BUDGET_S,
          record_calls: str | None = None, every=()) -> RuleState:
    """A fresh state for a run of `rule_id`'s checks, with the adapter's declared deviations
    for it (and `every` one of the adapter's, which a failure may name); with `record_calls`,
    each call is written there before it is made (inflight.py)."""
    _STATES[rule_id] = RuleState(rule_id, timeout, deviations=list(deviations),
                                 shrink_budget=shrink_budget, record_calls=record_calls,
                                 every_deviation=list(every))
    return _STATES[rule_id]


def state(rule_id: str) -> RuleState:
    return _STATES.setdefault(rule_id, RuleState(rule_id))


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException, so that an adapter's `except Exception` keeps out."""


def _alarm(signum, frame):
    raise _Timeout()


def _error_map(got, expected, bound, side: int = 32) -> tuple[list, list]:
    """`error_ratio`'s |got - ref| / allowed on the 2-d slice of the output (its last two axes)
    that holds the worst element, at most `side` x `side` around it, capped at 1e6 (NaN or inf
    errors, and any error where nothing is allowed, show as the cap): for the report. Also the
    index of the slice's first element."""
    ratio = np.atleast_2d(np.minimum(error_ratio(got, expected, bound)[1], 1e6))
    worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    rows = max(0, worst[-2] - side // 2)
    cols = max(0, worst[-1] - side // 2)
    plane = ratio[tuple(worst[:-2])]
    corner = [int(i) for i in worst[:-2]] + [rows, cols]
    return np.minimum(plane[rows:rows + side, cols:cols + side], 1e6).round(3).tolist(), corner


def _copies(arrays):
    return [None if a is None else np.array(a, copy=True) for a in arrays]


def _described(value) -> str:
    """What an adapter returned, in a few words: its type, and dtype and shape if it has them."""
    kind = f"{type(value).__module__}.{type(value).__qualname__}".removeprefix("builtins.")
    if isinstance(value, np.ndarray):
        return f"{kind} of dtype {value.dtype.name}, shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"{kind} of {len(value)}"
    return kind


def call_keys(arrays, cotangent, params: dict) -> dict:
    """What `supports(op, **keys)` receives (the adapter guide documents them): the call's
    keywords; `dtype` and `shape` of the first array; `dtypes` and `shapes` of every array
    argument in call order (None for an absent bias); for a gradient, `vjp=True` and the
    `cotangent_dtype` and `cotangent_shape`."""
    keys = dict(params)
    if arrays:
        given = [None if a is None else np.asarray(a) for a in arrays]
        keys["dtypes"] = tuple(None if a is None else a.dtype.name for a in given)
        keys["shapes"] = tuple(None if a is None else a.shape for a in given)
        keys["dtype"], keys["shape"] = keys["dtypes"][0], keys["shapes"][0]
    if cotangent is not None:
        keys["cotangent_dtype"] = np.asarray(cotangent).dtype.name
        keys["cotangent_shape"] = np.shape(cotangent)
    return keys


class Probe:
    def __init__(self, adapter, rule_id: str):
        self.adapter, self.rule_id = adapter, rule_id
        self.calls: list[Call] = []
        self._outputs: list[tuple[np.ndarray, Call]] = []  # what each call returned
        self.state = state(rule_id)
        self.declined = False  # the adapter declined a call of this example: nothing checked
        begin = getattr(adapter, "begin_example", None)  # a recipes adapter counts per example
        if begin is not None:
            begin()

    # calls -----------------------------------------------------------------------------

    def __getattr__(self, op):
        if op not in OPS:
            raise AttributeError(op)
        return functools.partial(self._call, op)

    def supports(self, op: str, x=None, *, arrays=(), cotangent=None, **params) -> bool | str:
        """The verdict on a call, given its input `x` (or all its `arrays`): first the region the
        adapter declares (its capabilities), then the adapter's own `supports`, which sees the
        call's keywords and the keys of `call_keys`."""
        arrays = arrays or (() if x is None else (x,))
        keys = call_keys(arrays, cotangent, params)
        outside = capabilities.of(self.adapter).verdict(op, keys)
        if outside:
            return outside
        return self.adapter.supports(op, **keys)

    def require(self, op: str, x=None, *, arrays=(), cotangent=None, **params):
        """Discards the example (and notes why) when the adapter does not support the call."""
        verdict = self.supports(op, x, arrays=arrays, cotangent=cotangent, **params)
        if verdict is not True:
            reason = f"{op}: {verdict}" if verdict else f"{op}: not supported"
            self.state.unsupported.add(reason)
            self.state.check_unsupported.add(reason)
            self.declined = True
            reject()

    def _call(self, op: str, *arrays, **params):
        self.require(op, arrays=arrays, **params)
        call = Call(op, arrays, params)
        self.calls.append(call)
        self._unless_it_crashes(call)
        handed = _copies(arrays)  # an adapter that writes into its inputs changes no evidence
        out = self._array(f"{op}(...)", self._guarded(
            lambda: getattr(self.adapter, op)(*handed, **params), call))
        self._outputs.append((out, call))
        return out

    def vjp(self, op: str, args: tuple, cotangent, **params) -> tuple:
        self.require(op, arrays=tuple(args), cotangent=cotangent, vjp=True, **params)
        call = Call(op, tuple(args), params, is_vjp=True, cotangent=cotangent)
        self.calls.append(call)
        self._unless_it_crashes(call)
        handed, dy = _copies(args), _copies([cotangent])[0]
        try:
            grads = self._guarded(lambda: self.adapter.vjp(op, tuple(handed), dy, **params),
                                  call)
        except AdapterCrash as crash:
            self._cotangent_of_another_shape(call, crash)
            raise
        if not isinstance(grads, (tuple, list)) or len(grads) != len(args):
            self.fail(f"vjp({op!r})", _described(grads),
                      f"a tuple of {len(args)} arrays, one per argument")
        grads = tuple(self._array(f"vjp({op!r})[{i}]", g) for i, g in enumerate(grads))
        self._outputs += [(g, call) for g in grads]
        return grads

    def _cotangent_of_another_shape(self, call: Call, crash: AdapterCrash):
        """A VJP that raised where the adapter's own forward output has another shape than the
        spec's, the cotangent's: the VJP cannot take that cotangent. A failure saying so, with
        the two shapes and the deviation declared for the forward call, instead of the
        framework's error (which a deviation declared for this VJP call then sets aside)."""
        forward_call = Call(call.op, call.arrays, call.params)
        try:
            out = self._guarded(lambda: getattr(self.adapter, call.op)(
                *_copies(call.arrays), **call.params), forward_call, wrap=False)
        except Exception:
            return  # the forward raises too: the error is the adapter's own
        forward, spec = tuple(np.shape(out)), tuple(np.shape(call.cotangent))
        if forward == spec:
            return
        declared = next((d for d in self.state.every_deviation
                         if d.rule != self.rule_id and d.matches(forward_call)), None)
        why = (f"a declared deviation: {declared.observed} ({declared.evidence})" if declared
               else "no deviation declares that shape")
        self.fail(f"{call.op}(...).shape, the adapter's forward output", forward,
                  f"{spec}, the spec's and the cotangent's shape: its VJP cannot take the "
                  f"spec's cotangent ({why})",
                  block=f"the adapter's VJP raised {type(crash.error).__name__}: "
                        f"{str(crash.error).splitlines()[0] if str(crash.error) else ''}",
                  call=call)

    def _array(self, quantity: str, out) -> np.ndarray:
        """`out` if it is a NumPy array of numbers (the protocol's output); else a failure
        that names what came back, rather than an error deep in the comparison."""
        if not isinstance(out, np.ndarray) or not (out.dtype.kind in "fiub"
                                                   or out.dtype.name == "bfloat16"):
            self.fail(f"type of {quantity}", _described(out), "a numpy.ndarray of numbers")
        return out

    def raises(self, op: str, *arrays, **params) -> BaseException | None:
        """The exception the adapter raises for this call, or None when it returns."""
        call = Call(op, arrays, params)
        self.calls.append(call)
        try:
            self._guarded(lambda: getattr(self.adapter, op)(*arrays, **params), call,
                          wrap=False)
        except Exception as error:
            return error
        return None

    def _set_aside(self, entry, headline: str):
        """The example shows a declared deviation: kept as evidence, and the search goes on."""
        said = f"{headline} [{self.rule_id}]"
        failure = RuleFailure(self.rule_id, Headline(self.rule_id, said=first_line(said)),
                              block=said.partition("\n")[2], calls=self.calls)
        self.state.deviated.append((entry, failure))
        reject()

    def _unless_it_crashes(self, call: Call):
        """A call a deviation declares to kill the process is not made (its example is set aside
        as that deviation)."""
        entry = next((d for d in self.state.deviations if d.crashes and d.matches(call)), None)
        if entry is not None:
            self._set_aside(entry, f"not called, declared to crash: {call.signature()}")

    def _guarded(self, fn, call: Call, *, wrap: bool = True):
        if self.state.record_calls:
            inflight.write(self.state.record_calls, call)
        seconds = self.state.timeout
        alarm = (seconds and hasattr(signal, "setitimer")
                 and threading.current_thread() is threading.main_thread())
        if alarm:
            previous = signal.signal(signal.SIGALRM, _alarm)
            signal.setitimer(signal.ITIMER_REAL, seconds)
        started = time.perf_counter()
        if CALL_STARTED is not None:
            CALL_STARTED.value = time.time()
        try:
            return fn()
        except _Timeout:
            raise CallTimedOut(AdapterCrash(call, f"no result within --timeout={seconds}s",
                                            self.calls)) from None
        except Exception as error:
            if not wrap:
                raise
            entry = next((d for d in self.state.deviations if d.explains_error(call, error)),
                         None)
            if entry is not None:
                self._set_aside(entry, f"adapter raised in {call.signature()}: "
                                       f"{type(error).__name__}: {error}")
            raise AdapterCrash(call, error, self.calls) from error
        finally:
            if alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
            if CALL_STARTED is not None:
                CALL_STARTED.value = 0.0
            self.state.adapter_s += time.perf_counter() - started

    # assertions --------------------------------------------------------------------------

    def _origin(self, value) -> Call | None:
        """The call whose output `value` is, or a view of (None for a derived array)."""
        while isinstance(value, np.ndarray):
            for out, call in self._outputs:
                if value is out:
                    return call
            value = value.base
        return None

    def fail(self, quantity: str, got, expected, *, block: str = "", max_error=None,
             call: Call | None = None, **data):
        """Raises the failure of `call` (by default the last call made): its headline names
        that call, and a deviation declared for that call sets it aside."""
        call = call or (self.calls[-1] if self.calls else None)
        shown = [v if isinstance(v, str) else repr(v) for v in (got, expected)]
        headline = Headline(self.rule_id, call=call.signature() if call else "",
                            quantity=quantity, got=shown[0], expected=shown[1])
        failure = RuleFailure(self.rule_id, headline, block=block, calls=self.calls,
                              max_error=max_error, data=data)
        declared = next((d for d in self.state.deviations if d.matches(call, data)), None)
        if declared is not None:  # set aside, and search on for failures it does not cover
            self.state.deviated.append((declared, failure))
            reject()
        raise failure

    def expect_equal(self, quantity: str, got, expected, **data):
        if got != expected:
            self.fail(quantity, got, expected, **data)

    def expect_true(self, quantity: str, got, expected, ok: bool, **data):
        """Fails with `quantity=got, but should be expected` unless `ok`."""
        if not ok:
            self.fail(quantity, got, expected, **data)

    def expect_close(self, got, expected, tolerance: Tolerance, *, scale=None,
                     quantity: str = "out", **data):
        """`got` within the tolerance policy of the float64 `expected`; shapes first. A failure
        names the call that returned `got` (or what `got` is a view of)."""
        call = self._origin(got)
        got = np.asarray(got)
        expected = np.asarray(expected, dtype=np.float64)
        if got.shape != expected.shape:
            self.fail(f"{quantity}.shape", got.shape, expected.shape, call=call, **data)
        scale = np.abs(expected) if scale is None else scale
        bound = tolerance.bound(expected, scale)
        mismatch = compare(got, expected, bound, tolerance.describe())
        if mismatch:
            grid, corner = _error_map(got, expected, bound)
            self.fail(f"{quantity}{list(mismatch.bad_indices[0])}", mismatch.got[0],
                      mismatch.expected[0], block=mismatch.text(), max_error=mismatch.max_abs,
                      error_map=grid, error_map_at=corner, mismatch=mismatch.as_dict(),
                      call=call, **data)

    def convention(self, name: str):
        """Records which of a rule's allowed behaviours the adapter showed."""
        self.state.conventions[name] += 1
