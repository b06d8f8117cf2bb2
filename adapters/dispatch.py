"""What the framework adapters share: the forward call a VJP differentiates, and the protocol's
elementwise ops.

Each adapter has framework-native `_conv`, `_conv_transpose`, `_max_pool`, `_avg_pool` (and may
have `_<op>` for other ops) and `_elementwise(name, x, **params)` methods on its own tensors;
`forward` picks the one for `op`.
"""

from __future__ import annotations


def forward(adapter, op: str, tensors, params: dict):
    x, *rest = tensors
    if op in ("conv", "conv_transpose"):
        method = adapter._conv if op == "conv" else adapter._conv_transpose
        return method(x, rest[0], rest[1] if len(rest) > 1 else None, **params)
    native = getattr(adapter, f"_{op}", None)  # _max_pool, _avg_pool, ...
    if native is not None:
        return native(x, **params)
    return adapter._elementwise(op, x, **params)


class ElementwiseOps:
    """softmax, log_softmax and the activations, each one `_unary(name, x, **params)` call: by
    default the adapter's `_elementwise`, arrays in with `_in_plain` and out with `_out_plain`
    (by default `_in` / `_out`); the NumPy and JAX adapters route `_unary` to their `_run`."""

    def _in_plain(self, x):
        return self._in(x)

    def _out_plain(self, y):
        return self._out(y)

    def _unary(self, name, x, **params):
        return self._out_plain(self._elementwise(name, self._in_plain(x), **params))

    def softmax(self, x, *, axis):
        return self._unary("softmax", x, axis=axis)

    def log_softmax(self, x, *, axis):
        return self._unary("log_softmax", x, axis=axis)

    def sigmoid(self, x):
        return self._unary("sigmoid", x)

    def tanh(self, x):
        return self._unary("tanh", x)

    def relu(self, x):
        return self._unary("relu", x)

    def leaky_relu(self, x, *, alpha):
        return self._unary("leaky_relu", x, alpha=alpha)

    def relu6(self, x):
        return self._unary("relu6", x)

    def elu(self, x, *, alpha):
        return self._unary("elu", x, alpha=alpha)
