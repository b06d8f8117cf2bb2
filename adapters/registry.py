"""Finding adapters: built-in names, third parties' entry points, and `module:attr` / `file.py:attr`.

`get(name)` gives an instance for a registered name; `load(spec)` also takes `module:attribute`
or `path/to/file.py:attribute` (an instance, or a class built with no arguments). Third parties
register in the entry-point group `cnnspec.adapters`. `NAME+EXTENSION` is the adapter NAME
wrapped by an extension, a function (adapter) -> adapter registered in the entry-point group
`cnnspec.adapter_extensions` (cnnspec's recipes register `recipes` there, pyproject.toml), so
this module names no package above it. Failures raise `AdapterError` with one line that names
the value and the fix.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from importlib.metadata import entry_points
from pathlib import Path

from . import capabilities

ENTRY_POINT_GROUP = "cnnspec.adapters"
EXTENSION_GROUP = "cnnspec.adapter_extensions"

# name -> (module:attribute, the distribution it needs, the extra that installs it)
BUILTIN = {
    "numpy": ("cnnspec.adapters.numpy_adapter:NumpyAdapter", "numpy", None),
    "torch": ("cnnspec.adapters.torch_adapter:TorchAdapter", "torch", "torch"),
    "tensorflow": ("cnnspec.adapters.tensorflow_adapter:TensorflowAdapter", "tensorflow",
                   "tensorflow"),
    "jax": ("cnnspec.adapters.jax_adapter:JaxAdapter", "jax", "jax"),
    "onnxruntime": ("cnnspec.adapters.onnxruntime_adapter:OnnxRuntimeAdapter", "onnxruntime",
                    "onnxruntime"),
    "keras": ("cnnspec.adapters.keras_adapter:KerasAdapter", "keras", "keras"),
}


class AdapterError(LookupError):
    """An adapter that cannot be found, loaded or built; the message is one line."""


def _entry_points(group: str = ENTRY_POINT_GROUP):
    return {ep.name: ep for ep in entry_points(group=group)}


def _extended(name: str) -> tuple[str, object] | None:
    """(NAME, the extension's entry point) for `NAME+EXTENSION` with a registered EXTENSION."""
    base, plus, extension = name.rpartition("+")
    point = _entry_points(EXTENSION_GROUP).get(extension) if plus and base else None
    return (base, point) if point is not None else None


def known() -> list[str]:
    """Every name `get` accepts: the built-ins, then the entry points."""
    return list(BUILTIN) + sorted(set(_entry_points()) - set(BUILTIN))


def _instantiate(obj, spec: str, device: str | None = None):
    if not isinstance(obj, type) and device is not None:
        on = str(getattr(obj, "device", "cpu"))
        if on != device:
            raise AdapterError(f"adapter {spec!r} is an instance on device {on!r}, not "
                               f"{device!r}: name its class, built with device={device!r}")
    if isinstance(obj, type):
        try:
            obj = obj() if device is None else obj(device=device)
        except Exception as error:
            raise AdapterError(f"adapter {spec!r}: building {obj.__name__}() failed: "
                               f"{type(error).__name__}: {error}") from error
    missing = [attr for attr in ("name", "supports", "vjp") if not hasattr(obj, attr)]
    if missing:
        raise AdapterError(f"adapter {spec!r} is not an adapter: it lacks {', '.join(missing)} "
                           f"(see cnnspec.adapters.protocol.Adapter)")
    try:
        capabilities.of(obj)
    except ValueError as error:
        raise AdapterError(str(error)) from None
    return obj


def _split(spec: str) -> tuple[str, str]:
    target, _, attribute = spec.rpartition(":")
    if not target or not attribute:
        raise AdapterError(f"adapter {spec!r}: expected a known name ({', '.join(known())}), "
                           f"module:attribute or path/to/file.py:attribute")
    if target.endswith(".py") and not Path(target).is_file():
        raise AdapterError(f"adapter {spec!r}: no file {target}")
    return target, attribute


def _not_installed(name: str):
    """The error for a built-in adapter whose framework is missing, or None."""
    _, distribution, extra = BUILTIN[name]
    if importlib.util.find_spec(distribution) is not None:
        return None
    from cnnspec.spec.errors import install_hint

    return AdapterError(f"adapter {name!r} needs {distribution}, which is not installed: "
                        f"{install_hint(extra) if extra else f'pip install {distribution}'}")


def _unknown(name: str) -> AdapterError:
    extensions = "".join(f" (or NAME+{e})" for e in sorted(_entry_points(EXTENSION_GROUP)))
    return AdapterError(f"unknown adapter {name!r}: the known ones are {', '.join(known())}"
                        f"{extensions}; or give module:attribute or path/to/file.py:attribute")


def _with_extension(name: str, base: str, point, device: str | None):
    """The adapter `base` wrapped by the extension at entry point `point`."""
    try:
        wrap = point.load()
    except Exception as error:
        raise AdapterError(f"adapter {name!r}: its extension {point.value} failed to load: "
                           f"{type(error).__name__}: {error}") from error
    try:
        return _instantiate(wrap(get(base, device)), name)
    except ValueError as error:
        raise AdapterError(str(error)) from None


def check(spec: str) -> None:
    """Raises what `load(spec)` would for an unknown name, a framework that is not installed, a
    missing file or a module that cannot be found, without importing any of them."""
    extended = _extended(spec) if ":" not in spec else None
    if extended:
        if extended[0] not in known():
            raise _unknown(spec)
        spec = extended[0]
    if ":" not in spec:
        if spec in BUILTIN:
            error = _not_installed(spec)
            if error:
                raise error
        elif spec not in _entry_points():
            raise _unknown(spec)
        return
    target, _ = _split(spec)
    if not target.endswith(".py"):
        try:
            found = importlib.util.find_spec(target)
        except (ImportError, ValueError) as error:
            raise AdapterError(f"adapter {spec!r}: cannot import {target}: {error}") from None
        if found is None:
            raise AdapterError(f"adapter {spec!r}: cannot import {target}: "
                               f"No module named {target!r}")


def _import_attribute(spec: str):
    target, attribute = _split(spec)
    if target.endswith(".py"):
        path = Path(target)
        # Like `python path/to/file.py`: the file's folder is importable, for its siblings.
        if str(path.parent.resolve()) not in sys.path:
            sys.path.insert(0, str(path.parent.resolve()))
        module_name = f"cnnspec_user_adapter_{path.stem}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as error:
            raise AdapterError(f"adapter {spec!r}: importing {path} failed: "
                               f"{type(error).__name__}: {error}") from error
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as error:
            raise AdapterError(f"adapter {spec!r}: cannot import {target}: {error}") from error
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise AdapterError(f"adapter {spec!r}: {target} has no attribute {attribute!r}") from None


def get(name: str, device: str | None = None):
    """An adapter instance for a built-in or entry-point name, on `device` when given; for
    `NAME+EXTENSION`, the adapter NAME wrapped by the extension."""
    extended = _extended(name)
    if extended:
        if extended[0] not in known():
            raise _unknown(name)
        return _with_extension(name, *extended, device)
    if name in BUILTIN:
        error = _not_installed(name)
        if error:
            raise error
        return _instantiate(_import_attribute(BUILTIN[name][0]), name, device)
    points = _entry_points()
    if name in points:
        try:
            return _instantiate(points[name].load(), name, device)
        except AdapterError:
            raise
        except Exception as error:
            raise AdapterError(f"adapter {name!r}: its entry point {points[name].value} failed "
                               f"to load: {type(error).__name__}: {error}") from error
    raise _unknown(name)


def load(spec: str, device: str | None = None):
    """`get(spec)` for a name, else the `module:attribute` or `file.py:attribute` it names.
    A class is built with `device=` when a device is asked for."""
    if ":" not in spec:
        return get(spec, device)
    return _instantiate(_import_attribute(spec), spec, device)
