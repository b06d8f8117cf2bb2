"""The results model (schema `cnnspec.results/4`): plain data, written as JSON, rendered later.

One `Results` per adapter run: the adapter, the suite run, and one `RuleResult` per rule id.
`status` is pass, fail, deviation (failed as an expectations entry says), unsupported (the
framework lacks the option) or error (the adapter crashed or hung).

The file is strict JSON (RFC 8259 has no NaN or Infinity): a non-finite number anywhere in it,
such as the `max_error` of an implementation that returned NaN, is written as the string
"nan", "inf" or "-inf", and read back as a float. Version 2 differs from version 1 in that
encoding and in `declined` (the draws an adapter declined; `examples` counts the checked ones),
so files of version 1 are read too. Version 3 adds each row's `digest` of the examples it
checked and `recipes` (which recipes a `NAME+recipes` adapter ran, on how many examples), and
`suite.shard`, the shard of a run that `cnnspec run --shard K/N` split (cnnspec.reports.merge
merges the shards); files of versions 1 and 2, which have none of them, are read as whole runs.

Version 4 keeps what the report shows as fields, never as text to parse back: a row's
`headline` (quantity, got, expected, call, rule), `mismatch` and `error_map` (once inside the
counterexample), `reasons` (why a rule is unsupported, or the parts of its domain a passing or
deviating row left out: a list, once a "partly unsupported: a; b" note), `also_declared` and
`stale` (deviation entries: observed, evidence), `shrink_stopped_s` and `conventions` (name ->
examples that showed it, once a "; "-joined string). `message` stays the human text (the
headline line and the mismatch block, or the whole error), printed whole and never parsed. A
row of versions 1-3 is converted once, when read (`upgrade_row`): the one place old text is
parsed. Every JSON this package writes goes through `dumps`.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

SCHEMA = "cnnspec.results/4"
OLD = ("cnnspec.results/1", "cnnspec.results/2", "cnnspec.results/3")  # rows of text: upgrade_row
READABLE = (*OLD, SCHEMA)
SCHEMA_FILE = Path(__file__).with_name("results.schema.json")
STATUSES = ("pass", "fail", "deviation", "unsupported", "error")
PASSING = ("pass", "deviation", "unsupported")
NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def encode_number(value: float) -> float | str:
    """A float for strict JSON: itself when finite, else "nan", "inf" or "-inf"."""
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"


def decode_number(value):
    """The inverse of `encode_number` (None and numbers pass through)."""
    return NON_FINITE[value] if isinstance(value, str) else value


def strict_json(value):
    """`value` (dicts, lists, tuples, scalars) with every non-finite float encoded."""
    if isinstance(value, dict):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(item) for item in value]
    if isinstance(value, float):
        return encode_number(value)
    return value


def dumps(value) -> str:
    """`value` as strict JSON text (non-finite numbers encoded, `strict_json`), indented, with a
    final newline: the one JSON encoder of the package (results, `cnnspec port --json`,
    `cnnspec rules --json`)."""
    return json.dumps(strict_json(value), indent=2, allow_nan=False, ensure_ascii=False) + "\n"


@dataclass
class Headline:
    """A row's one-line summary, as fields. Rendered by `text`:

        an assertion:  {quantity}={got}, but should be {expected} [{rule}: {call}]
        a raise:       adapter raised in {call}: {raised}
        anything else: {said}  (a call declared to crash, a check's own error, a worker's death)

    `got` and `expected` are as shown (repr, or the words of the check); `call` is the failing
    call's signature (conformance.failures.Call.signature)."""

    rule: str
    call: str | None = None
    quantity: str | None = None
    got: str | None = None
    expected: str | None = None
    raised: str | None = None  # the first line of what the adapter raised: "TypeError: ..."
    said: str | None = None

    def text(self) -> str:
        if self.quantity is not None:
            return (f"{self.quantity}={self.got}, but should be {self.expected} "
                    f"[{self.rule}: {self.call or ''}]")
        if self.raised is not None:
            return f"adapter raised in {self.call}: {self.raised}"
        return self.said or ""


@dataclass
class Declared:
    """A declared deviation that a row names (`also_declared`, `stale`)."""

    observed: str
    evidence: str


@dataclass(frozen=True)
class Note:
    """A remark on a row, rendered: `kind` (PARTLY, ALSO, SHRINKING or STALE), `label` (the
    few words a report cell shows) and `text` (the whole remark, one line)."""

    kind: str
    label: str
    text: str


PARTLY, ALSO, SHRINKING, STALE = ("partly unsupported", "also declared", "shrinking stopped",
                                  "stale deviation")


