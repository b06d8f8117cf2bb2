"""A check's handle on the adapter for one example of a rule run: the ops to call (through an
`AdapterClient`, which checks support, copies, records, times and bounds each call), and the
assertions of the grammar (`assertions`' pure verdicts, turned into the rule's failure or set
aside as a declared deviation of the run).

    op = Probe(adapter, RuleRun("pool.output_size.ceil"))
    out = op.max_pool(x, kernel_shape=(4,), strides=(4,), pads=((2, 2),), dilations=(1,), ceil_mode=True)
    op.expect_equal("out.shape", out.shape, (1, 1, 3))
"""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import reject

from cnnspec.adapters import OPS
from cnnspec.reports.results import Headline

from . import assertions
from .client import AdapterClient
from .context import RuleRun
from .failures import AdapterCrash, Call, RuleFailure, first_line
from .tolerance import Tolerance


class Probe:
    def __init__(self, adapter, run: RuleRun):
        self.adapter, self.run, self.rule_id = adapter, run, run.rule_id
        self.client = AdapterClient(adapter, run)
        self.declined = False  # the adapter declined a call of this example: nothing checked

    @property
    def calls(self) -> list[Call]:
        """The example's calls so far, in order (the reproducer replays them)."""
        return self.client.calls

    # calls -----------------------------------------------------------------------------

    def __getattr__(self, op):
        if op not in OPS:
            raise AttributeError(op)
        return functools.partial(self._call, op)

    def supports(self, op: str, x=None, *, arrays=(), cotangent=None, **params) -> bool | str:
        """The verdict on a call, given its input `x` (or all its `arrays`): first the region the
        adapter declares (its capabilities), then the adapter's own `supports`, which sees the
        call's keywords and the keys of `client.call_keys`."""
        arrays = arrays or (() if x is None else (x,))
        return self.client.verdict(op, arrays, cotangent, params)

    def require(self, op: str, x=None, *, arrays=(), cotangent=None, **params):
        """Discards the example (and notes why) when the adapter does not support the call."""
        verdict = self.supports(op, x, arrays=arrays, cotangent=cotangent, **params)
        if verdict is not True:
            self.run.decline(f"{op}: {verdict}" if verdict else f"{op}: not supported")
            self.declined = True
            reject()

    def _call(self, op: str, *arrays, **params):
        self.require(op, arrays=arrays, **params)
        call = self.client.record(Call(op, arrays, params))
        self._unless_it_crashes(call)
        out = self._array(f"{op}(...)", self._made(call))
        self.client.returned(out, call)
        return out

    def vjp(self, op: str, args: tuple, cotangent, **params) -> tuple:
        self.require(op, arrays=tuple(args), cotangent=cotangent, vjp=True, **params)
        call = self.client.record(Call(op, tuple(args), params, is_vjp=True,
                                       cotangent=cotangent))
        self._unless_it_crashes(call)
        try:
            grads = self._made(call)
        except AdapterCrash as crash:
            self._cotangent_of_another_shape(call, crash)
            raise
        if not isinstance(grads, (tuple, list)) or len(grads) != len(args):
            self.fail(f"vjp({op!r})", assertions.described(grads),
                      f"a tuple of {len(args)} arrays, one per argument")
        grads = tuple(self._array(f"vjp({op!r})[{i}]", g) for i, g in enumerate(grads))
        for g in grads:
            self.client.returned(g, call)
        return grads

    def _made(self, call: Call):
        """What the adapter returns for `call`; an error that a deviation declares for the
        call sets the example aside, any other is the AdapterCrash."""
        try:
            return self.client.make(call)
        except AdapterCrash as crash:
            entry = self.run.error_declared(call, crash.error)
            if entry is not None:
                text = f"{type(crash.error).__name__}: {crash.error}"
                self._set_aside(entry, f"adapter raised in {call.signature()}: "
                                       f"{first_line(text)}", block=text.partition("\n")[2])
            raise

    def _cotangent_of_another_shape(self, call: Call, crash: AdapterCrash):
        """A VJP that raised where the adapter's own forward output has another shape than the
        spec's, the cotangent's: the VJP cannot take that cotangent. A failure saying so, with
        the two shapes and the deviation declared for the forward call, instead of the
        framework's error (which a deviation declared for this VJP call then sets aside)."""
        forward_call = Call(call.op, call.arrays, call.params)
        try:
            out = self.client.make(forward_call, wrap=False)
        except Exception:
            return  # the forward raises too: the error is the adapter's own
        forward, spec = tuple(np.shape(out)), tuple(np.shape(call.cotangent))
        if forward == spec:
            return
        declared = self.run.declared_elsewhere(forward_call)
        why = (f"a declared deviation: {declared.observed} ({declared.evidence})" if declared
               else "no deviation declares that shape")
        self.fail(f"{call.op}(...).shape, the adapter's forward output", forward,
                  f"{spec}, the spec's and the cotangent's shape: its VJP cannot take the "
                  f"spec's cotangent ({why})",
                  block=f"the adapter's VJP raised {type(crash.error).__name__}: "
                        f"{first_line(str(crash.error))}",
                  call=call)

    def _array(self, quantity: str, out) -> np.ndarray:
        """`out` if it is a NumPy array of numbers (the protocol's output); else a failure
        that names what came back, rather than an error deep in the comparison."""
        if not assertions.is_array_of_numbers(out):
            self.fail(f"type of {quantity}", assertions.described(out),
                      "a numpy.ndarray of numbers")
        return out

    def raises(self, op: str, *arrays, **params) -> BaseException | None:
        """The exception the adapter raises for this call, or None when it returns."""
        call = self.client.record(Call(op, arrays, params))
        try:
            self.client.make(call, wrap=False)
        except Exception as error:
            return error
        return None

    def _set_aside(self, entry, said: str, block: str = ""):
        """The example shows a declared deviation: kept as evidence, and the search goes on.
        `said` is its headline (one line; the rule id is appended), `block` what follows it."""
        failure = RuleFailure(self.rule_id, Headline(self.rule_id, said=f"{said} [{self.rule_id}]"),
                              block=block, calls=self.calls)
        self.run.set_aside(entry, failure)
        reject()

    def _unless_it_crashes(self, call: Call):
        """A call a deviation declares to kill the process is not made (its example is set aside
        as that deviation)."""
        entry = self.run.crash_declared(call)
        if entry is not None:
            self._set_aside(entry, f"not called, declared to crash: {call.signature()}")

    # assertions --------------------------------------------------------------------------

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
        declared = self.run.failure_declared(call, data)
        if declared is not None:  # set aside, and search on for failures it does not cover
            self.run.set_aside(declared, failure)
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
        call = self.client.origin(got)
        got = np.asarray(got)
        expected = np.asarray(expected, dtype=np.float64)
        if got.shape != expected.shape:
            self.fail(f"{quantity}.shape", got.shape, expected.shape, call=call, **data)
        mismatch = assertions.close(got, expected, tolerance, scale)
        if mismatch:
            grid, corner = assertions.error_map(
                got, expected, assertions.allowed(expected, tolerance, scale))
            self.fail(f"{quantity}{list(mismatch.bad_indices[0])}", mismatch.got[0],
                      mismatch.expected[0], block=mismatch.text(), max_error=mismatch.max_abs,
                      error_map=grid, error_map_at=corner, mismatch=mismatch.as_dict(),
                      call=call, **data)

    def convention(self, name: str):
        """Records which of a rule's allowed behaviours the adapter showed."""
        self.run.conventions[name] += 1
