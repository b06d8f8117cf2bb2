"""Adapters: the protocol, the registry, and one thin module per framework (imported lazily).

`get(name)` / `load("module:attr" | "file.py:attr")` give an adapter instance; `known()` lists
the names. Adapters import `cnnspec.spec` and their own framework only.
"""

from . import capabilities
from .capabilities import Capabilities
from .protocol import DIFFERENTIABLE, OPS, Adapter
from .registry import AdapterError, get, known, load

__all__ = ["DIFFERENTIABLE", "OPS", "Adapter", "AdapterError", "Capabilities", "capabilities",
           "get", "known", "load"]
