"""The adapter as one example of a rule run calls it: support checked before a call, inputs
copied, each call recorded (for the reproducer, and to disk when the run records calls in
flight), timed, and bounded by the run's timeout (an alarm in the main thread; in a worker
process, the parent's watchdog reads when the call started).

    client = AdapterClient(adapter, run)
    client.verdict("max_pool", (x,), None, {"kernel_shape": (2,)})   # True, or the reason
    out = client.make(client.record(Call("max_pool", (x,), {"kernel_shape": (2,)})))

It judges nothing: what the adapter returns, or the AdapterCrash (CallTimedOut) it raised,
goes back to the `Probe`, which holds the rule's assertions and deviations.
"""

from __future__ import annotations

import signal
import threading
import time

import numpy as np

from cnnspec.adapters import capabilities

from . import inflight
from .context import RuleRun
from .failures import AdapterCrash, Call, CallTimedOut


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException, so that an adapter's `except Exception` keeps out."""


def _alarm(signum, frame):
    raise _Timeout()


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


def _copies(arrays):
    return [None if a is None else np.array(a, copy=True) for a in arrays]


class AdapterClient:
    """One example's calls of `adapter`, under the settings of the rule run `run`."""

    def __init__(self, adapter, run: RuleRun):
        self.adapter, self.run = adapter, run
        self.calls: list[Call] = []  # every call made (or declared to crash), in order
        self.recipes: set[str] = set()  # of a NAME+recipes adapter: the recipes the calls ran
        self._outputs: list[tuple[np.ndarray, Call]] = []  # what each call returned

    def verdict(self, op: str, arrays, cotangent, params: dict) -> bool | str:
        """The verdict on a call: first the region the adapter declares (its capabilities),
        then the adapter's own `supports`, which sees the call's keywords and the keys of
        `call_keys`."""
        keys = call_keys(arrays, cotangent, params)
        outside = capabilities.of(self.adapter).verdict(op, keys)
        if outside:
            return outside
        return self.adapter.supports(op, **keys)

    def record(self, call: Call) -> Call:
        """Adds `call` to the example's calls (the reproducer replays them)."""
        self.calls.append(call)
        return call

    def make(self, call: Call, *, wrap: bool = True):
        """What the adapter returns for `call`, made on copies of its arrays (an adapter that
        writes into its inputs changes no evidence). An exception it raises comes back as an
        AdapterCrash (as itself when not `wrap`); a call past the timeout as CallTimedOut."""
        arrays = _copies(call.arrays)
        cotangent = _copies([call.cotangent])[0] if call.is_vjp else None

        def made():
            if call.is_vjp:
                return self.adapter.vjp(call.op, tuple(arrays), cotangent, **call.params)
            return getattr(self.adapter, call.op)(*arrays, **call.params)

        recipe = getattr(self.adapter, "recipe", None)  # NAME+recipes (cnnspec.recipes)
        ran = recipe and recipe(call.op, call.arrays, call.params, vjp=call.is_vjp)
        if ran:
            self.recipes.add(ran)
        if self.run.record_calls:
            inflight.write(self.run.record_calls, call)
        seconds, cell = self.run.timeout, self.run.call_started
        alarm = (seconds and hasattr(signal, "setitimer")
                 and threading.current_thread() is threading.main_thread())
        if alarm:
            previous = signal.signal(signal.SIGALRM, _alarm)
            signal.setitimer(signal.ITIMER_REAL, seconds)
        started = time.perf_counter()
        if cell is not None:
            cell.value = time.time()
        try:
            return made()
        except _Timeout:
            raise CallTimedOut(AdapterCrash(call, f"no result within --timeout={seconds}s",
                                            self.calls)) from None
        except Exception as error:
            if not wrap:
                raise
            raise AdapterCrash(call, error, self.calls) from error
        finally:
            if alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
            if cell is not None:
                cell.value = 0.0
            self.run.adapter_s += time.perf_counter() - started

    def returned(self, out, call: Call) -> None:
        """Notes that `call` returned the array `out` (`origin` finds it again)."""
        self._outputs.append((out, call))

    def origin(self, value) -> Call | None:
        """The call whose output `value` is, or a view of (None for a derived array)."""
        while isinstance(value, np.ndarray):
            for out, call in self._outputs:
                if value is out:
                    return call
            value = value.base
        return None
