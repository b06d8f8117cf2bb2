"""The op table: every op of the adapter protocol, one entry each, and what every other copy of
an op's traits derives from.

    OPS["max_unpool"].arrays        -> (Array("x"), Array("indices", dtype="int64"))
    OPS["max_unpool"].keywords      -> ("kernel_shape", "strides", "pads", "output_size")
    OPS["max_unpool"].defaults      -> {"output_size": None}
    OPS["max_unpool"].minimal_call(spatial_axes=1)
        -> Call(shapes=((1, 1, 2), (1, 1, 2)), dtypes=("float32", "int64"),
                keywords={"kernel_shape": (2,), "strides": (2,), "pads": ((0, 0),)})

It sits at the bottom (`cnnspec.spec`: the standard library and NumPy) because the float64 reference
(`spec/reference`) implements it and may not import the adapters. Derived from it:
`adapters/protocol.py`'s OPS / ARRAYS / DEFAULTS / DIFFERENTIABLE / ADDED_IN, the capabilities'
padded and elementwise ops and the ops each option applies to, the reference's VJP dispatch,
the dtype checks' tiny calls, ONNX Runtime's attribute groups and kernel probes, and the
per-axis quantities of the deviation conditions. tests/test_op_table.py holds the `Adapter`
Protocol class and every built-in adapter to it. Adding an op: docs/contributing.md,
"What adding an op, a rule, a built-in adapter touches".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

# Every keyword of the protocol, in the order a call spells them, with the form of its value:
# "per_axis" (one int per spatial axis), "pads" ((begin, end) per spatial axis, or a native
# mode's name), "scalar" (one value for the call).
KEYWORDS = MappingProxyType({
    "kernel_shape": "per_axis", "strides": "per_axis", "pads": "pads", "dilations": "per_axis",
    "groups": "scalar", "output_padding": "per_axis", "ceil_mode": "scalar",
    "count_include_pad": "scalar", "output_size": "per_axis", "scale_factors": "per_axis",
    "upscale_factor": "scalar", "axis": "scalar", "alpha": "scalar",
})
PER_AXIS = tuple(k for k, form in KEYWORDS.items() if form == "per_axis")


@dataclass(frozen=True)
class Array:
    """One array argument: its name, whether a call may leave it out (None), its dtype
    ("input": the call's dtype, whatever it is; else a fixed one, such as "int64" indices) and
    its layout: "batch" `(N, C, *spatial)`, "weight" `(C_out, C_in/groups, *kernel)` (for a
    transposed conv `(C_in, C_out/groups, *kernel)`), "vector" `(C_out,)` (a bias)."""

    name: str
    optional: bool = False
    dtype: str = "input"
    layout: str = "batch"


@dataclass(frozen=True)
class Call:
    """A call: the shape and the dtype of each of its arrays, in order, and its keywords."""

    shapes: tuple
    dtypes: tuple
    keywords: Mapping


@dataclass(frozen=True)
class Op:
    """One op of the protocol.

    `keywords` are keyword-only, in call order; `defaults` are those a call may leave out.
    `padded`: takes `pads` (explicit pairs or a native mode). `elementwise`: acts on any array,
    the same at every position but along `axis` (no spatial axes of its own). `added_in` /
    `gradient_added_in`: the protocol version that added the op / its `vjp`. `spatial_axes`:
    the numbers of spatial axes it takes. `output_dtype`: "input" (the input's), or its own.
    `example`, `example_channels`, `example_spatial`: a minimal valid call (`minimal_call`), its
    keywords given for one spatial axis. `reference`:
    the function of `cnnspec.spec.reference` it maps to; its gradient is `<reference>_vjp`.
    """

    name: str
    arrays: tuple
    keywords: tuple = ()
    defaults: Mapping = field(default_factory=dict)
    differentiable: bool = True
    padded: bool = False
    elementwise: bool = False
    spatial_axes: tuple = (1, 2, 3)
    output_dtype: str = "input"  # or a fixed one: max_pool_argmax's indices are "int64"
    added_in: int = 1
    gradient_added_in: int | None = 1
    example: Mapping = field(default_factory=dict)
    example_channels: int = 1
    example_spatial: int = 4
    reference: str = ""

    def __post_init__(self):
        unknown = [k for k in self.keywords if k not in KEYWORDS]
        if unknown or set(self.defaults) - set(self.keywords) \
                or set(self.example) - set(self.keywords):
            raise ValueError(f"Op({self.name!r}): keywords {unknown or self.keywords} do not "
                             f"match KEYWORDS, defaults {sorted(self.defaults)} or example "
                             f"{sorted(self.example)}")
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))
        object.__setattr__(self, "example", MappingProxyType(dict(self.example)))
        object.__setattr__(self, "reference", self.reference or self.name)
        if not self.differentiable:
            object.__setattr__(self, "gradient_added_in", None)

    @property
    def required(self) -> tuple:
        """The names of the arrays a call must give."""
        return tuple(a.name for a in self.arrays if not a.optional)

    def minimal_call(self, spatial_axes: int | None = None, dtype: str = "float32") -> Call:
        """A small valid call with `spatial_axes` spatial axes (the op's fewest by default),
        every optional array given: the example's keywords, each per-axis one repeated per
        axis; inputs of `example_channels` channels and `example_spatial` elements per axis,
        weights of one channel in and out and 2 elements per axis, a bias of one."""
        n = self.spatial_axes[0] if spatial_axes is None else spatial_axes
        if n not in self.spatial_axes:
            raise ValueError(f"{self.name}: spatial_axes={n}: it takes "
                             f"{', '.join(map(str, self.spatial_axes))}")
        keywords = {name: tuple(value) * n if KEYWORDS[name] != "scalar" else value
                    for name, value in self.example.items()}
        shapes = {"batch": (1, self.example_channels) + (self.example_spatial,) * n,
                  "weight": (1, 1) + (2,) * n, "vector": (1,)}
        return Call(tuple(shapes[a.layout] for a in self.arrays),
                    tuple(dtype if a.dtype == "input" else a.dtype for a in self.arrays),
                    MappingProxyType(keywords))


def _op(name, arrays=("x",), keywords=(), **traits) -> Op:
    layouts = {"x": "batch", "w": "weight", "b": "vector"}
    parsed = tuple(a if isinstance(a, Array) else Array(
        a.rstrip("?"), a.endswith("?"), layout=layouts[a.rstrip("?")]) for a in arrays)
    return Op(name, parsed, tuple(keywords), **traits)


_ONE = (1,)
_NO_PADS = ((0, 0),)
_CONV = dict(strides=_ONE, pads=_NO_PADS, dilations=_ONE, groups=1)
_WINDOW = dict(kernel_shape=(2,), strides=(2,), pads=_NO_PADS)
_POOL = ("kernel_shape", "strides", "pads", "dilations", "ceil_mode")

_TABLE = (
    _op("conv", ("x", "w", "b?"), ("strides", "pads", "dilations", "groups"), padded=True,
        example=_CONV),
    _op("conv_transpose", ("x", "w", "b?"),
        ("strides", "pads", "dilations", "groups", "output_padding"), padded=True,
        example=dict(_CONV, output_padding=(0,))),
    _op("max_pool", keywords=_POOL, padded=True,
        example=dict(_WINDOW, dilations=_ONE, ceil_mode=False)),
    _op("max_pool_argmax", keywords=_POOL, padded=True, differentiable=False, output_dtype="int64",
        example=dict(_WINDOW, dilations=_ONE, ceil_mode=False)),
    _op("avg_pool", keywords=("kernel_shape", "strides", "pads", "ceil_mode",
                              "count_include_pad"), padded=True,
        example=dict(_WINDOW, ceil_mode=False, count_include_pad=True)),
    _op("adaptive_avg_pool", keywords=("output_size",), gradient_added_in=2,
        example={"output_size": (2,)}),
    _op("adaptive_max_pool", keywords=("output_size",), gradient_added_in=2,
        example={"output_size": (2,)}),
    _op("global_avg_pool", differentiable=False),
    _op("max_unpool", ("x", Array("indices", dtype="int64")),
        ("kernel_shape", "strides", "pads", "output_size"), defaults={"output_size": None},
        padded=True, differentiable=False, example=_WINDOW,
        example_spatial=2),  # a max pooling's output: 4 per axis pooled by 2
    _op("upsample_nearest", keywords=("scale_factors",), gradient_added_in=2,
        example={"scale_factors": (2,)}),
    _op("pixel_shuffle", keywords=("upscale_factor",), spatial_axes=(2,), gradient_added_in=2,
        example={"upscale_factor": 2}, example_channels=4),
    _op("softmax", keywords=("axis",), elementwise=True, example={"axis": -1}),
    _op("log_softmax", keywords=("axis",), elementwise=True, example={"axis": -1}),
    _op("sigmoid", elementwise=True),
    _op("tanh", elementwise=True),
    _op("relu", elementwise=True),
    _op("leaky_relu", keywords=("alpha",), elementwise=True, example={"alpha": 0.5}),
    _op("relu6", elementwise=True),
    _op("elu", keywords=("alpha",), elementwise=True, example={"alpha": 0.5}),
)
OPS = MappingProxyType({op.name: op for op in _TABLE})

# The protocol's newest version: the latest that added an op or a gradient.
PROTOCOL_VERSION = max(v for op in _TABLE for v in (op.added_in, op.gradient_added_in) if v)


def taking(keyword: str) -> tuple:
    """The ops that take `keyword`, in table order."""
    return tuple(name for name, op in OPS.items() if keyword in op.keywords)


def minimal_arrays(name: str, spatial_axes: int | None = None, dtype=np.float32) -> tuple:
    """(arrays, keywords): `OPS[name].minimal_call(...)` with values, in `dtype` (a NumPy dtype
    or ml_dtypes.bfloat16): 1, 2, ..., 8, 1, ... in order, and max_unpool's indices each
    window's first position in the unpooled plane (valid for any values)."""
    dtype = np.dtype(dtype)
    call = OPS[name].minimal_call(spatial_axes, dtype.name)
    arrays = []
    for shape, array_dtype in zip(call.shapes, call.dtypes):
        if array_dtype == "int64":  # max_unpool's indices
            kernel, strides = call.keywords["kernel_shape"], call.keywords["strides"]
            plane = tuple((i - 1) * s + k for i, s, k in zip(shape[2:], strides, kernel))
            starts = np.indices(shape[2:]) * np.reshape(strides, (-1,) + (1,) * len(plane))
            index = np.ravel_multi_index(tuple(starts), plane)
            arrays.append(np.broadcast_to(index, shape).astype(np.int64))
        else:
            count = int(np.prod(shape))
            arrays.append((np.arange(count) % 8 + 1).reshape(shape).astype(dtype))
    return tuple(arrays), dict(call.keywords)
