"""Expected differences, as data: one TOML file per adapter, never a widened tolerance.

    [[deviation]]
    rule = "pool.output_size.ceil"             # or a list of rule ids the same behaviour breaks
    when = { ceil_mode = true }          # the failing call's parameters, "dtype", "spatial_axes"
    observed = "TF pooling has no ceil mode"
    kind = "documented convention"       # or "bug"
    evidence = "https://..."             # a docs page or an issue

A failure of `rule` whose counterexample matches `when` becomes `deviation`. `when` compares
the failing call's keywords, `op` and `dtype`, the facts the check attached to the failure
(such as `case`), and the named CONDITIONS below (facts derived from the call, such as
`window_without_input`). An entry whose rule no longer fails is stale.

Derived conditions, for an entry that must cover exactly the calls it explains:

    when = { dtype = { in = ["float16", "bfloat16"] },      # or { not_in = [...] }
             axes = "any kernel_shape < strides" }         # or a list: all must hold

`axes` compares two per-axis quantities, or one and an integer, on any or all spatial axes:
the call's per-axis keywords, `pads_begin`, `pads_end`, `input` (the input's spatial sizes)
and `kernel` (the weight's spatial sizes, for conv ops).

An expected error instead of a wrong value: `raises = "InvalidArgumentError"` (the exception's
class name, or one of its bases, or "*") turns an adapter's raise on a matching call into the
deviation; `crashes = true` declares a call that kills the process (a segfault): the suite does
not make a matching call, and sets the example aside as the declared deviation.
"""

from __future__ import annotations

import difflib
import operator
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


from cnnspec.adapters import OPS
from cnnspec.spec import RULES
from cnnspec.spec import reference as ref
from cnnspec.spec.ops import OPS as TABLE
from cnnspec.spec.ops import PER_AXIS as PER_AXIS_KEYWORDS
from cnnspec.spec.errors import UsageError

DEVIATIONS_DIR = Path(__file__).with_name("deviations")


def _window_without_input(call) -> bool:
    """A max-pool window that covers no input element (dilation can step over all of it)."""
    if call.op != "max_pool" or not call.arrays:
        return False
    index = ref.max_pool_argmax(call.arrays[0], **{k: call.params[k] for k in OPS["max_pool"]})
    return bool((index < 0).any())


def _subnormal_input(call) -> bool:
    """The first array holds a subnormal number (0 < |x| < the dtype's smallest normal)."""
    if not call.arrays:
        return False
    x = np.asarray(call.arrays[0])
    if x.dtype.kind != "f" and x.dtype.name != "bfloat16":
        return False
    import ml_dtypes

    magnitude = np.abs(x.astype(np.float64))
    return bool(((magnitude > 0) & (magnitude < float(ml_dtypes.finfo(x.dtype).tiny))).any())


def _window_of_minus_infinity(call) -> bool:
    """A max-pool window whose elements (padding included) are all -inf: its max is -inf."""
    if call.op != "max_pool" or not call.arrays:
        return False
    out = ref.max_pool(call.arrays[0], **{k: call.params[k] for k in OPS["max_pool"]})
    return bool(np.isneginf(out).any())


def _alpha_inexact_in_float32(call) -> bool:
    """The call's alpha is not a float32 number (a library that stores alpha as a 32-bit
    attribute rounds it, to 0 for a tiny one)."""
    alpha = call.params.get("alpha")
    return alpha is not None and float(np.float32(alpha)) != float(alpha)


# Facts about a failing call that a deviation's `when` may name.
def _unpool_default_size_below_one(call) -> bool:
    """A max_unpool call whose default output size, (i-1)*s - pb - pe + k, is below 1 on some
    axis (the call gives output_size, which the default then does not matter for)."""
    if call.op != "max_unpool" or not call.arrays:
        return False
    pads = call.params["pads"]
    return isinstance(pads, (tuple, list)) and any(
        (i - 1) * s - pb - pe + k < 1 for i, s, (pb, pe), k in zip(
            np.shape(call.arrays[0])[2:], call.params["strides"], pads,
            call.params["kernel_shape"]))