@dataclass
class RuleResult:
    id: str
    status: str
    examples: int = 0  # examples checked
    declined: int = 0  # examples drawn that the adapter declined (nothing checked)
    digest: str | None = None  # of the checked examples' drawn arguments (conformance/digest.py)
    message: str | None = None  # the human text, whole (headline and block, or the error)
    headline: Headline | None = None  # of a fail, deviation or error
    mismatch: dict | None = None  # failures.Mismatch.as_dict() of the failure shown
    error_map: dict | None = None  # {"grid": error / allowed per element, "at": its corner}
    counterexample: dict | None = None  # the failing calls, and the check's own data
    reproducer: str | None = None
    max_error: float | None = None
    conventions: dict = field(default_factory=dict)  # name -> examples (None: not counted)
    deviation: dict | None = None
    reasons: list = field(default_factory=list)  # why unsupported, or the parts left out
    also_declared: list = field(default_factory=list)  # [Declared] the example set aside too
    stale: list = field(default_factory=list)  # [Declared] for this rule that no longer fail
    shrink_stopped_s: float | None = None  # the --shrink-budget that stopped the shrinking
    duration_s: float | None = None  # wall time of the rule's checks
    adapter_s: float | None = None  # of which inside the adapter's calls
    recipes: dict | None = None  # NAME+recipes: {recipe import path: examples it ran on}

    def __post_init__(self):
        """Fields given as JSON data (a row read back, or sent by a worker) become typed."""
        if isinstance(self.headline, dict):
            self.headline = Headline(**self.headline)
        if not isinstance(self.headline, (Headline, type(None))):
            raise ValueError(f"headline is {self.headline!r}, not an object of Headline's fields")
        self.also_declared = [Declared(**d) if isinstance(d, dict) else d
                              for d in self.also_declared]
        self.stale = [Declared(**d) if isinstance(d, dict) else d for d in self.stale]
        self.conventions = dict(sorted(self.conventions.items()))
        self.reasons = list(self.reasons)

    @property
    def convention(self) -> str | None:
        """The conventions recorded, in words ("ignore; propagate"), or None."""
        return "; ".join(self.conventions) or None

    @property
    def partly(self) -> bool:
        """A row that passes or deviates on part of the rule's domain only (`reasons`)."""
        return bool(self.reasons) and self.status != "unsupported"

    def headline_text(self) -> str:
        return self.headline.text() if self.headline else ""

    def reasons_text(self) -> str:
        return "; ".join(self.reasons)

    def summary(self) -> str:
        """The row in one line: the headline, or for an unsupported row its reasons."""
        if self.status == "unsupported":
            return self.reasons_text() or "unsupported"
        return self.headline_text()

    def notes(self) -> list[Note]:
        """The row's remarks, rendered, in the order the report and `cnnspec run` show them."""
        out = [Note(ALSO, ALSO, f"{ALSO}: {d.observed} ({d.evidence})")
               for d in self.also_declared]
        if self.partly:
            out.append(Note(PARTLY, PARTLY, f"{PARTLY}: {self.reasons_text()}"))
        if self.shrink_stopped_s is not None:
            label = (f"{SHRINKING} at its budget of {self.shrink_stopped_s:g} s "
                     f"(--shrink-budget)")
            out.append(Note(SHRINKING, label, f"{label}: the counterexample is the smallest "
                                               f"found by then"))
        out += [Note(STALE, STALE, f"{STALE}: {d.observed} ({d.evidence}) no longer fails")
                for d in self.stale]
        return out


@dataclass
class Results:
    adapter: dict
    suite: dict
    rules: list[RuleResult]
    schema: str = SCHEMA

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for rule in self.rules:
            counts[rule.status] += 1
        return counts

    @property
    def ok(self) -> bool:
        return all(rule.status in PASSING for rule in self.rules)

    def to_dict(self) -> dict:
        """The JSON document: strict (non-finite numbers encoded), always of this SCHEMA."""
        return strict_json({"schema": SCHEMA, "adapter": self.adapter, "suite": self.suite,
                            "rules": [asdict(rule) for rule in self.rules]})

    def write(self, path) -> Path:
        return write_json(path, self.to_dict())

    @classmethod
    def from_dict(cls, data: dict) -> Results:
        """The results of a JSON document of any READABLE schema (old rows: `upgrade_row`)."""
        old = data.get("schema") in OLD
        rules = [RuleResult(**{**row, "max_error": decode_number(row.get("max_error"))})
                 for row in (map(upgrade_row, data["rules"]) if old else data["rules"])]
        return cls(adapter=data["adapter"], suite=data["suite"], rules=rules,
                   schema=data["schema"])


