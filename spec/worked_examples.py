"""The catalogue's worked examples: calls them, and reads the text they show from their source.

An example is two lambdas (`catalogue.Example`): `compute` over the spec and `expected`, the value
it must give. What `cnnspec explain` and SPEC.md show is each lambda's body as written in the
catalogue: the source span that the body's bytecode covers (PEP 657 positions), so the text shown
is the code run, with no string evaluated.
"""

from __future__ import annotations

import linecache

import numpy as np

from .catalogue import Example


def evaluate(example: Example):
    """The value the example computes."""
    with np.errstate(all="ignore"):
        return example.compute()


def expected_value(example: Example):
    """The value the example must give."""
    return example.expected()


def holds(example: Example) -> bool:
    """Whether the example gives exactly the expected value."""
    return evaluate(example) == expected_value(example)


def body_text(fn) -> str:
    """The source text of a lambda's body, such as `conv_output_size(28, 3)` for
    `lambda: conv_output_size(28, 3)`: from the first to the last column that its bytecode
    covers (continuation lines joined by one space)."""
    code = fn.__code__
    spans = [p for p in code.co_positions() if None not in p and p[2:] != (0, 0)]
    if not spans:
        raise ValueError(f"{code.co_name} at {code.co_filename}:{code.co_firstlineno} has no "
                         "source positions: run Python without -X no_debug_ranges")
    first_line, _, first_col, _ = min(spans, key=lambda p: (p[0], p[2]))
    _, last_line, _, last_col = max(spans, key=lambda p: (p[1], p[3]))
    lines = [linecache.getline(code.co_filename, n).encode("utf-8")  # columns count UTF-8 bytes
             for n in range(first_line, last_line + 1)]
    if len(lines) == 1:
        return lines[0][first_col:last_col].decode("utf-8")
    parts = [lines[0][first_col:], *lines[1:-1], lines[-1][:last_col]]
    return " ".join(part.decode("utf-8").strip() for part in parts)


def written(example: Example) -> tuple[str, str]:
    """(expression, expected) as the catalogue writes them: the text shown for the example."""
    return body_text(example.compute), body_text(example.expected)