def _plane_sum_overflows(call) -> bool:
    """Some (n, c) plane of the first array sums past its dtype's largest finite number (a
    running sum kept in the input's dtype overflows there)."""
    if not call.arrays or np.ndim(call.arrays[0]) < 3:
        return False
    x = np.asarray(call.arrays[0])
    import ml_dtypes  # here, as in _subnormal_input: not on the import path of `cnnspec run`

    total = np.abs(x.astype(np.float64).sum(axis=tuple(range(2, x.ndim))))
    return bool((total > float(ml_dtypes.finfo(x.dtype).max)).any())


CONDITIONS = {"window_without_input": _window_without_input,
              "plane_sum_overflows": _plane_sum_overflows,
              "unpool_default_size_below_one": _unpool_default_size_below_one,
              "subnormal_input": _subnormal_input,
              "window_of_minus_infinity": _window_of_minus_infinity,
              "alpha_inexact_in_float32": _alpha_inexact_in_float32}
# What a check attaches to its failures (keywords of `Probe.fail` and `expect_*` beyond their
# own), which `when` may name too; a test keeps this list in step with the checks.
FACTS = ("case", "explicit_pads", "layers", "rates", "shift", "tap")
# Every key `when` takes: the op, the input's dtype and number of spatial axes (its ndim - 2),
# any keyword of the protocol's ops, the facts and the conditions. Any other key is a typo,
# which would never match.
WHEN_KEYS = ("op", "dtype", "spatial_axes", *dict.fromkeys(k for keys in OPS.values() for k in keys),
             *FACTS, *CONDITIONS, "axes")
KINDS = ("documented convention", "bug")
ENTRY_KEYS = ("rule", "when", "observed", "kind", "evidence", "raises", "crashes")
SET_TESTS = ("in", "not_in")
COMPARISONS = {"<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
               ">=": operator.ge, ">": operator.gt}
# The per-axis quantities `axes` compares: the input's and the weight's spatial sizes, the
# padding's begins and ends, and the protocol's per-axis keywords (the op table's).
PER_AXIS = ("input", "kernel", "pads_begin", "pads_end", *PER_AXIS_KEYWORDS)


@dataclass(frozen=True)
class AxisTest:
    """`any kernel_shape < strides`: a comparison per spatial axis, over any or all of them."""

    quantifier: str
    left: str
    compare: str
    right: str

    @classmethod
    def parse(cls, text: str, where: str) -> "AxisTest":
        words = str(text).split()
        form = f'{where}: axes={text!r}: write "any|all QUANTITY OP QUANTITY|INTEGER", such as ' \
               f'"any kernel_shape < strides"; quantities: {", ".join(PER_AXIS)}'
        if len(words) != 4 or words[0] not in ("any", "all") or words[2] not in COMPARISONS:
            raise UsageError(form)
        for term in (words[1], words[3]):
            if term not in PER_AXIS and not term.lstrip("-").isdigit():
                near = difflib.get_close_matches(term, PER_AXIS, n=1)
                hint = f"did you mean {near[0]!r}? " if near else ""
                raise UsageError(f"{where}: axes={text!r}: unknown quantity {term!r}: {hint}"
                                 f"the quantities are {', '.join(PER_AXIS)}")
        return cls(*words)

    def holds(self, call) -> bool:
        left, right = _per_axis(call, self.left), _per_axis(call, self.right)
        if left is None or right is None:
            return False
        if isinstance(right, int):
            right = (right,) * len(left)
        if isinstance(left, int):
            left = (left,) * len(right)
        results = [COMPARISONS[self.compare](a, b) for a, b in zip(left, right)]
        return bool(results) and (any(results) if self.quantifier == "any" else all(results))

    def __str__(self):
        return f"{self.quantifier} {self.left} {self.compare} {self.right}"


