"""Writes conformance/rule_costs.toml, the seconds per rule that `cnnspec run --shard K/N`
balances its shards by, from the results of whole `ci` runs (each row's `duration_s`).

    cnnspec run --adapter torch --profile ci --jobs 1 --json out/torch.json
    python benchmarks/rule_costs.py out/torch.json out/numpy.json ... [--output PATH]

One table per adapter (its results' adapter name); `--jobs 1` (one worker, nothing beside it)
keeps a rule's time its own. A JAX run with an empty CNNSPEC_CACHE_DIR measures what a fresh CI
machine pays (compilation included).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[1] / "conformance" / "rule_costs.toml"


def toml_text(runs: list[dict], notes=()) -> str:
    lines = ["# Seconds per rule of whole `ci` runs (each row's duration_s), one table per adapter:",
             "# what `cnnspec run --shard K/N` balances its shards by (cnnspec.conformance.shards).",
             "# Written by benchmarks/rule_costs.py from runs with --jobs 1, on:"]
    for data in runs:
        machine = data["suite"].get("machine", {})
        lines.append(f"#   {data['adapter']['name']} {data['adapter']['version']}: "
                     f"{machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, "
                     f"cnnspec {data['suite']['version']}, {data['suite']['started']}")
    lines += [f"# {note}" for note in notes]
    for data in sorted(runs, key=lambda d: d["adapter"]["name"]):
        lines += ["", f"[{data['adapter']['name']}]"]
        lines += [f'"{row["id"]}" = {row["duration_s"]:.3f}' for row in data["rules"]
                  if row.get("duration_s") is not None]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="results JSON of whole ci runs")
    parser.add_argument("--output", default=str(OUTPUT), help=f"default {OUTPUT}")
    parser.add_argument("--note", action="append", default=[],
                        help="a line for the table's header: how it was measured (repeatable)")
    args = parser.parse_args()
    runs = [json.loads(Path(path).read_text(encoding="utf-8")) for path in args.results]
    for path, data in zip(args.results, runs):
        if data["suite"].get("shard") or data["suite"].get("partial"):
            parser.error(f"{path}: a shard or a partial run; give whole runs")
    Path(args.output).write_text(toml_text(runs, args.note), encoding="utf-8")
    print(f"wrote {args.output} ({len(runs)} adapters)")


if __name__ == "__main__":
    main()
