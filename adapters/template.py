# my_adapter.py: a cnnspec adapter, from `cnnspec new-adapter` (docs/writing-an-adapter.md).
# Replace the NumPy stand-ins with your library's calls; run it with
#   cnnspec run --adapter my_adapter.py:MyLibrary
"""An adapter for MyLibrary: a subclass of cnnspec's adapter base that supplies the library's
native calls, its array conversion, and what it supports."""

import numpy as np

from cnnspec.adapters import Capabilities
from cnnspec.adapters.base import FrameworkAdapter


class MyLibrary(FrameworkAdapter):
    name = "my-library"  # the name in the results and the report
    framework = "numpy"  # the distribution that holds the library
    version = np.__version__
    deviations_file = None  # or a path to your deviations TOML (see the guide)
    protocol_version = 2  # the protocol it was written for: what later ones add is unsupported

    def declared_capabilities(self) -> Capabilities:
        """What lies outside is `unsupported`, with these reasons, and is never drawn. By default
        (the base's): the ops you wrote a native_<op> for, no gradients without native_vjp."""
        base = super().declared_capabilities()
        return Capabilities(ops=base.ops, gradients=base.gradients,
                            dtypes={"float32", "float64"},
                            reasons={**base.reasons, "dtypes": "MyLibrary computes in float32 "
                                                                "and float64 only"})

    def supports(self, op: str, **call) -> bool | str:
        """Limits finer than the capabilities: True, or the reason (a missing option)."""
        return True

    def to_native(self, array):
        """A NumPy array (None for an absent bias) as the library's array."""
        return None if array is None else np.asarray(array)

    def to_numpy(self, value) -> np.ndarray:
        """The library's array as NumPy, in the dtype the library computed in."""
        return np.asarray(value)

    # One native_<op> per op the library has, with the protocol's keywords.

    def native_relu(self, x):
        return np.maximum(x, np.zeros((), x.dtype))

    def native_sigmoid(self, x):
        return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))),
                        np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x)))).astype(x.dtype)

    def native_softmax(self, x, *, axis):
        shifted = np.exp(x - x.max(axis=axis, keepdims=True))
        return shifted / shifted.sum(axis=axis, keepdims=True)