def _per_axis(call, name: str):
    """One per-axis quantity of `call`, a tuple (an int for a literal), or None if it lacks it."""
    if name.lstrip("-").isdigit():
        return int(name)
    arrays = [a for a in call.arrays if a is not None]
    if name == "input":
        return tuple(np.shape(arrays[0])[2:]) if arrays else None
    if name == "kernel":
        weighted = call.op in TABLE and "weight" in (a.layout for a in TABLE[call.op].arrays)
        return tuple(np.shape(arrays[1])[2:]) if weighted and len(arrays) > 1 else None
    if name in ("pads_begin", "pads_end"):
        pads = call.params.get("pads")
        if pads is None or isinstance(pads, str):
            return None
        return tuple(pair[0 if name == "pads_begin" else 1] for pair in pads)
    value = call.params.get(name)
    return tuple(value) if isinstance(value, (list, tuple)) else None


@dataclass(frozen=True)
class Deviation:
    rule: str
    observed: str
    kind: str
    evidence: str
    when: dict = field(default_factory=dict)
    raises: str | None = None  # the class name of the error the adapter raises ("*": any)
    crashes: bool = False  # the call kills the process: the suite does not make it

    def matches(self, call, data=None) -> bool:
        """Whether the failing `call` (the last of a failure's calls), with the facts the check
        attached to its failure (`data`, e.g. `case`), is what this entry declares."""
        if call is None:
            return not self.when
        first = next((a for a in call.arrays if a is not None), None)
        facts = {"op": call.op, **call.params, **(data or {})}
        if first is not None:
            facts["dtype"] = np.asarray(first).dtype.name
            facts["spatial_axes"] = np.ndim(first) - 2
        for key, value in self.when.items():
            if key in CONDITIONS:
                if CONDITIONS[key](call) != value:
                    return False
            elif key == "axes":
                if not all(test.holds(call) for test in value):
                    return False
            elif isinstance(value, dict):
                fact = _normalise(facts.get(key))
                wanted = [_normalise(v) for v in value.get("in", value.get("not_in", []))]
                if (fact in wanted) != ("in" in value):
                    return False
            elif _normalise(facts.get(key)) != _normalise(value):
                return False
        return True

    def explains_error(self, call, error: BaseException) -> bool:
        """Whether this entry declares that `call` raises `error`."""
        if self.raises is None or not self.matches(call):
            return False
        names = {cls.__name__ for cls in type(error).__mro__}
        return self.raises == "*" or self.raises in names

    def as_dict(self) -> dict:
        when = {k: [str(t) for t in v] if k == "axes" else v for k, v in self.when.items()}
        out = {"observed": self.observed, "kind": self.kind, "evidence": self.evidence,
               "when": when}
        if self.raises is not None:
            out["raises"] = self.raises
        if self.crashes:
            out["crashes"] = True
        return out


def _normalise(value):
    if isinstance(value, (list, tuple)):
        return tuple(_normalise(v) for v in value)
    return value


