"""Hypothesis draws that do not depend on which modules the process has loaded.

Since version 6.131, Hypothesis's default provider draws, 1 time in 20, a literal constant
taken from the source of every loaded module that lies outside site-packages and the standard
library (`hypothesis/internal/conjecture/providers.py`, `_get_local_constants`; the source:
https://github.com/HypothesisWorks/hypothesis/blob/master/hypothesis-python/src/hypothesis/internal/conjecture/providers.py).
For a conformance suite that pool is part of the environment, not of the rule: an editable
install (cnnspec's own modules count as local), `python -m cnnspec` (its `__main__` is loaded),
the user's adapter module, and which adapters share a worker process all change it, and with it
the `ci` profile's examples and verdict.

`ignore_local_constants()` makes the provider see an empty pool of local constants, so the
draws of a check are a function of its strategies (the rule, the adapter's declared
capabilities) and the seed only. Hypothesis's global constants (a fixed list per Hypothesis
version: 0, +-inf, NaN, the dtype limits, ...) still come up as before.

It changes the provider class for the whole process: once set it stays set (calling it again is
free), and it applies to every Hypothesis test the process runs afterwards, the suite's checks
being the only ones in a `cnnspec run` or a `pytest --pyargs cnnspec.conformance` session.
"""

from __future__ import annotations

from hypothesis.internal.conjecture import providers
from hypothesis.internal.constants_ast import Constants


def _no_local_constants(provider) -> Constants:
    """The pool of constants the provider reads from loaded modules: none."""
    return Constants()


def ignore_local_constants() -> None:
    """Makes Hypothesis's default provider ignore the constants of the loaded modules, and
    forgets the pools it cached from them."""
    provider = providers.HypothesisProvider
    if getattr(provider._local_constants, "fget", None) is _no_local_constants:
        return
    provider._local_constants = property(_no_local_constants)
    providers.CONSTANTS_CACHE.cache.clear()
