"""README's and the docs' commands run as written.

Every ```bash block of README.md and docs/*.md is run, in order, in a fresh folder: each
`cnnspec` command as written, with `--rule activation.relu6` added to `run` (and `-k relu6` to
the pytest route) to keep it short, so that file names, options and the order of commands must
agree (a gate that reads a file no run wrote fails here). Commands that install or run for
minutes (pip, the project's own tests, tox) are checked by CI itself. Each command is held to
what it gives, not only to its exit code (`does_what_it_says`). The `cnnspec` commands
of the YAML blocks (a downstream workflow, with its own adapter) are parsed by cnnspec's
argument parser, a matrix's `${{ matrix.NAME }}` standing for the first value of NAME. The first
bash block is README's quick start, which CI runs whole."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from cnnspec.cli import build_parser
from cnnspec.conformance.shards import select, shard_option
from cnnspec.reports.results import load
from cnnspec.spec import RULES

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
NOT_RUN = ("pip", "python3 -m venv", ".", "python -m pytest", "tox")  # CI runs these itself
SHORT = {"run": ["--rule", "activation.relu6"], "pytest": ["-k", "relu6"]}


def blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", path.read_text(encoding="utf-8"),
                      flags=re.S | re.M)


def commands(block: str) -> list[str]:
    """Each command of a block: continuation lines joined, comments dropped, `&&` split."""
    text = block.replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.split(" #")[0].strip()
        if line and not line.startswith("#"):
            out += [part.strip() for part in line.split("&&")]
    return out


def shortened(words: list[str]) -> list[str]:
    if words[:2] == ["cnnspec", "run"]:
        return words + SHORT["run"]
    if words[0] == "pytest":
        return [sys.executable, "-m", *words, *SHORT["pytest"]]
    return words


def _option(words: list[str], name: str) -> str | None:
    """The value of `--name VALUE` or `--name=VALUE` in `words`, if given."""
    for at, word in enumerate(words):
        if word == name and at + 1 < len(words):
            return words[at + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    return None


def _run_did(words, stdout, cwd) -> str | None:
    """`cnnspec run` (shortened with activation.relu6): a passing relu6 row per adapter, and
    each results file it names, one per adapter, holding the rows of its --rule prefixes; the
    HTML report showing relu6."""
    adapters = [words[at + 1] for at, word in enumerate(words) if word == "--adapter"]
    prefixes = tuple(words[at + 1] for at, word in enumerate(words) if word == "--rule")
    asked = [rule_id for rule_id in RULES if rule_id.startswith(prefixes)]
    shard = _option(words, "--shard")
    if shard:  # a shard holds its part of the rules asked (the same part for each adapter here)
        asked = select(asked, shard_option(shard), adapters[0])
    rows = re.findall(r"^(?:pass|deviation|unsupported) +(?:\S+: )?activation\.relu6\b", stdout,
                      flags=re.M)  # "numpy: activation.relu6" where several adapters run
    due = len(adapters) if "activation.relu6" in asked else 0
    if len(rows) != due:
        return f"{len(rows)} passing activation.relu6 rows where {due} are due"
    written = re.findall(r"^results: (\S+)$", stdout, flags=re.M)
    if _option(words, "--json") and len(written) != len(adapters):
        return f"{len(written)} results files for {len(adapters)} adapters"
    for name in written:
        ids = [row.id for row in load(cwd / name).rules]
        if ids != asked:
            return f"{name} holds the rows {ids}, not those of --rule {prefixes}: {asked}"
    report = _option(words, "--html")
    if report and due and "activation.relu6" not in (cwd / report).read_text(encoding="utf-8"):
        return f"{report} does not show activation.relu6"
    return None


def _report_did(words, stdout, cwd) -> str | None:
    """`cnnspec report FOLDER --html PATH`: one column per adapter of the folder's results
    files (the shards of one adapter merged into one)."""
    names = {load(f).adapter["name"] for f in (cwd / words[2]).glob("*.json")}
    html = (cwd / _option(words, "--html")).read_text(encoding="utf-8")
    missing = sorted(name for name in names if name not in html)
    count = re.search(r"\((\d+) adapters?,", stdout)
    if not count or int(count.group(1)) != len(names) or missing:
        return f"the merged report lacks {missing or 'its adapter count'}"
    return None


def _port_did(words, stdout, cwd) -> str | None:
    """`cnnspec port --from SRC --to DST`: the ranked list names both adapters, its sections
    in order, and --json holds the same items."""
    source, target = _option(words, "--from"), _option(words, "--to")
    sections = [stdout.find(title) for title in ("Changes outputs (", "Cannot run as written (",
                                                 "\nCoverage")]
    if not stdout.startswith("cnnspec port: ") or f" {target}" not in stdout.splitlines()[0] \
            or source not in stdout.splitlines()[0]:
        return f"its first line does not name {source} -> {target}"
    if min(sections) < 0 or sections != sorted(sections):
        return "the sections are not changes outputs, cannot run as written, coverage"
    written = _option(words, "--json")
    if written:
        items = json.loads((cwd / written).read_text(encoding="utf-8"))["items"]
        absent = [item["rule"] for item in items if item["rule"] not in stdout]
        if absent:
            return f"{written} holds items the list does not show: {absent}"
    return None


def _pytest_did(words, stdout, cwd) -> str | None:
    """pytest with `--junit-xml`: the XML holds the relu6 test cases, none failed."""
    suite = ElementTree.parse(cwd / _option(words, "--junit-xml")).getroot().iter("testsuite")
    suite = next(suite)
    cases = [case.get("name") for case in suite.iter("testcase")]
    if not cases or not all("relu6" in name for name in cases):
        return f"the JUnit XML holds the test cases {cases}"
    if int(suite.get("failures")) or int(suite.get("errors")):
        return "the JUnit XML records failures"
    return None


def does_what_it_says(words: list[str], stdout: str, cwd: Path) -> str | None:
    """What is wrong with a command's output and files, or None: each command kind is held to
    what the docs say it gives, beyond its exit code."""
    if words[0] != "cnnspec" and not words[0].endswith("/cnnspec"):
        return _pytest_did(words, stdout, cwd) if "--junit-xml" in " ".join(words) else None
    sub = words[1]
    if sub == "run":
        return _run_did(words, stdout, cwd)
    if sub == "rules":
        absent = [rule_id for rule_id in RULES if rule_id not in stdout.split()]
        return f"rules not listed: {absent}" if absent else None
    if sub == "explain":
        title = f"{words[2]}: {RULES[words[2]].title}"
        return None if stdout.startswith(title) else f"does not start with {title!r}"
    if sub == "report":
        return _report_did(words, stdout, cwd)
    if sub == "port":
        return _port_did(words, stdout, cwd)
    if sub == "gate":
        return None if re.search(r"^0 worse, ", stdout, flags=re.M) else "reports a regression"
    if sub == "new-adapter":
        source = (cwd / f"{words[2]}.py").read_text(encoding="utf-8")
        compile(source, words[2], "exec")
        return None if "class MyLibrary" in source else "the template has no MyLibrary"
    return f"no check of what `cnnspec {sub}` gives: add one"


@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_the_bash_blocks_run_as_written(path, tmp_path):
    ran = 0
    for command in (c for block in blocks(path, "bash") for c in commands(block)):
        if command.startswith(NOT_RUN):
            continue
        words = shortened(shlex.split(command))
        if "/" not in words[0] and Path(sys.executable).with_name(words[0]).exists():
            words[0] = str(Path(sys.executable).with_name(words[0]))  # this environment's
        shown = subprocess.run(words, capture_output=True, text=True, cwd=tmp_path, check=False)
        assert shown.returncode == 0, f"{path.name}: `{command}` exited {shown.returncode}:\n" \
                                      f"{shown.stdout[-1500:]}\n{shown.stderr[-1500:]}"
        problem = does_what_it_says(words, shown.stdout, tmp_path)
        assert not problem, f"{path.name}: `{command}`: {problem}:\n{shown.stdout[-1500:]}"
        ran += 1
    assert ran or not blocks(path, "bash")


def first_value(block: str, name: str) -> str:
    """The first value of a workflow's `matrix:` entry `name: [a, b, ...]`."""
    found = re.search(rf"^\s+{name}:\s*\[\s*([^,\]]+)", block, flags=re.M)
    assert found, f"no matrix entry {name!r} in a YAML block"
    return found.group(1).strip().strip("'\"")


@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_the_cnnspec_commands_of_yaml_blocks_parse(path):
    for block in blocks(path, "yaml"):
        text = re.sub(r"\n\s+(?=--)", " ", block)  # YAML's folded `run: >` lines
        text = re.sub(r"\$\{\{ matrix\.(\w+) \}\}", lambda m, b=block: first_value(b, m.group(1)), text)
        for match in re.finditer(r"\b(cnnspec (?:run|report|gate|rules|explain)\b[^\n|]*)", text):
            words = shlex.split(match.group(1).split(" #")[0].replace("|| true", ""))
            try:
                build_parser().parse_args(words[1:])
            except SystemExit:
                pytest.fail(f"{path.name}: `{match.group(1)}` does not parse")
