"""The results model (schema `cnnspec.results/1`): plain data, written as JSON, rendered later.

One `Results` per adapter run: the adapter, the suite run, and one `RuleResult` per rule id.
`status` is pass, fail, deviation (failed as an expectations entry says), unsupported (the
framework lacks the option) or error (the adapter crashed or hung).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

SCHEMA = "cnnspec.results/1"
SCHEMA_FILE = Path(__file__).with_name("results.schema.json")
STATUSES = ("pass", "fail", "deviation", "unsupported", "error")
PASSING = ("pass", "deviation", "unsupported")


@dataclass
class RuleResult:
    id: str
    status: str
    examples: int = 0
    message: str | None = None
    counterexample: dict | None = None
    reproducer: str | None = None
    max_error: float | None = None
    convention: str | None = None
    deviation: dict | None = None
    notes: list = field(default_factory=list)
    duration_s: float | None = None  # wall time of the rule's checks
    adapter_s: float | None = None  # of which inside the adapter's calls


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
        return {"schema": self.schema, "adapter": self.adapter, "suite": self.suite,
                "rules": [asdict(rule) for rule in self.rules]}

    def write(self, path) -> Path:
        """Writes the JSON atomically: a temporary file beside `path`, then a rename."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(self.to_dict(), stream, indent=2, allow_nan=False)
            stream.write("\n")
        os.replace(temporary, path)
        return path

    @classmethod
    def from_dict(cls, data: dict) -> Results:
        return cls(adapter=data["adapter"], suite=data["suite"],
                   rules=[RuleResult(**rule) for rule in data["rules"]], schema=data["schema"])


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
    if found != SCHEMA:
        raise ResultsError(f"{where}: $.schema is {found!r}, but this cnnspec reads {SCHEMA!r}; "
                           f"re-run `cnnspec run` with this version")
    adapter = _require(data, "$", "adapter", dict, where)
    for key in ("name", "framework", "version", "device"):
        _require(adapter, "$.adapter", key, str, where)
    _require(data, "$", "suite", dict, where)
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
