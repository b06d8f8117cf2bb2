"""tox.ini's framework envs and its report env agree: the report merges whatever results the
framework envs that ran wrote (`tox -e numpy,torch,report` and any other subset), after them.

tox itself is not run here (CI runs it): the envs' commands are, as tox.ini writes them, with
{toxinidir} a fresh folder."""

import configparser
import shlex
import subprocess
import sys
from pathlib import Path

from cnnspec.cli import build_parser

TOX_INI = Path(__file__).resolve().parents[1] / "tox.ini"


def envs() -> dict[str, str]:
    """{env: its commands} of the envs that run cnnspec."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(TOX_INI, encoding="utf-8")
    return {section.removeprefix("testenv:"): config[section]
            for section in config.sections() if section.startswith("testenv:")}


def command(env, root: Path) -> list[str]:
    text = env["commands"].replace("{toxinidir}", str(root)).replace("{posargs}", "")
    return shlex.split(text)


def test_the_report_env_reads_the_folder_every_framework_env_writes_into(tmp_path):
    sections = envs()
    runs = {name: build_parser().parse_args(command(env, tmp_path)[1:])
            for name, env in sections.items() if env["commands"].startswith("cnnspec run")}
    assert set(runs) >= {"numpy", "torch", "tensorflow", "jax", "onnxruntime", "keras"}
    report = build_parser().parse_args(command(sections["report"], tmp_path)[1:])
    [folder] = map(Path, report.results)
    assert all(Path(args.json).parent == folder for args in runs.values())
    assert len({args.json for args in runs.values()}) == len(runs)  # no two envs share a file
    depends = {name.strip() for name in sections["report"]["depends"].split(",")}
    assert depends == set(runs)  # under `tox -p` too, the report comes after them


def test_the_report_env_merges_what_one_framework_env_wrote(tmp_path):
    sections = envs()
    run = command(sections["numpy"], tmp_path) + ["--rule", "activation.relu6", "--jobs", "0"]
    shown = subprocess.run([sys.executable, "-m", *run], capture_output=True, text=True,
                           check=False)
    assert shown.returncode == 0, shown.stderr
    report = command(sections["report"], tmp_path)
    shown = subprocess.run([sys.executable, "-m", *report], capture_output=True, text=True,
                           check=False)
    assert shown.returncode == 0 and "(1 adapter, " in shown.stdout, shown.stderr
    assert Path(report[report.index("--html") + 1]).is_file()
