"""The `cnnspec` command line: `rules`, `explain ID`, `run`, `report` and `gate`.

Exit status: 0 on success; 1 when a run has a fail or an error (or was interrupted) and when
the gate finds a regression; 2 on a usage error (an unknown rule id, adapter or profile, an
unreadable results file, ...), with one line on stderr that names the bad value and the fix.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import textwrap
from dataclasses import asdict
from pathlib import Path

import cnnspec
from cnnspec import __version__
from cnnspec.conformance import shards
from cnnspec.conformance.options import SHRINK_BUDGET_S, shrink_budget_seconds, timeout_seconds


def _rule_record(rule) -> dict:
    """A rule as JSON: its fields, each worked example as the text the catalogue shows."""
    from cnnspec.spec.worked_examples import written

    record = asdict(rule)
    record["examples"] = [dict(zip(("expression", "expected"), written(example)), note=example.note)
                          for example in rule.examples]
    return record


def _rules(args) -> int:
    from cnnspec.spec import RULES

    if args.markdown:
        from cnnspec.spec.markdown import spec_markdown

        sys.stdout.write(spec_markdown())
    elif args.json:
        from cnnspec.reports.results import dumps

        sys.stdout.write(dumps([_rule_record(rule) for rule in RULES.values()]))
    else:
        width = max(len(rule_id) for rule_id in RULES)
        for rule in RULES.values():
            print(f"{rule.id:<{width}}  {rule.kind:<10}  {rule.title}")
        print(f"\n{len(RULES)} rules; `cnnspec explain ID` prints one with its formula and sources.")
    return 0


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, width=96, initial_indent=indent, subsequent_indent=indent)


def _new_adapter(args) -> int:
    """Writes the adapter template (cnnspec.adapters.template) to PATH, never over a file."""
    from pathlib import Path

    from cnnspec.adapters import template

    path = Path(args.path if args.path.endswith(".py") else f"{args.path}.py")
    if path.exists():
        raise cnnspec.UsageError(f"{path} exists: give a new file name")
    if not path.parent.is_dir():
        raise cnnspec.UsageError(f"{path.parent} is not a folder: create it, or give another path")
    path.write_text(Path(template.__file__).read_text(encoding="utf-8"), encoding="utf-8")
    print(f"wrote {path}; try it: cnnspec run --adapter {path}:MyLibrary --rule activation")
    return 0


def _explain(args) -> int:
    from cnnspec.spec import RULES, closest_ids
    from cnnspec.spec.catalogue import symbols_in
    from cnnspec.spec.worked_examples import evaluate, written

    rule = RULES.get(args.rule_id)
    if rule is None:
        near = closest_ids(args.rule_id)
        hint = f"did you mean {', '.join(near)}?" if near else "`cnnspec rules` lists them"
        raise cnnspec.UsageError(f"unknown rule id {args.rule_id!r}: {hint}")
    print(f"{rule.id}: {rule.title}")
    print(f"  kind: {rule.kind}; section: {rule.section}\n")
    print(_wrap(rule.statement) + "\n")
    print("Formula:")
    print(_wrap(rule.formula) + "\n")
    used = symbols_in(rule.formula)
    if used:
        print("Symbols:")
        width = max(len(names) for names, _ in used)
        for names, meaning in used:
            print(textwrap.fill(meaning, width=96, initial_indent=f"  {names:<{width}}  ",
                                subsequent_indent=" " * (width + 4)))
        print()
    if rule.sources:
        print("Sources:")
        for source in rule.sources:
            print(_wrap(source, "  - ").replace("\n  - ", "\n    "))
        print()
    if rule.id == "tolerance.policy":
        from cnnspec.conformance.tolerance import table_text

        print("The table (c per op kind and dtype):")
        print(textwrap.indent(table_text(), "  ") + "\n")
    if rule.examples:
        print("Worked examples (computed now by cnnspec.spec):")
        for example in rule.examples:
            print(f"  >>> {written(example)[0]}")
            print(f"  {evaluate(example)!r}" + (f"    # {example.note}" if example.note else ""))
    return 0


STATUS_MARK = {"pass": "pass", "fail": "FAIL", "deviation": "deviation", "unsupported": "unsupported",
               "error": "ERROR"}


def _json_path(path: str, adapter_ref: str, several: bool) -> str:
    """With several adapters, one file each: `out.json` becomes `out-torch.json`."""
    if not several:
        return path
    stem, dot, suffix = path.rpartition(".")
    name = adapter_ref.replace(":", "_").replace("/", "_")
    return f"{stem}-{name}.{suffix}" if dot else f"{path}-{name}"


def _print_row(row, adapter_ref: str | None = None) -> None:
    counts = [f"{row.examples} examples"] if row.examples or row.declined else []
    counts += [f"{row.declined} declined"] if row.declined else []
    detail = f" ({', '.join(counts)})" if counts else ""
    if row.convention:
        detail += f"  convention: {row.convention}"
    where = f"{adapter_ref}: " if adapter_ref else ""
    print(f"{STATUS_MARK[row.status]:<12} {where}{row.id}{detail}", flush=True)
    if row.status in ("fail", "error"):
        print(textwrap.indent(row.message or "", "    "))
        if row.reproducer:
            print("    reproducer:\n" + textwrap.indent(row.reproducer, "        "))
    elif row.status == "deviation":
        print(f"    declared: {row.deviation['observed']} ({row.deviation['evidence']})")
    elif row.status == "unsupported":
        print(f"    {row.summary()}")
    for note in row.notes():
        print(f"    note: {note.text}")


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """'1 rule', '2 rules'."""
    return f"{count} {noun if count == 1 else plural_form or noun + 's'}"


def _check_output(path: str, option: str, example: str) -> None:
    """Raises a cnnspec.UsageError unless a file can be written at `path`: checked before any work, so
    that a run never ends without its results."""
    target = Path(path)
    if target.is_dir():
        raise cnnspec.UsageError(f"{option} {path}: is a folder; give a file path, such as "
                         f"{target / example}")
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise cnnspec.UsageError(f"{option} {path}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise cnnspec.UsageError(f"{option} {path}: cannot write in {folder}; give a path in a folder "
                         f"you can write to")


class _CtrlC:
    """SIGINT during `cnnspec run`. The first one stops the run (a KeyboardInterrupt, which the
    runner turns into partial results); later ones, and any while the results are written
    (`hold`), are noted and ignored: a second Ctrl-C, or `timeout -s INT`, which signals the
    process and then its group, must not lose the JSON. After one, SIGINT stays ignored until
    the process exits; a caller that ignores SIGINT keeps it ignored."""

    def __init__(self):
        self.seen = False
        self.previous = signal.getsignal(signal.SIGINT)
        self.installed = self.previous is signal.default_int_handler

    def __enter__(self):
        if self.installed:
            signal.signal(signal.SIGINT, self._stop)
        return self

    def _stop(self, signum, frame):
        self.seen = True
        self.hold()
        raise KeyboardInterrupt

    def _note(self, signum, frame):
        self.seen = True

    def hold(self):
        if self.installed:
            signal.signal(signal.SIGINT, self._note)

    def __exit__(self, *exc):
        if self.installed:
            signal.signal(signal.SIGINT, signal.SIG_IGN if self.seen else self.previous)


def _run(args) -> int:
    with _CtrlC() as ctrl_c:
        return _run_suite(args, ctrl_c)


def _run_suite(args, ctrl_c: _CtrlC) -> int:
    """Checks the invocation, runs, then writes what came back; a Ctrl-C at any point still
    writes the rows done, marked partial."""
    refs = list(dict.fromkeys(args.adapter))
    several = len(refs) > 1
    json_paths = {ref: _json_path(args.json, ref, several) for ref in refs} if args.json else {}
    reported = {ref: [] for ref in refs}

    def report(ref, row):
        reported[ref].append(row)
        _print_row(row, ref if several else None)

    planned = {}  # the shard of each adapter, once known
    collected, settings = {}, dict(profile=args.profile, prefixes=args.rule or (),
                                   timeout=args.timeout, seed=args.seed, device=args.device,
                                   shrink_budget=args.shrink_budget, shard=args.shard)
    try:
        for path in dict.fromkeys([args.json, *json_paths.values()] if args.json else []):
            _check_output(path, "--json", "results.json")
        if args.html:
            from cnnspec.reports.html import missing

            _check_output(args.html, "--html", "report.html")
            if missing():
                raise cnnspec.UsageError(f"--html: {missing()}")
        from cnnspec.conformance.runner import check_invocation, run, seed_for
        from cnnspec.conformance.workers import run_all

        settings["seed"] = seed_for(args.profile, args.seed)
        check_invocation(refs, profile=args.profile, prefixes=settings["prefixes"],
                         device=args.device)
        if args.shard:  # for the results of a run cut short (the runner records its own)
            from cnnspec.conformance.runner import select_rules

            planned = {ref: shards.record(select_rules(settings["prefixes"]), args.shard, ref)
                       for ref in refs}
        print(f"cnnspec {__version__}: {'adapters' if several else 'adapter'} "
              f"{', '.join(refs)}, profile {args.profile}, "
              + (f"shard {args.shard}, " if args.shard else "")
              + (plural(args.jobs, "worker process", "worker processes") if args.jobs
                 else "in this process"), flush=True)
        if args.jobs:
            collected = run_all(refs, jobs=args.jobs, **settings, report=report)
        else:
            for ref in refs:
                collected[ref] = run(ref, **settings, report=lambda row, ref=ref: report(ref, row))
                if collected[ref].suite.get("partial"):
                    break
    except KeyboardInterrupt:  # before the runner could gather the rows: those printed
        collected = {}
    ctrl_c.hold()  # writing the results is not interrupted
    from cnnspec.conformance.runner import unfinished

    collected = {ref: collected.get(ref) or unfinished(ref, reported[ref], profile=args.profile,
                                                       seed=settings["seed"], device=args.device,
                                                       shard=planned.get(ref))
                 for ref in refs}
    return _finish(args, collected, json_paths)


def _finish(args, collected: dict, json_paths: dict) -> int:
    """Prints each adapter's summary, writes the results JSON and the HTML; the exit status."""
    worst = 0
    for ref, results in collected.items():
        counts = results.counts()
        summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no rule run"
        print(f"\n{results.adapter['name']} {results.adapter['version']} "
              f"({results.adapter['device']}): {summary} in {results.suite['duration_s']:.1f} s")
        print(f"replay: {results.suite['replay']}" + "".join(f" --rule {r}" for r in args.rule or ())
              + (f" --shard {args.shard}" if args.shard else ""))
        if ref in json_paths:
            print(f"results: {results.write(json_paths[ref])}")
        worst = max(worst, 0 if results.ok else 1)
    if any(results.suite.get("partial") for results in collected.values()):
        print("interrupted: the results are partial")
        worst = 1
    if args.html:
        from cnnspec.recipes.adapter import recipes_by_rule
        from cnnspec.reports import html, matrix

        built = matrix.build(list(collected.values()), list(collected))
        print(f"report: {html.write(built, args.html, recipes_by_rule())}")
    return worst


