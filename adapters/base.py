"""One adapter base, built from the protocol's op table: a subclass supplies its framework's
native calls and its array conversion; the base gives every public method of the protocol.

    class MyLibrary(FrameworkAdapter):
        name = framework = "mylib"
        version = mylib.__version__

        def to_native(self, array):            # a NumPy array in, the framework's array out
            return mylib.asarray(array)

        def to_numpy(self, value):             # and back (bfloat16 as ml_dtypes.bfloat16)
            return np.asarray(value)

        def native_relu(self, x):              # one method per op it has, named native_<op>,
            return mylib.relu(x)               # with the protocol's keywords, on native arrays

        def native_vjp(self, forward, args, cotangent):   # only if it has autodiff
            return mylib.vjp(forward, args, cotangent)

An op without its `native_<op>` is outside the adapter's capabilities (derived from the methods
it has, unless the subclass overrides `declared_capabilities`), so it is `unsupported` with the reason
"<framework> has no <op>" without a draw; without `native_vjp` there are no gradients. Layout is
the subclass's business: a channels-last framework transposes inside its native calls.
`supports(op, **call)` (True by default) takes the finer limits.
"""

from __future__ import annotations

import inspect

import numpy as np

from .capabilities import Capabilities
from .protocol import ARRAYS, DEFAULTS, DIFFERENTIABLE, OPS


def params_key(params: dict) -> tuple:
    """A call's keywords as a hashable, order-independent key (lists become tuples): for an
    adapter's cache of compiled programs or sessions."""
    def frozen(value):
        return tuple(frozen(v) for v in value) if isinstance(value, (list, tuple)) else value
    return tuple(sorted((k, frozen(v)) for k, v in params.items()))


class FrameworkAdapter:
    name = "framework"
    framework = "framework"
    version = "unknown"
    device = "cpu"

    def __init__(self, device: str = "cpu"):
        self.device = self.placement(device)
        if self.capabilities is None:  # a subclass may set the attribute itself
            self.capabilities = self.declared_capabilities()

    # what a subclass supplies -------------------------------------------------------------

    def placement(self, device: str) -> str:
        """The device the adapter runs on, as the results record it; a ValueError naming the
        value when the library cannot run there. By default: the cpu only."""
        if device != "cpu":
            raise ValueError(f"device={device!r}: the {self.name} adapter runs on the cpu only")
        return device

    def to_native(self, array):
        """A NumPy array (or None, for an absent bias) as the framework's array."""
        return array

    def to_numpy(self, value) -> np.ndarray:
        """A framework array as a NumPy array of its own dtype."""
        return np.asarray(value)

    native_vjp = None  # (forward, args, cotangent) -> one gradient per arg, all native
    capabilities = None  # set when built, from declared_capabilities()

    # derived ------------------------------------------------------------------------------

    @classmethod
    def native_ops(cls) -> frozenset:
        """The protocol's ops this class has a `native_<op>` for."""
        return frozenset(op for op in OPS if callable(getattr(cls, f"native_{op}", None)))

    def declared_capabilities(self) -> Capabilities:
        """What the adapter declares (`capabilities`, set when it is built). By default: the ops
        with a native call, and their gradients if it has native_vjp."""
        ops = self.native_ops()
        gradients = ops & set(DIFFERENTIABLE) if self.native_vjp else frozenset()
        reasons = {op: f"{self.framework} has no {op}" for op in set(OPS) - ops}
        if not self.native_vjp:
            reasons["gradients"] = f"the {self.name} adapter has no autodiff (no native_vjp)"
        return Capabilities(ops=ops, gradients=gradients, reasons=reasons)

    def supports(self, op: str, **call) -> bool | str:
        return True

    def native(self, op: str):
        """The bound `native_<op>` method, or a NotImplementedError naming what is missing."""
        method = getattr(self, f"native_{op}", None)
        if method is None:
            raise NotImplementedError(f"{self.framework} has no {op}")
        return method

    def call(self, op: str, arrays, params: dict):
        """Runs `op` natively: arrays converted in, the result converted out."""
        return self.to_numpy(self.native(op)(*(self.to_native(a) for a in arrays), **params))

    def forward(self, op: str, params: dict):
        """`op` with `params` as a function of native arrays only (an absent optional array,
        the bias, filled with None): what `native_vjp` differentiates."""
        native = self.native(op)

        def forward(*tensors):
            absent = (None,) * (len(ARRAYS[op]) - len(tensors))
            return native(*tensors, *absent, **params)
        return forward

    def vjp(self, op: str, args: tuple, cotangent, **params) -> tuple:
        if self.native_vjp is None or op not in DIFFERENTIABLE:
            raise NotImplementedError(f"the {self.name} adapter has no gradient of {op}")
        grads = self.native_vjp(self.forward(op, params),
                                tuple(self.to_native(a) for a in args), self.to_native(cotangent))
        return tuple(np.zeros_like(np.asarray(a)) if g is None else self.to_numpy(g)
                     for g, a in zip(grads, args))  # None: the framework's "no dependence"


def _protocol_method(op: str):
    """The protocol's method for `op`, with its signature (the arrays, "?" marking an optional
    one, then the keyword-only parameters), running `self.call(op, arrays, params)`."""
    positional, keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY
    arrays = [inspect.Parameter(name.rstrip("?"), positional,
                                **({"default": None} if name.endswith("?") else {}))
              for name in ARRAYS[op]]
    keywords = [inspect.Parameter(k, keyword, **({"default": DEFAULTS[op][k]}
                                                 if k in DEFAULTS.get(op, {}) else {}))
                for k in OPS[op]]
    signature = inspect.Signature([inspect.Parameter("self", positional), *arrays, *keywords])

    def method(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        return self.call(op, [bound.arguments[a.name] for a in arrays],
                         {k.name: bound.arguments[k.name] for k in keywords})

    method.__signature__ = signature
    method.__name__ = method.__qualname__ = op
    method.__doc__ = f"The protocol's {op}: NumPy arrays in and out (protocol.py)."
    return method


for _op in OPS:
    setattr(FrameworkAdapter, _op, _protocol_method(_op))
del _op
