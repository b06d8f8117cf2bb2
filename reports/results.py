"""The results model (schema `cnnspec.results/3`): plain data, written as JSON, rendered later.

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
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

SCHEMA = "cnnspec.results/3"
READABLE = ("cnnspec.results/1", "cnnspec.results/2", SCHEMA)
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


@dataclass
class RuleResult:
    id: str
    status: str
    examples: int = 0  # examples checked
    declined: int = 0  # examples drawn that the adapter declined (nothing checked)
    digest: str | None = None  # of the checked examples' drawn arguments (conformance/digest.py)
    message: str | None = None
    counterexample: dict | None = None
    reproducer: str | None = None
    max_error: float | None = None
    convention: str | None = None
    deviation: dict | None = None
    notes: list = field(default_factory=list)
    duration_s: float | None = None  # wall time of the rule's checks
    adapter_s: float | None = None  # of which inside the adapter's calls
    recipes: dict | None = None  # NAME+recipes: {recipe import path: examples it ran on}


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
        """Writes the JSON atomically: a temporary file beside `path`, then a rename. The file
        gets the permissions of any new file (0666 less the umask), not mkstemp's 0600."""
        path = Path(path)
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"
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

    @classmethod
    def from_dict(cls, data: dict) -> Results:
        rules = [RuleResult(**{**rule, "max_error": decode_number(rule.get("max_error"))})
                 for rule in data["rules"]]
        return cls(adapter=data["adapter"], suite=data["suite"], rules=rules,
                   schema=data["schema"])


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
