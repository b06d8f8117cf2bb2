"""The adapter call in flight, kept on disk for a process that may not survive it.

When an adapter kills its worker (a segfault or an abort inside a framework), the parent runs
the rule again in a fresh worker that writes each call to a file just before making it
(`write`); the draws being a function of the rule, the adapter's capabilities and the seed,
the rerun reaches the same call. When that worker dies too, the file holds the call that killed
it (`read`): its op, arrays, keywords and cotangent, from which the error row names the call and
gives a reproducer script (`failures.reproducer`). Normal runs write nothing.
"""

from __future__ import annotations

import os
import pickle

from .failures import Call


def write(path: str, call: Call) -> None:
    """Replaces the file at `path` with `call` (atomically: a process killed while writing
    leaves the previous call)."""
    temporary = f"{path}.writing"
    with open(temporary, "wb") as stream:
        pickle.dump((call.op, tuple(call.arrays), dict(call.params), call.is_vjp,
                     call.cotangent), stream, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, path)


def read(path: str) -> Call | None:
    """The last call written to `path`, or None when there is none."""
    try:
        with open(path, "rb") as stream:
            op, arrays, params, is_vjp, cotangent = pickle.load(stream)
    except (OSError, EOFError, pickle.UnpicklingError):
        return None
    return Call(op, arrays, params, is_vjp=is_vjp, cotangent=cotangent)


def describe(call: Call) -> str:
    """The call with its arrays' shapes and dtypes: `conv(x float32 (1, 1, 4, 2), w ..., kw=...)`."""
    def array(name, value):
        if value is None:
            return f"{name}=None"
        return f"{name} {getattr(value, 'dtype', type(value).__name__)} {tuple(value.shape)}"

    names = [f"a{i}" for i in range(len(call.arrays))]
    parts = [array(n, a) for n, a in zip(names, call.arrays)]
    if call.is_vjp:
        parts.append(array("cotangent", call.cotangent))
    parts += [f"{k}={v!r}" for k, v in call.params.items()]
    return f"{'vjp of ' if call.is_vjp else ''}{call.op}({', '.join(parts)})"