def parse(text: str, source: str) -> list[Deviation]:
    """The entries of one deviations file; a malformed entry is a one-line UsageError (exit 2)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{source}: not valid TOML: {error}") from None
    entries = []
    unknown = [key for key in data if key != "deviation"]
    if unknown:
        raise UsageError(f"{source}: unknown table {unknown[0]!r}; entries are [[deviation]]")
    for number, entry in enumerate(data.get("deviation", [])):
        where = f"{source}: deviation[{number}]"
        missing = [k for k in ("rule", "observed", "kind", "evidence") if k not in entry]
        if missing:
            raise UsageError(f"{where} lacks {', '.join(missing)}")
        _known_keys(entry, ENTRY_KEYS, where, "an entry's keys")
        if not isinstance(entry.get("when", {}), dict):
            raise UsageError(f"{where}: when must be a table, such as when = {{ op = \"relu\" }}")
        _known_keys(entry.get("when", {}), WHEN_KEYS, f"{where}: when", "when's keys")
        rules = entry["rule"] if isinstance(entry["rule"], list) else [entry["rule"]]
        for rule in rules:
            if rule not in RULES:
                near = difflib.get_close_matches(str(rule), RULES, n=1)
                hint = f": did you mean {near[0]!r}?" if near else ""
                raise UsageError(f"{where}: rule={rule!r} is not a rule id{hint}")
        if entry["kind"] not in KINDS:
            raise UsageError(f"{where}: kind={entry['kind']!r} must be one of {KINDS}")
        if not str(entry["evidence"]).startswith(("http://", "https://")):
            raise UsageError(f"{where}: evidence={entry['evidence']!r} must be a link")
        unknown = [k for k, v in entry.get("when", {}).items()
                   if k in CONDITIONS and not isinstance(v, bool)]
        if unknown:
            raise UsageError(f"{where}: when.{unknown[0]} is a condition: true or false")
        when = dict(entry.get("when", {}))
        for key, value in when.items():
            if isinstance(value, dict) and (len(value) != 1 or next(iter(value)) not in SET_TESTS
                                            or not isinstance(next(iter(value.values())), list)):
                raise UsageError(f"{where}: when.{key}={value!r}: a table is a set test, "
                                 f"{{ in = [...] }} or {{ not_in = [...] }}")
        if "axes" in when:
            tests = when["axes"] if isinstance(when["axes"], list) else [when["axes"]]
            when["axes"] = tuple(AxisTest.parse(t, where) for t in tests)
        raises, crashes = entry.get("raises"), entry.get("crashes", False)
        if raises is not None and not (isinstance(raises, str) and raises.strip()):
            raise UsageError(f"{where}: raises={raises!r}: give the error's class name, such "
                             f"as \"InvalidArgumentError\", or \"*\" for any")
        if not isinstance(crashes, bool) or (crashes and raises is not None):
            raise UsageError(f"{where}: crashes={crashes!r}: true or false, and not with raises")
        entries += [Deviation(rule, entry["observed"], entry["kind"], entry["evidence"], when,
                              raises, crashes) for rule in rules]
    return entries


def _known_keys(table: dict, known, where: str, what: str) -> None:
    for key in table:
        if key not in known:
            near = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise UsageError(f"{where}: unknown key {key!r}: {hint}{what} are "
                             f"{', '.join(known)}")


def for_adapter(adapter) -> list[Deviation]:
    """The adapter's own deviations file (`deviations_file` attribute), else the built-in ones:
    `<name>.toml`, and for a multi-backend framework `<name>.<backend>.toml` too. A recipes
    adapter (`recipes_for`, cnnspec.recipes.adapter) keeps its base's, less those its recipes
    replace (`replaces_deviation(rule, when)`)."""
    path = getattr(adapter, "deviations_file", None)
    base = getattr(adapter, "recipes_for", None)  # NAME+recipes: NAME's, less what they replace
    if path is None and base is not None:
        return [entry for entry in builtin_deviations(base, getattr(adapter, "backend", None))
                if not adapter.replaces_deviation(entry.rule, entry.when)]
    if path is None:
        return builtin_deviations(adapter.name, getattr(adapter, "backend", None))
    if not Path(path).is_file():
        raise UsageError(f"adapter {adapter.name!r}: its deviations_file {str(path)!r} is not a "
                         f"file")
    return _read(Path(path))


def builtin_deviations(name: str, backend: str | None = None) -> list[Deviation]:
    """The deviations cnnspec ships for the adapter named `name` (none for an unknown name).
    On a `backend` (keras on tensorflow, say) the backend's own kernels run underneath, so its
    file applies too, with `<name>.<backend>.toml` for what the framework adds; without a
    backend every such file is read (to validate them all)."""
    paths = [DEVIATIONS_DIR / f"{name}.toml"]
    if backend:
        paths += [DEVIATIONS_DIR / f"{backend}.toml", DEVIATIONS_DIR / f"{name}.{backend}.toml"]
    else:
        paths += sorted(DEVIATIONS_DIR.glob(f"{name}.*.toml"))
    return [entry for path in paths for entry in _read(path)]


def _read(path: Path) -> list[Deviation]:
    return parse(path.read_text(encoding="utf-8"), str(path)) if path.is_file() else []