def _results_paths(paths) -> list:
    """Files as given; a folder stands for the *.json files in it."""
    from pathlib import Path

    out = []
    for path in map(Path, paths):
        out += sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not out:
        raise cnnspec.UsageError(f"no results files in {', '.join(map(str, paths))}")
    return out


def _load_all(paths):
    """The results of each adapter in the files `paths`, the shards of a sharded run merged
    (cnnspec.reports.merge): [Merged]; a cnnspec.UsageError for an unreadable file or an overlap."""
    from cnnspec.reports.merge import merge
    from cnnspec.reports.results import ResultsError, load

    try:
        return merge([load(path) for path in paths], [str(path) for path in paths])
    except ResultsError as error:
        raise cnnspec.UsageError(str(error)) from None


def _warn_missing_shards(command: str, merged) -> None:
    from cnnspec.reports.merge import missing_text

    for each in merged:
        if each.missing:
            print(f"cnnspec {command}: {missing_text(each)}: its rules show as missing",
                  file=sys.stderr)


def _report(args) -> int:
    from cnnspec.recipes.adapter import recipes_by_rule
    from cnnspec.reports import html

    _check_output(args.html, "--html", "report.html")
    if html.missing():
        raise cnnspec.UsageError(f"--html: {html.missing()}")
    built = _matrix(args.results, "report")
    path = html.write(built, args.html, recipes_by_rule())
    rules = sum(len(rows) for _, rows in built.sections)
    print(f"report: {path} ({plural(len(built.results), 'adapter')}, {plural(rules, 'rule')})")
    return 0


