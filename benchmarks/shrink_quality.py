"""How simple the counterexamples are: each mutant of tests/mutants.py on the rule that catches it.

    python benchmarks/shrink_quality.py [--profile ci] [--json PATH]

For each mutant the rule runs in this process (`cnnspec.conformance.runner.run`) and the
failing row's counterexample is measured over the arrays of its calls (inputs and cotangent;
index arrays left out): the number of elements, of non-zero elements, and of distinct values
(NaN counted once). A shrunk counterexample that is "mostly zeros, one or two distinct
non-zeros" has few of both. Prints a row per mutant and the medians; the issue on coverage
(point 5) asks for these medians before and after values are drawn through Hypothesis.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from mutants import MUTANTS  # noqa: E402  (tests/ is not a package)

from cnnspec.conformance.runner import run  # noqa: E402
from cnnspec.reports.results import decode_number  # noqa: E402


def measure(counterexample: dict) -> dict:
    """Elements, non-zeros and distinct values over the float arrays of the counterexample."""
    values = []
    for call in counterexample.get("calls", []):
        for array in call.get("arrays", []):  # a VJP's cotangent is its last array
            if "values" not in array or not array.get("dtype", "").startswith(("float", "bfloat")):
                continue
            values.extend(_flat(array["values"]))
    distinct = {("nan" if value != value else value) for value in values}
    return {"elements": len(values), "non_zero": sum(1 for value in values if value != 0),
            "distinct": len(distinct)}


def _flat(nested):
    if isinstance(nested, list):
        for item in nested:
            yield from _flat(item)
    else:
        yield _number(nested)


def _number(value):
    """A number of the strict JSON ("nan", "inf", "-inf" for the non-finite) as a float."""
    return decode_number(value)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="ci", choices=("quick", "ci", "thorough"))
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    rows = []
    print(f"{'mutant':34} {'rule':36} {'elements':>8} {'non-zero':>8} {'distinct':>8}")
    for mutant, rule_id in sorted(MUTANTS.items()):
        results = run(f"{REPO / 'tests' / 'mutants.py'}:{mutant}", profile=args.profile,
                      prefixes=(rule_id,), timeout=None)
        (row,) = [r for r in results.rules if r.id == rule_id]
        if row.status != "fail" or not row.counterexample:
            print(f"{mutant:34} {rule_id:36} {row.status} (no counterexample)")
            continue
        figures = {"mutant": mutant, "rule": rule_id, **measure(_plain(row.counterexample))}
        rows.append(figures)
        print(f"{mutant:34} {rule_id:36} {figures['elements']:8} {figures['non_zero']:8} "
              f"{figures['distinct']:8}")
    medians = {key: statistics.median(r[key] for r in rows)
               for key in ("elements", "non_zero", "distinct")}
    print(f"median over {len(rows)} counterexamples: {medians['elements']:g} elements, "
          f"{medians['non_zero']:g} non-zero, {medians['distinct']:g} distinct values")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "medians": medians}, indent=2) + "\n")
    return 0


def _plain(counterexample) -> dict:
    return json.loads(json.dumps(counterexample, default=str))


if __name__ == "__main__":
    sys.exit(main())
