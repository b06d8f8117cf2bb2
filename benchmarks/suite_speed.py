"""How fast the conformance suite runs: per adapter, together, under pytest-xdist (issue: speed).

    python benchmarks/suite_speed.py [--parts adapters,together,pytest] [--adapter NAME ...]
                                     [--profile ci] [--json PATH]

- adapters: each adapter alone, in one process (`cnnspec run --jobs 0`): wall time of the
  profile, examples per second, milliseconds per example, and the share of the rules' time spent
  inside the adapter's calls (the framework, with its conversions) against the harness
  (generation, reference, comparison). JAX twice: with an empty compilation cache (cold, as on a
  fresh CI machine) and again with the cache the first run left (warm).
- together: README's command, the four adapters with `--jobs 2`, cold and warm.
- pytest: the pytest route (`pytest --pyargs cnnspec.conformance --adapter A`) with one worker
  and with `-n 2`, and whether every test got the same outcome.

Every run is a subprocess, so imports and compilation count as a user sees them. Figures depend
on the machine; README has those of the 2-core machine the targets are set for. The float64
reference against torch is `benchmarks/reference_vs_torch.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ADAPTERS = ("numpy", "torch", "tensorflow", "jax")


def cnnspec_run(adapters, *, profile, jobs, cache_dir, folder) -> tuple[float, list[dict]]:
    """Wall time of one `cnnspec run` and its results (one dict per adapter)."""
    out = Path(folder) / "results.json"
    args = [sys.executable, "-m", "cnnspec", "run", "--profile", profile, "--jobs", str(jobs),
            "--json", str(out)]
    for adapter in adapters:
        args += ["--adapter", adapter]
    env = {**os.environ, "CNNSPEC_CACHE_DIR": str(cache_dir)}
    start = time.perf_counter()
    shown = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    if shown.returncode not in (0, 1):
        sys.exit(f"cnnspec run failed ({shown.returncode}): {shown.stderr.strip()}")
    paths = [out] if len(adapters) == 1 else [
        out.with_name(f"results-{adapter}.json") for adapter in adapters]
    return wall, [json.loads(path.read_text()) for path in paths]


def adapter_row(label: str, wall: float, data: dict) -> dict:
    rules = data["rules"]
    # every draw costs time, checked or declined by the adapter (`declined`: results schema 2)
    examples = sum(rule["examples"] + rule.get("declined", 0) for rule in rules)
    spent = sum(rule.get("duration_s") or 0 for rule in rules)
    inside = sum(rule.get("adapter_s") or 0 for rule in rules)
    return {"adapter": label, "version": data["adapter"]["version"], "wall_s": round(wall, 1),
            "suite_s": data["suite"]["duration_s"], "examples": examples,
            "examples_per_s": round(examples / spent, 1) if spent else None,
            "ms_per_example": round(1e3 * spent / examples, 2) if examples else None,
            "in_adapter": round(inside / spent, 3) if spent else None}


def part_adapters(adapters, profile) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder) / "cache"
        for adapter in adapters:
            runs = ("cold", "warm") if adapter == "jax" else ("",)
            for when in runs:
                wall, (data,) = cnnspec_run([adapter], profile=profile, jobs=0,
                                            cache_dir=cache, folder=folder)
                label = f"{adapter} ({when} cache)" if when else adapter
                rows.append(adapter_row(label, wall, data))
                print_adapter_rows(rows[-1:], header=len(rows) == 1)
    return rows


def print_adapter_rows(rows, header=True):
    if header:
        print(f"{'adapter':<20} {'version':<12} {'wall':>7} {'examples':>9} {'ex/s':>7} "
              f"{'ms/ex':>7} {'in adapter':>10}")
    for row in rows:
        print(f"{row['adapter']:<20} {row['version']:<12} {row['wall_s']:>6.1f}s "
              f"{row['examples']:>9} {row['examples_per_s']:>7} {row['ms_per_example']:>7} "
              f"{row['in_adapter']:>10.0%}", flush=True)


def part_together(adapters, profile) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder) / "cache"
        for when in ("cold", "warm"):
            wall, results = cnnspec_run(adapters, profile=profile, jobs=2, cache_dir=cache,
                                        folder=folder)
            per = {r["adapter"]["name"]: r["suite"]["duration_s"] for r in results}
            rows.append({"run": f"{', '.join(adapters)} --jobs 2 ({when} cache)",
                         "wall_s": round(wall, 1), "per_adapter_s": per})
            print(f"{rows[-1]['run']}: {wall:.1f} s  "
                  + ", ".join(f"{name} {s:.0f} s" for name, s in per.items()), flush=True)
    return rows


def pytest_outcomes(junit: Path) -> dict:
    outcomes = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        states = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[f"{case.get('classname')}.{case.get('name')}"] = states[0] if states else "passed"
    return outcomes


def part_pytest(adapter, profile) -> dict:
    row = {"adapter": adapter}
    with tempfile.TemporaryDirectory() as folder:
        for workers in ("0", "2"):
            junit = Path(folder) / f"junit-{workers}.xml"
            args = [sys.executable, "-m", "pytest", "--pyargs", "cnnspec.conformance",
                    "--adapter", adapter, "--cnnspec-profile", profile, "-q",
                    "-p", "no:cacheprovider", "-n", workers, f"--junit-xml={junit}"]
            start = time.perf_counter()
            subprocess.run(args, capture_output=True, text=True, check=False,
                           env={**os.environ, "CNNSPEC_CACHE_DIR": str(Path(folder) / workers)})
            row[f"wall_n{workers}_s"] = round(time.perf_counter() - start, 1)
            row[f"outcomes_n{workers}"] = pytest_outcomes(junit)
    same = row.pop("outcomes_n0") == row.pop("outcomes_n2")
    row["speedup"] = round(row["wall_n0_s"] / row["wall_n2_s"], 2)
    row["same_outcomes"] = same
    print(f"pytest --adapter {adapter}: 1 worker {row['wall_n0_s']:.1f} s, -n 2 "
          f"{row['wall_n2_s']:.1f} s = {row['speedup']:.2f}x, same outcomes: {same}", flush=True)
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="adapters,together,pytest",
                        help="comma-separated: adapters, together, pytest")
    parser.add_argument("--adapter", action="append", choices=ADAPTERS,
                        help="adapters to time (default: all four)")
    parser.add_argument("--pytest-adapter", default="torch",
                        help="the adapter of the pytest part (default torch)")
    parser.add_argument("--profile", default="ci", choices=("quick", "ci", "thorough"))
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    adapters = args.adapter or list(ADAPTERS)
    parts = args.parts.split(",")
    print(f"{os.cpu_count()} CPUs, python {sys.version.split()[0]}, profile {args.profile}")
    figures = {}
    if "adapters" in parts:
        figures["adapters"] = part_adapters(adapters, args.profile)
    if "together" in parts:
        figures["together"] = part_together(adapters, args.profile)
    if "pytest" in parts:
        figures["pytest"] = part_pytest(args.pytest_adapter, args.profile)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