def write_json(path, value) -> Path:
    """Writes `dumps(value)` atomically: a temporary file beside `path`, then a rename. The
    file gets the permissions of any new file (0666 less the umask), not mkstemp's 0600."""
    path = Path(path)
    text = dumps(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


_SHRINKING = re.compile(r"shrinking stopped at its budget of (\S+) s")


def upgrade_row(row: dict) -> dict:
    """A row of versions 1-3 in the fields of version 4, converted once, when read: the one
    place that parses a row's text. Its `notes` become `reasons` ("partly unsupported: a; b"),
    `also_declared` and `stale` ("...: OBSERVED (EVIDENCE)") and `shrink_stopped_s`; an
    unsupported row's message ("a; b") its `reasons`; `convention` ("a; b") `conventions`,
    uncounted (None); the counterexample's `mismatch`, `error_map` and `error_map_at` their own
    fields. The headline is the message's first line, kept as it was said (`said`): an old
    quantity may hold "=" itself, so quantity and value cannot be told apart reliably."""
    row = dict(row)
    notes = row.pop("notes", None) or []
    convention = row.pop("convention", None)
    message = row.get("message")
    upgraded: dict = {"reasons": [], "also_declared": [], "stale": []}
    for note in notes:
        kind, _, rest = note.partition(": ")
        if kind == PARTLY:
            upgraded["reasons"] = rest.split("; ")
        elif kind == ALSO:
            upgraded["also_declared"].append(_declared(rest))
        elif kind == STALE:
            upgraded["stale"].append(_declared(rest.removesuffix(" no longer fails")))
        elif _SHRINKING.match(note):
            upgraded["shrink_stopped_s"] = float(_SHRINKING.match(note)[1])
    if row["status"] == "unsupported" and message and message != "unsupported":
        upgraded["reasons"] = message.split("; ")
    if row["status"] in ("fail", "error", "deviation") and message:
        upgraded["headline"] = {"rule": row["id"], "said": message.splitlines()[0]}
    upgraded["conventions"] = dict.fromkeys(convention.split("; ")) if convention else {}
    counterexample = row.get("counterexample")
    if counterexample:
        counterexample = dict(counterexample)
        upgraded["mismatch"] = counterexample.pop("mismatch", None)
        grid, at = counterexample.pop("error_map", None), counterexample.pop("error_map_at", None)
        upgraded["error_map"] = {"grid": grid, "at": at} if grid is not None else None
        upgraded["counterexample"] = counterexample
    return {**row, **upgraded}


def _declared(text: str) -> dict:
    """"OBSERVED (EVIDENCE)" of an old note: observed and evidence."""
    observed, _, evidence = text.rpartition(" (")
    return {"observed": observed, "evidence": evidence.removesuffix(")")}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


class ResultsError(ValueError):
    """Unreadable or mismatched results: one line naming the file, the JSON path and the fix."""


def _require(data, path: str, key: str, kind, where: str):
    if not isinstance(data, dict) or key not in data:
        raise ResultsError(f"{where}: {path} has no {key!r}; is this a cnnspec results file?")
    if not isinstance(data[key], kind):
        raise ResultsError(f"{where}: {path}.{key} must be a {kind.__name__}")
    return data[key]


def load(path) -> Results:
    """Reads and checks one results file; every problem is a one-line ResultsError."""
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{where}: no such results file") from None
    except OSError as error:
        raise ResultsError(f"{where}: cannot read it: {error.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ResultsError(f"{where}: not JSON (line {error.lineno}, column {error.colno}: "
                           f"{error.msg})") from None
    found = data.get("schema") if isinstance(data, dict) else None
    if found not in READABLE:
        readable = f"{', '.join(map(repr, READABLE[:-1]))} and {READABLE[-1]!r}"
        raise ResultsError(f"{where}: $.schema is {found!r}, but this cnnspec reads {readable}; "
                           f"re-run `cnnspec run` with this version")
    adapter = _require(data, "$", "adapter", dict, where)
    for key in ("name", "framework", "version", "device"):
        _require(adapter, "$.adapter", key, str, where)
    suite = _require(data, "$", "suite", dict, where)
    if "shard" in suite:
        for key, kind in (("index", int), ("count", int), ("rules", list), ("selected", int),
                          ("selection", str)):
            _require(suite["shard"], "$.suite.shard", key, kind, where)
    rules = _require(data, "$", "rules", list, where)
    for index, rule in enumerate(rules):
        at = f"$.rules[{index}]"
        _require(rule, at, "id", str, where)
        status = _require(rule, at, "status", str, where)
        if status not in STATUSES:
            raise ResultsError(f"{where}: {at}.status is {status!r}, not one of "
                               f"{', '.join(STATUSES)}")
    try:
        return Results.from_dict(data)
    except TypeError as error:
        raise ResultsError(f"{where}: a rule row has unknown fields ({error})") from None
    except (AttributeError, ValueError, KeyError) as error:
        raise ResultsError(f"{where}: a rule row has a field of the wrong form "
                           f"({type(error).__name__}: {error}); is it a cnnspec results "
                           f"file, as written?") from None
