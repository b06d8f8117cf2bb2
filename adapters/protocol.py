"""The adapter protocol (architecture.md): a thin, stateless translator between the canonical call
and one framework's own operators.

NumPy arrays in, NumPy arrays out, channels-first `(N, C, *spatial)`; the output dtype is the
framework's own. Keyword names are fixed. `pads` is a tuple of `(begin, end)` pairs, one per
spatial axis, or "VALID" / "SAME_UPPER" / "SAME_LOWER" for the framework's NATIVE padding mode.
An adapter never re-implements the behaviour under test: where the framework lacks an option,
it says so, up front in its `capabilities` (capabilities.py) or call by call in `supports`,
and the rule is `unsupported` there. `base.FrameworkAdapter` implements this protocol from the
op table (`cnnspec.spec.ops`, viewed below as OPS, ARRAYS, DEFAULTS, DIFFERENTIABLE, ADDED_IN);
docs/writing-an-adapter.md is the whole contract. The `Adapter` class spells out every op's
signature for the reader; tests/test_op_table.py holds it to the table.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Protocol, runtime_checkable

from cnnspec.spec import ops
from cnnspec.spec.ops import OPS as TABLE

# Views of the op table (cnnspec.spec.ops, one entry per op), in the forms the adapters use;
# read-only, so that no caller drifts from the table.
# Every op of the protocol, with its keyword-only parameters, in the order a call spells them.
OPS = MappingProxyType({name: op.keywords for name, op in TABLE.items()})
# The array arguments of each op, in order ("?": optional, None when absent).
ARRAYS = MappingProxyType({name: tuple(a.name + "?" * a.optional for a in op.arrays)
                           for name, op in TABLE.items()})
# Keywords a call may leave out, with the value they then take.
DEFAULTS = MappingProxyType({name: MappingProxyType(dict(op.defaults))
                             for name, op in TABLE.items() if op.defaults})
# Ops whose gradient `vjp` computes (one gradient per array argument).
DIFFERENTIABLE = tuple(name for name, op in TABLE.items() if op.differentiable)

# The protocol's versions, each with what it added (docs/writing-an-adapter.md, "Protocol
# versions"). An adapter says which version it was written for in its `protocol_version`
# attribute (none: 1); what a later version added is `unsupported` for it, with the reason
# "added in protocol N", never called: an upgrade of cnnspec adds rows, it does not turn an
# adapter's rows red. A new op or gradient gets a new version in the op table.
PROTOCOL_VERSION = ops.PROTOCOL_VERSION
ADDED_IN = {
    version: {"ops": tuple(n for n, op in TABLE.items() if op.added_in == version),
              "gradients": tuple(n for n, op in TABLE.items()
                                 if op.gradient_added_in == version and op.added_in != version)}
    for version in range(2, PROTOCOL_VERSION + 1)
}


def device_parts(device: str) -> tuple[str, int]:
    """("cpu", N) or ("cuda", N) for the protocol's device names "cpu", "cpu:N", "cuda" and
    "cuda:N" ("gpu" is taken for "cuda"); a ValueError naming the value otherwise."""
    kind, _, index = device.lower().partition(":")
    kind = "cuda" if kind == "gpu" else kind
    if kind not in ("cpu", "cuda") or not (index or "0").isdigit():
        raise ValueError(f"device={device!r}: give cpu or cuda:N")
    return kind, int(index or 0)


@runtime_checkable
class Adapter(Protocol):
    name: str  # "numpy", "torch", "tensorflow", "jax", or a third party's
    framework: str  # distribution name, e.g. "torch"
    version: str  # the framework's version string
    device: str  # "cpu", "cuda:0", ...

    def supports(self, op: str, **params) -> bool | str:
        """True, or the reason the framework cannot do `op` with these parameters. The suite
        passes the call's keywords plus `dtype` and `shape` of the input, `dtypes` and `shapes`
        of every array argument (None for an absent bias) and, for a gradient, `vjp=True`,
        `cotangent_dtype` and `cotangent_shape`; an adapter ignores what it does not need."""

    def conv(self, x, w, b=None, *, strides, pads, dilations, groups): ...

    def conv_transpose(self, x, w, b=None, *, strides, pads, dilations, groups,
                       output_padding): ...

    def max_pool(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode): ...

    def max_pool_argmax(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode): ...

    def avg_pool(self, x, *, kernel_shape, strides, pads, ceil_mode, count_include_pad): ...

    def adaptive_avg_pool(self, x, *, output_size): ...

    def adaptive_max_pool(self, x, *, output_size): ...

    def global_avg_pool(self, x): ...

    def max_unpool(self, x, indices, *, kernel_shape, strides, pads, output_size=None): ...

    def upsample_nearest(self, x, *, scale_factors): ...

    def pixel_shuffle(self, x, *, upscale_factor): ...

    def softmax(self, x, *, axis): ...

    def log_softmax(self, x, *, axis): ...

    def sigmoid(self, x): ...

    def tanh(self, x): ...

    def relu(self, x): ...

    def leaky_relu(self, x, *, alpha): ...

    def relu6(self, x): ...

    def elu(self, x, *, alpha): ...

    def vjp(self, op: str, args: tuple, cotangent, **params) -> tuple:
        """One gradient per array argument, by the framework's own autodiff."""
