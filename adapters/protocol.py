"""The adapter protocol (architecture.md): a thin, stateless translator between the canonical call
and one framework's own operators.

NumPy arrays in, NumPy arrays out, channels-first `(N, C, *spatial)`; the output dtype is the
framework's own. Keyword names are fixed. `pads` is a tuple of `(begin, end)` pairs, one per
spatial axis, or "VALID" / "SAME_UPPER" / "SAME_LOWER" for the framework's NATIVE padding mode.
An adapter never re-implements the behaviour under test: where the framework lacks an option,
it says so, up front in its `capabilities` (capabilities.py) or call by call in `supports`,
and the rule is `unsupported` there. `base.FrameworkAdapter` implements this protocol from the
op tables below; docs/writing-an-adapter.md is the whole contract.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

# Every op of the protocol, with its keyword-only parameters, in the order a call spells them.
OPS = {
    "conv": ("strides", "pads", "dilations", "groups"),
    "conv_transpose": ("strides", "pads", "dilations", "groups", "output_padding"),
    "max_pool": ("kernel_shape", "strides", "pads", "dilations", "ceil_mode"),
    "max_pool_argmax": ("kernel_shape", "strides", "pads", "dilations", "ceil_mode"),
    "avg_pool": ("kernel_shape", "strides", "pads", "ceil_mode", "count_include_pad"),
    "adaptive_avg_pool": ("output_size",),
    "adaptive_max_pool": ("output_size",),
    "global_avg_pool": (),
    "max_unpool": ("kernel_shape", "strides", "pads", "output_size"),
    "upsample_nearest": ("scale_factors",),
    "pixel_shuffle": ("upscale_factor",),
    "softmax": ("axis",),
    "log_softmax": ("axis",),
    "sigmoid": (),
    "tanh": (),
    "relu": (),
    "leaky_relu": ("alpha",),
    "relu6": (),
    "elu": ("alpha",),
}
# The array arguments of each op, in order ("?": optional, None when absent).
ARRAYS = {op: ("x",) for op in OPS} | {"conv": ("x", "w", "b?"), "conv_transpose": ("x", "w", "b?"),
                                       "max_unpool": ("x", "indices")}
# Keywords a call may leave out, with the value they then take.
DEFAULTS = {"max_unpool": {"output_size": None}}
# Ops whose gradient `vjp` computes (one gradient per array argument).
DIFFERENTIABLE = ("conv", "conv_transpose", "max_pool", "avg_pool", "adaptive_avg_pool",
                  "adaptive_max_pool", "upsample_nearest", "pixel_shuffle", "softmax",
                  "log_softmax", "sigmoid", "tanh", "relu", "leaky_relu", "relu6", "elu")

# The protocol's versions, each with what it added (docs/writing-an-adapter.md, "Protocol
# versions"). An adapter says which version it was written for in its `protocol_version`
# attribute (none: 1); what a later version added is `unsupported` for it, with the reason
# "added in protocol N", never called: an upgrade of cnnspec adds rows, it does not turn an
# adapter's rows red. A new op or gradient gets a new version here.
PROTOCOL_VERSION = 2
ADDED_IN = {
    2: {"ops": (), "gradients": ("adaptive_avg_pool", "adaptive_max_pool", "upsample_nearest",
                                 "pixel_shuffle")},
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

    def avg_pool(self, x, *, kernel_shape, strides, pads, ceil_mode, count_include_pad): ...

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
