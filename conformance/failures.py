"""The failure grammar: one headline, the mismatch block, and a copy-paste reproducer.

    out.shape=(1, 1, 4), but should be (1, 1, 3) [pool.output_size.ceil: max_pool(kernel_shape=(4,), ...)]

then, for values, the numpy.testing-style block with the tolerance that applied, then the
Python code that replays the failing calls on the adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnspec.reports.results import Headline, encode_number


@dataclass
class Call:
    """One call of an adapter op, as the reproducer replays it."""

    op: str
    arrays: tuple
    params: dict
    is_vjp: bool = False
    cotangent: object = None

    def signature(self) -> str:
        """`op(kw=value, ...)` without the arrays: the bracket of the headline."""
        keywords = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        shapes = ", ".join(f"{np.shape(a)}" for a in self.arrays)
        if self.is_vjp:
            return f"vjp({self.op!r}, shapes {shapes}{', ' if keywords else ''}{keywords})"
        return f"{self.op}({keywords})"


def first_line(text: str) -> str:
    """The first line of an exception's text (a headline is one line)."""
    return text.split("\n", 1)[0]


# The keys of a failure's data that the row holds as fields of their own (not counterexample)
SHOWN = ("mismatch", "error_map", "error_map_at")


class RuleFailure(AssertionError):
    """A rule does not hold on an adapter: the headline (fields, reports.results.Headline; a
    string is a headline said as it is), the mismatch block, the calls and the check's data
    (which deviation conditions match; its `mismatch`, `error_map` and `error_map_at` are the
    row's fields)."""

    def __init__(self, rule_id: str, headline: Headline | str, *, block: str = "", calls=(),
                 max_error: float | None = None, data: dict | None = None):
        if isinstance(headline, str):
            headline = Headline(rule_id, said=headline)
        self.rule_id, self.headline, self.block = rule_id, headline, block
        self.calls, self.max_error = list(calls), max_error
        self.data = data or {}
        super().__init__(headline.text())

    def reproducer(self, adapter_ref: str) -> str:
        return reproducer(adapter_ref, self.calls)

    @property
    def mismatch(self) -> dict | None:
        """The value comparison's fields (Mismatch.as_dict), None for other failures."""
        return _jsonable(self.data["mismatch"]) if "mismatch" in self.data else None

    @property
    def error_map(self) -> dict | None:
        """{"grid": error / allowed around the worst element, "at": the grid's first index}."""
        if "error_map" not in self.data:
            return None
        return {"grid": _jsonable(self.data["error_map"]),
                "at": _jsonable(self.data.get("error_map_at"))}

    def counterexample(self) -> dict:
        """The failing calls as data: op, parameters, and each array's dtype, shape and values;
        and the check's own data (but what the row holds as `mismatch` and `error_map`)."""
        return {
            "calls": [{"op": c.op, "vjp": c.is_vjp, "params": _jsonable(c.params),
                       "arrays": [_array_data(a) for a in c.arrays]
                       + ([_array_data(c.cotangent)] if c.is_vjp else [])}
                      for c in self.calls],
            **_jsonable({k: v for k, v in self.data.items() if k not in SHOWN}),
        }

    def __str__(self):
        return self.headline.text() + (f"\n{self.block}" if self.block else "")


class AdapterCrash(Exception):
    """The adapter raised (or hung) where the rule expects a result: an `error` row."""

    def __init__(self, call: Call, error: BaseException | str, calls=()):
        self.call, self.calls = call, list(calls)
        self.error = error
        self.detail = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        super().__init__(f"adapter raised in {call.signature()}: {self.detail}")

    def headline(self, rule_id: str) -> Headline:
        return Headline(rule_id, call=self.call.signature(), raised=first_line(self.detail))


class CallTimedOut(BaseException):
    """An adapter call that did not return within --timeout. A BaseException, so that Hypothesis
    stops at once: as an ordinary error it would retry and shrink through the hang, paying the
    timeout about a hundred times. The rule is an `error` with the `crash`."""

    def __init__(self, crash: AdapterCrash):
        self.crash = crash
        super().__init__(str(crash))


class ShrinkingStopped(BaseException):
    """A check's shrinking ran past its budget (--shrink-budget): raised at the start of the
    next example, it stops Hypothesis at once (a BaseException, as `CallTimedOut`) and carries
    the smallest failure found by then (a RuleFailure or an AdapterCrash)."""

    def __init__(self, failure: Exception, seconds: float):
        self.failure, self.seconds = failure, seconds
        super().__init__(f"shrinking stopped after {seconds:g} s: {failure}")


def _array_data(a) -> dict:
    if a is None:
        return {"value": None}
    array = np.asarray(a)
    return {"dtype": array.dtype.name, "shape": list(array.shape),
            "values": _jsonable(array.astype(np.float64).tolist()
                                if array.dtype.kind == "f" or array.dtype.name == "bfloat16"
                                else array.tolist())}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return encode_number(value)  # the results' encoding of non-finite numbers
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


def _literal(array) -> str:
    """Python source that rebuilds `array` exactly (float64 values, then the dtype)."""
    array = np.asarray(array)
    if array.dtype.kind in "iub":
        return f"np.array({array.tolist()!r}, dtype=np.{array.dtype.name})"
    values = repr(array.astype(np.float64).tolist())
    values = values.replace("nan", "np.nan").replace("inf", "np.inf")
    dtype = "ml_dtypes.bfloat16" if array.dtype.name == "bfloat16" else f"np.{array.dtype.name}"
    return f"np.array({values}, dtype=np.float64).astype({dtype})"


