"""A digest of the examples a rule checked: equal digests, equal examples.

Each checked example's drawn arguments (the keyword arguments Hypothesis hands the check) are
encoded canonically and fed, in the order they ran, to one SHA-256 per rule row:

    digest = sha256(check_name_1 | example_1 | example_2 | ... | check_name_2 | ...)[:16 hex]

An array is its dtype, shape and bytes; a tuple (NamedTuple cases included), list or dict its
items in order (a dict's keys sorted); a float its `repr` (so -0.0, NaN and infinities count);
other scalars their type and `repr`. Two runs whose rows carry the same digest checked the same
examples in the same order, whatever process, install or working directory ran them.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _encode(value, out: list) -> None:
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        out.append(f"a{array.dtype.str}{array.dtype.name}{array.shape}".encode())
        out.append(array.tobytes())
    elif isinstance(value, dict):
        out.append(f"d{len(value)}".encode())
        for key in sorted(value, key=str):
            out.append(f"k{key!s}".encode())
            _encode(value[key], out)
    elif isinstance(value, (tuple, list)):
        out.append(f"{type(value).__name__}{len(value)}".encode())
        for item in value:
            _encode(item, out)
    elif isinstance(value, (float, np.floating)):
        out.append(f"f{float(value)!r}".encode())
    elif isinstance(value, np.generic):
        out.append(f"{value.dtype.name}{value.item()!r}".encode())
    else:
        out.append(f"{type(value).__name__}{value!r}".encode())


class ExampleDigest:
    """The running digest of one rule's checked examples."""

    def __init__(self):
        self._hash = hashlib.sha256()

    def check(self, name: str) -> None:
        """Marks where a check's examples begin."""
        self._hash.update(f"check {name}\n".encode())

    def example(self, drawn: dict) -> None:
        parts: list[bytes] = []
        _encode(drawn, parts)
        for part in parts:
            self._hash.update(len(part).to_bytes(8, "little"))
            self._hash.update(part)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()[:16]
