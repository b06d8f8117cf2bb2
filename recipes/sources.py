"""A recipe's source, ready to paste: the module's imports, the helpers it calls (transitively,
in the module's order) and the function itself."""

from __future__ import annotations

import ast
import importlib
import inspect


def source(path: str) -> str:
    """The paste-ready source of the recipe at import path `path`
    (e.g. "cnnspec.recipes.tensorflow.max_pool"); a ValueError naming the path otherwise."""
    module_name, _, name = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"recipe {path!r}: cannot import {module_name}: {error}") from None
    tree = ast.parse(inspect.getsource(module))
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    if name not in functions:
        raise ValueError(f"recipe {path!r}: {module_name} has no function {name!r}")
    needed, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in needed:
            continue
        needed.add(current)
        todo += [node.id for node in ast.walk(functions[current])
                 if isinstance(node, ast.Name) and node.id in functions]
    text = inspect.getsource(module)
    imports = [ast.get_source_segment(text, node) for node in tree.body
               if isinstance(node, ast.Import)
               or isinstance(node, ast.ImportFrom) and node.module != "__future__"]
    parts = [ast.get_source_segment(text, node) for node in tree.body
             if isinstance(node, ast.FunctionDef) and node.name in needed]
    return "\n".join(imports) + "\n\n\n" + "\n\n\n".join(parts) + "\n"