def reproducer(adapter_ref: str, calls) -> str:
    """Copy-paste Python that replays `calls` on the adapter named `adapter_ref`."""
    needs_bfloat16 = any(np.asarray(a).dtype.name == "bfloat16"
                         for c in calls for a in (*c.arrays, c.cotangent) if a is not None)
    lines = ["import numpy as np"] + (["import ml_dtypes"] if needs_bfloat16 else [])
    lines += ["from cnnspec.adapters import load", f"adapter = load({adapter_ref!r})"]
    for number, call in enumerate(calls):
        names = [f"a{number}_{i}" for i in range(len(call.arrays))]
        for name, array in zip(names, call.arrays):
            lines.append(f"{name} = None" if array is None else f"{name} = {_literal(array)}")
        keywords = "".join(f", {k}={v!r}" for k, v in call.params.items())
        if call.is_vjp:
            lines.append(f"dy{number} = {_literal(call.cotangent)}")
            lines.append(f"out{number} = adapter.vjp({call.op!r}, ({', '.join(names)},), "
                         f"dy{number}{keywords})")
        else:
            lines.append(f"out{number} = adapter.{call.op}({', '.join(names)}{keywords})")
        lines.append(f"print(out{number})")
    return "\n".join(lines)


@dataclass
class Mismatch:
    """The numpy.testing-style block of a value comparison."""

    criterion: str
    total: int
    bad_indices: list = field(default_factory=list)
    got: list = field(default_factory=list)
    expected: list = field(default_factory=list)
    allowed: list = field(default_factory=list)
    count: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    max_ratio: float = 0.0

    def as_dict(self) -> dict:
        """The mismatch as fields, for the results (the report lays them out)."""
        return {"criterion": self.criterion, "count": self.count, "total": self.total,
                "elements": [{"index": list(i), "got": g, "expected": e, "allowed": a}
                             for i, g, e, a in zip(self.bad_indices, self.got, self.expected,
                                                   self.allowed)],
                "max_abs": self.max_abs, "max_rel": self.max_rel, "max_ratio": self.max_ratio}

    def text(self) -> str:
        lines = [f"Not within tolerance: {self.criterion}",
                 f"Mismatched elements: {self.count} / {self.total} "
                 f"({100.0 * self.count / max(self.total, 1):.3g}%)"]
        for index, got, expected, allowed in zip(self.bad_indices, self.got, self.expected,
                                                 self.allowed):
            lines.append(f"  at {index}: got {got!r}, ref {expected!r}, allowed |diff| "
                         f"<= {allowed:.3g}")
        lines.append(f"Max absolute difference: {self.max_abs:.6g}")
        lines.append(f"Max relative difference: {self.max_rel:.6g}")
        lines.append(f"Largest error / allowed: {self.max_ratio:.6g}")
        return "\n".join(lines)


def error_ratio(got, expected, allowed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per element, the error `|got - expected|`, its ratio to what the tolerance `allowed`,
    and whether it is within (`ok`): the one definition the verdict and the report's error map
    share.

        ok    = both NaN  or  equal infinities  or  |got - expected| <= allowed
        ratio = 0 where both are NaN or equal infinities, else |got - expected| / allowed,
                inf where a NaN or an infinity comes where a number was due, or where nothing is
                allowed (an exact comparison) and the two differ

    Returns (diff, ratio, ok), float64 arrays of the shape of `expected` (diff is inf where a
    NaN came where a number was due)."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    allowed = np.broadcast_to(np.asarray(allowed, dtype=np.float64), expected.shape)
    accepted = (np.isnan(got) & np.isnan(expected)) | (np.isinf(expected) & (got == expected))
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        diff = np.abs(got - expected)
        diff = np.where(np.isnan(diff), np.inf, diff)  # a NaN where a number was due
        ok = accepted | (diff <= allowed)
        ratio = np.where(allowed > 0, diff / np.where(allowed > 0, allowed, 1.0),
                         np.where(diff > 0, np.inf, 0.0))
    return diff, np.where(accepted, 0.0, ratio), ok


def compare(got, expected, allowed, criterion: str, *, show: int = 5) -> Mismatch | None:
    """None when `|got - expected| <= allowed` everywhere (NaN where expected is NaN, equal
    infinities where expected is infinite: `error_ratio`); else the mismatch block."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    allowed = np.broadcast_to(np.asarray(allowed, dtype=np.float64), expected.shape)
    diff, ratio, ok = error_ratio(got, expected, allowed)
    if ok.all():
        return None
    bad = np.argwhere(~ok)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        finite = np.isfinite(diff) & ~ok
        rel = np.where(finite, diff / np.abs(expected), np.inf)
    pick = [tuple(int(i) for i in index) for index in bad[:show]]
    return Mismatch(
        criterion=criterion, total=int(expected.size), bad_indices=pick,
        got=[float(got[i]) for i in pick], expected=[float(expected[i]) for i in pick],
        allowed=[float(allowed[i]) for i in pick], count=int((~ok).sum()),
        max_abs=float(np.nanmax(np.where(~ok, diff, -np.inf))) if (~ok).any() else 0.0,
        max_rel=float(np.nanmax(np.where(~ok, rel, -np.inf))),
        max_ratio=float(np.nanmax(np.where(~ok, ratio, -np.inf))) if (~ok).any() else 0.0,
    )
