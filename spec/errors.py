"""cnnspec's own errors and install hints, at the bottom layer so that every layer may raise
and name them (spec <- adapters, reports <- conformance <- cli): stdlib only.

`UsageError` is a wrong invocation. `install_hint(extra)` says what to install for an optional
part of cnnspec, as a command that works today: cnnspec is installed from a clone or a git URL,
not from a package index, so `pip install 'cnnspec[jax]'` would look for it on PyPI and fail.
The hint names what the extra itself installs, read from cnnspec's own metadata:
`pip install 'torch==2.13.0'`.
"""

from __future__ import annotations

import re
from importlib import metadata

_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


class UsageError(ValueError):
    """A wrong invocation, such as an unknown adapter or an unwritable --json: the command line
    prints it as one line on stderr and exits 2, before any work is done."""


def requirements(extra: str) -> list[str]:
    """The requirements that cnnspec's `extra` adds (without their markers); [] if unknown."""
    try:
        declared = metadata.requires("cnnspec") or []
    except metadata.PackageNotFoundError:
        return []
    found = []
    for requirement in declared:
        spec, _, marker = requirement.partition(";")
        match = _EXTRA_MARKER.search(marker)
        if match and match.group(1) == extra:
            found.append(spec.strip().replace(" ", ""))
    return found


def install_hint(extra: str) -> str:
    """`pip install 'torch==2.13.0'` for extra "torch"; names the extra too."""
    needed = requirements(extra) or [extra]
    return f"pip install {' '.join(repr(r) for r in needed)} (cnnspec's [{extra}] extra)"
