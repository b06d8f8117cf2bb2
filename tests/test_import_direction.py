"""The import direction of architecture.md, checked on the source: each layer looks down only.

    spec <- adapters, reports <- conformance <- cli

`spec` is the bottom (NumPy only; it also holds `cnnspec.spec.errors`: `UsageError` and the
install hints, so every layer may raise and name them). `adapters` and `reports` each import
`spec` only, never each other. `conformance` sits above both: it builds rows of the results
model (`cnnspec.reports.results`), which architecture.md and the README place in `reports`, under
conformance. (Issue 18 writes the order as spec <- adapters <- conformance <- reports <- cli;
the results model would then have to move into conformance and reports import it, against
architecture.md: the documented order is the one enforced here.) `cli` is the top, and nothing
imports it: from the package root a layer may read `__version__` only. The root itself imports
nothing, so `import cnnspec` loads no layer and no NumPy.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FRAMEWORKS = {"torch", "tensorflow", "jax", "jaxlib", "keras", "onnx", "onnxruntime"}
STDLIB = set(sys.stdlib_module_names)
ROOT_NAMES = {"__version__"}  # what a layer may take from the package root (cli/__init__.py)

# folder -> (allowed third-party top-level modules, the cnnspec subpackages it may import)
RULES = {
    "spec": ({"numpy"}, {"spec"}),
    "adapters": ({"numpy", "ml_dtypes"} | FRAMEWORKS, {"spec", "adapters"}),
    "reports": ({"numpy", "jinja2", "markupsafe", "jsonschema"}, {"spec", "reports"}),
    "conformance": ({"numpy", "ml_dtypes", "hypothesis", "pytest"},
                    {"spec", "adapters", "reports", "conformance"}),
    # recipes sit above the adapters (NAME+recipes wraps one) and beside conformance (the
    # worked example measures with its tolerance policy); nothing below imports them
    "recipes": ({"numpy", "ml_dtypes"} | FRAMEWORKS, {"spec", "adapters", "conformance", "recipes"}),
}


def package_of(path, root=REPO):
    """The dotted package a source file belongs to: cli/ is the root `cnnspec`, spec/x.py is in
    `cnnspec.spec`, conformance/checks/x.py in `cnnspec.conformance.checks`."""
    folder, *below = path.relative_to(root).parent.parts
    return ["cnnspec"] + ([] if folder == "cli" else [folder]) + below


def imports(path, root=REPO):
    """(top-level module, what of cnnspec) for every import in a file, relative ones resolved.
    What of cnnspec is the subpackage (`cnnspec.spec.errors` -> "spec"), or for an import from
    the root the name taken (`from cnnspec import __version__` -> "__version__")."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], _part(alias.name.split("."), None)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the file's package, up level - 1
                base = package_of(path, root)[:len(package_of(path, root)) - (node.level - 1)]
                target = base + (node.module.split(".") if node.module else [])
            else:
                target = node.module.split(".")
            for alias in node.names:
                yield target[0], _part(target, alias.name)


def _part(target, name):
    if target[0] != "cnnspec":
        return None
    return target[1] if len(target) > 1 else name


@pytest.mark.parametrize("folder", sorted(RULES))
def test_folder_imports_follow_the_architecture(folder):
    allowed, below = RULES[folder]
    problems = []
    for path in sorted((REPO / folder).rglob("*.py")):
        for module, part in imports(path):
            if module == "cnnspec":
                if part not in below | ROOT_NAMES:
                    problems.append(f"{path.relative_to(REPO)} imports cnnspec.{part}")
            elif module not in STDLIB and module not in allowed and module != "__future__":
                problems.append(f"{path.relative_to(REPO)} imports {module}")
    assert not problems, "import direction (architecture.md): " + "; ".join(problems)


def test_the_package_root_imports_nothing():
    """cli/__init__.py imports no module at import time (its lazy `UsageError` looks down at
    spec), and `import cnnspec` loads no layer, no NumPy, no Hypothesis."""
    root = REPO / "cli" / "__init__.py"
    tree = ast.parse(root.read_text(encoding="utf-8"))
    assert not [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert {part for _, part in imports(root)} <= {"spec"}
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, cnnspec; print(' '.join(sorted(m for m in sys.modules if "
                               "m.split('.')[0] in ('cnnspec', 'numpy', 'hypothesis'))))"],
        capture_output=True, text=True, check=True).stdout.split()
    assert loaded == ["cnnspec"]


def test_usage_error_is_still_cnnspec_usage_error():
    from cnnspec import UsageError
    from cnnspec.spec.errors import UsageError as at_the_bottom

    assert UsageError is at_the_bottom


def test_the_check_sees_a_forbidden_import(tmp_path):
    bad = tmp_path / "spec" / "bad.py"
    bad.parent.mkdir()
    bad.write_text("import hypothesis\nfrom ..conformance import runner\n")
    assert list(imports(bad, tmp_path)) == [("hypothesis", None), ("cnnspec", "conformance")]
    low = tmp_path / "conformance" / "checks" / "low.py"
    low.parent.mkdir(parents=True)
    low.write_text("from cnnspec import UsageError\nfrom .. import runner\nfrom ... import cli\n"
                   "from cnnspec.install import hint\n")
    assert list(imports(low, tmp_path)) == [("cnnspec", "UsageError"), ("cnnspec", "conformance"),
                                            ("cnnspec", "cli"), ("cnnspec", "install")]
