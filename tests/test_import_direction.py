"""The import direction of architecture.md, checked on the source: spec imports NumPy only."""

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FRAMEWORKS = {"torch", "tensorflow", "jax", "jaxlib", "keras", "onnx", "onnxruntime"}
STDLIB = set(sys.stdlib_module_names)

# folder -> (allowed third-party top-level modules, forbidden cnnspec subpackages)
RULES = {
    "spec": ({"numpy"}, {"adapters", "conformance", "reports"}),
    "adapters": ({"numpy", "ml_dtypes"} | FRAMEWORKS, {"conformance", "reports"}),
    "reports": ({"numpy", "jinja2", "markupsafe", "jsonschema"}, {"adapters", "conformance"}),
    # recipes sit above the adapters (NAME+recipes wraps one) and beside conformance (the
    # worked example measures with its tolerance policy); nothing below imports them
    "recipes": ({"numpy", "ml_dtypes"} | FRAMEWORKS, {"reports"}),
}


def imports(path):
    """(top-level module, cnnspec subpackage or None) for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.parent.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], _subpackage(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: `..x` leaves the folder for a sibling subpackage
                target = node.module or ""
                yield "cnnspec", (target.split(".")[0] if node.level >= 2 else package)
            else:
                yield node.module.split(".")[0], _subpackage(node.module)


def _subpackage(name):
    parts = name.split(".")
    return parts[1] if parts[0] == "cnnspec" and len(parts) > 1 else None


@pytest.mark.parametrize("folder", sorted(RULES))
def test_folder_imports_follow_the_architecture(folder):
    allowed, forbidden = RULES[folder]
    problems = []
    for path in sorted((REPO / folder).rglob("*.py")):
        for module, subpackage in imports(path):
            if module == "cnnspec":
                if subpackage in forbidden:
                    problems.append(f"{path.relative_to(REPO)} imports cnnspec.{subpackage}")
            elif module not in STDLIB and module not in allowed and module != "__future__":
                problems.append(f"{path.relative_to(REPO)} imports {module}")
    assert not problems, "import direction (architecture.md): " + "; ".join(problems)


def test_the_check_sees_a_forbidden_import(tmp_path):
    bad = tmp_path / "spec" / "bad.py"
    bad.parent.mkdir()
    bad.write_text("import hypothesis\nfrom ..conformance import runner\n")
    assert list(imports(bad)) == [("hypothesis", None), ("cnnspec", "conformance")]