def _diff(args) -> int:
    from cnnspec.recipes.adapter import recipes_by_rule
    from cnnspec.reports import differences
    from cnnspec.reports.recipe_links import links

    built = _matrix(args.results, "diff")
    if len(built.results) < 2:
        raise cnnspec.UsageError(f"diff compares adapters: give the results of two or more "
                         f"(got {plural(len(built.results), 'adapter')})")
    sys.stdout.write(differences.text(differences.differences(built), built.adapters,
                                      links(built, recipes_by_rule())))
    return 0


def _matrix(given, command: str):
    """The matrix of the results files (or folders of them) given, shards merged; a cnnspec.UsageError
    if one adapter appears twice or shards overlap; a line on stderr per missing shard."""
    from cnnspec.reports import matrix
    from cnnspec.reports.results import ResultsError

    merged = _load_all(_results_paths(given))
    _warn_missing_shards(command, merged)
    try:
        return matrix.build([m.results for m in merged], [m.source for m in merged])
    except ResultsError as error:
        raise cnnspec.UsageError(str(error)) from None


def _port(args) -> int:
    """`cnnspec port`: the ranked differences of moving a model from --from to --to, from the
    results given and runs of what is missing (SRC, DST and DST+recipes)."""
    from cnnspec.recipes.adapter import ROUTES, SUFFIX
    from cnnspec.recipes.sources import source
    from cnnspec.reports import porting

    if args.source == args.target:
        raise cnnspec.UsageError(f"--from {args.source!r} and --to {args.target!r} name one adapter: "
                         f"give the framework a model leaves and the one it moves to")
    if args.json:
        _check_output(args.json, "--json", "port.json")
    merged = _load_all(_results_paths(args.results)) if args.results else []
    _warn_missing_shards("port", merged)
    loaded = {m.results.adapter["name"]: m.results for m in merged}
    recipes_ref = f"{args.target}{SUFFIX}" if args.target in ROUTES else None
    missing = [ref for ref in (args.source, args.target, recipes_ref)
               if ref and ref not in loaded]
    if missing:
        from cnnspec.conformance.runner import check_invocation
        from cnnspec.conformance.workers import run_all

        check_invocation(missing, profile=args.profile, prefixes=args.rule or ())
        print(f"cnnspec port: running {', '.join(missing)} (profile {args.profile}), the "
              f"results not given", file=sys.stderr, flush=True)
        loaded.update(run_all(missing, jobs=1, profile=args.profile, prefixes=args.rule or ()))
        cut = [ref for ref in missing if ref not in loaded or loaded[ref].suite.get("partial")]
        if cut:
            print(f"cnnspec port: the run of {', '.join(cut)} was cut short: nothing ranked",
                  file=sys.stderr)
            return 1
    ported = porting.port(loaded[args.source], loaded[args.target],
                          loaded.get(recipes_ref) if recipes_ref else None)
    for item in ported.items:
        for recipe in item.recipes:
            recipe.source = source(recipe.path)
    sys.stdout.write(porting.text(ported))
    if args.json:
        from cnnspec.reports.results import write_json

        write_json(args.json, ported.to_dict())
    return 0


