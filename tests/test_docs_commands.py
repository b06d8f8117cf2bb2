"""README's and the docs' commands run as written.

Every ```bash block of README.md and docs/*.md is run, in order, in a fresh folder: each
`cnnspec` command as written, with `--rule activation.relu6` added to `run` (and `-k relu6` to
the pytest route) to keep it short, so that file names, options and the order of commands must
agree (a gate that reads a file no run wrote fails here). Commands that install or run for
minutes (pip, the project's own tests, tox) are checked by CI itself. The `cnnspec` commands
of the YAML blocks (a downstream workflow, with its own adapter) are parsed by cnnspec's
argument parser, a matrix's `${{ matrix.NAME }}` standing for the first value of NAME. The first
bash block is README's quick start, which CI runs whole."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from cnnspec.cli import build_parser

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