def _gate(args) -> int:
    from cnnspec.reports import gate
    from cnnspec.reports.merge import missing_text
    from cnnspec.reports.results import ResultsError

    baseline = _load_all(_results_paths([args.baseline]))
    current = _load_all(_results_paths(args.results))
    incomplete = next((m for m in baseline if m.missing), None)
    if incomplete:
        raise cnnspec.UsageError(f"--baseline: {missing_text(incomplete)}; give every shard of the "
                         f"baseline's run")
    try:
        changes = gate.compare([m.results for m in baseline], [m.results for m in current],
                               count_new=args.count_new)
    except ResultsError as error:
        raise cnnspec.UsageError(str(error)) from None
    print(gate.table(changes))
    worse = [c for c in changes if c.worse]
    missing = [m for m in current if m.missing]  # worse even where the baseline lacks the rules
    for each in missing:
        print(f"WORSE    {missing_text(each)}: a missing shard fails the gate")
    new = sum(c.new for c in changes)
    print(f"{len(worse)} worse, {sum(c.better for c in changes)} better, "
          f"{len(changes) - new} changed in all" + (f"; {new} new since the baseline" if new else "")
          + (f"; {plural(len(missing), 'adapter')} with missing shards" if missing else ""))
    return 1 if worse or missing else 0


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = -1
    if jobs < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of worker processes >= 0 "
                                         f"(0: run in this process)")
    return jobs


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr (no usage block), exit 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message}; `{self.prog} --help` lists the options\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cnnspec",
        description="An executable spec of CNN operator arithmetic and a conformance suite.")
    parser.add_argument("--version", action="version", version=f"cnnspec {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    rules = commands.add_parser("rules", help="list the rule catalogue")
    formats = rules.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="the catalogue as JSON")
    formats.add_argument("--markdown", action="store_true", help="the catalogue as SPEC.md")
    rules.set_defaults(handler=_rules)

    explain = commands.add_parser("explain", help="print one rule with its formula and sources")
    explain.add_argument("rule_id", metavar="ID", help="a rule id, e.g. pool.output_size.ceil")
    explain.set_defaults(handler=_explain)

    new = commands.add_parser("new-adapter", help="write an adapter template to start from")
    new.add_argument("path", metavar="PATH", help="the file to write, e.g. my_adapter.py")
    new.set_defaults(handler=_new_adapter)

    run = commands.add_parser("run", help="run the conformance suite on adapters")
    run.add_argument("--adapter", action="append", required=True, metavar="NAME",
                     help="a known name, module:attribute or path/to/file.py:attribute "
                          "(repeatable)")
    run.add_argument("--profile", default="ci", choices=("quick", "ci", "thorough"),
                     help="Hypothesis profile (default: ci, derandomized)")
    run.add_argument("--json", metavar="PATH", help="write the results JSON here")
    run.add_argument("--rule", action="append", metavar="PREFIX",
                     help="only rules whose id starts with PREFIX (repeatable)")
    run.add_argument("--timeout", type=timeout_seconds, default=60.0, metavar="SECONDS",
                     help="bound on one adapter call; past it the rule is an error and its "
                          "other examples are not tried (default 60; 0: no limit)")
    run.add_argument("--shrink-budget", type=shrink_budget_seconds, default=SHRINK_BUDGET_S,
                     metavar="SECONDS",
                     help="seconds a check may spend shrinking a failure; past it the row shows "
                          f"the smallest counterexample found by then (default {SHRINK_BUDGET_S:g}; "
                          "0: no limit)")
    run.add_argument("--seed", type=int, help="Hypothesis seed, to replay a thorough run")
    run.add_argument("--html", metavar="PATH", help="also write the HTML matrix of this run")
    run.add_argument("--jobs", type=_jobs, default=min(os.cpu_count() or 1, 4), metavar="N",
                     help="worker processes (default: the CPUs, at most 4); a crash or a hang "
                          "in C code then loses one rule only; 0 runs in this process")
    run.add_argument("--shard", type=shards.shard_option, metavar="K/N",
                     help="run shard K of N: the selected rules split over N jobs (a CI "
                          "matrix), balanced by their recorded cost; report, diff and gate "
                          "merge the shards' results")
    run.add_argument("--device", metavar="DEVICE",
                     help="device for the adapter, e.g. cuda:0 (torch, jax); default cpu")
    run.set_defaults(handler=_run)

    report = commands.add_parser("report", help="merge results JSON into one HTML matrix")
    report.add_argument("results", nargs="+", metavar="RESULTS",
                        help="results JSON files, or folders of them")
    report.add_argument("--html", required=True, metavar="PATH", help="where to write the page")
    report.set_defaults(handler=_report)

    diff = commands.add_parser("diff", help="where the adapters of results JSON files differ")
    diff.add_argument("results", nargs="+", metavar="RESULTS",
                      help="results JSON files, or folders of them (two adapters or more)")
    diff.set_defaults(handler=_diff)

    port = commands.add_parser("port", help="what changes when a model moves from one framework "
                                             "to another, ranked, with verified recipes")
    port.add_argument("--from", dest="source", required=True, metavar="SRC",
                      help="the adapter the model leaves, e.g. torch")
    port.add_argument("--to", dest="target", required=True, metavar="DST",
                      help="the adapter it moves to, e.g. tensorflow")
    port.add_argument("--json", metavar="PATH", help="also write the ranked list as JSON")
    port.add_argument("--rule", action="append", metavar="PREFIX",
                      help="runs of missing results: only rules under PREFIX (repeatable)")
    port.add_argument("--profile", default="ci", choices=("quick", "ci", "thorough"),
                      help="runs of missing results: the Hypothesis profile (default ci)")
    port.add_argument("results", nargs="*", metavar="RESULTS",
                      help="results JSON of SRC, DST and DST+recipes (files or folders); "
                           "what is missing is run")
    port.set_defaults(handler=_port)

    gate = commands.add_parser("gate", help="exit 1 when any rule got worse than a baseline")
    gate.add_argument("--baseline", required=True, metavar="BASELINE",
                      help="the committed results JSON (a file, or a folder of them)")
    gate.add_argument("results", nargs="+", metavar="RESULTS", help="the new results JSON")
    gate.add_argument("--count-new", action="store_true",
                      help="a rule the baseline lacks that fails or errors is worse (by default "
                           "new rules are listed, never worse)")
    gate.set_defaults(handler=_gate)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except cnnspec.UsageError as error:
        print(f"cnnspec {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cnnspec {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `cnnspec rules | head -n 1`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
