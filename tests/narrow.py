"""Adapters for libraries that support part of the space, as most real ones do: the NumPy
control, declining what such a library lacks. The suite must still check every rule on them
(issue 10): a rule `unsupported` here is a check that never draws inside the supported part."""

from __future__ import annotations

from cnnspec.adapters import Capabilities
from cnnspec.adapters.capabilities import OPTIONS
from cnnspec.adapters.numpy_adapter import NumpyAdapter
from cnnspec.spec.ops import OPS as TABLE


class TwoSpatialAxesOnly(NumpyAdapter):
    """Channels-first arrays with exactly 2 spatial axes (N, C, H, W), as many image libraries;
    softmax and the activations take any array."""

    name = "two-axes"
    SPATIAL = tuple(name for name, op in TABLE.items() if not op.elementwise)

    def supports(self, op, **params):
        shape = params.get("shape")
        if op in self.SPATIAL and shape is not None and len(shape) != 4:
            return "2 spatial axes only"
        return super().supports(op, **params)


class Float32Only(NumpyAdapter):
    """float32 arrays only, as many accelerator libraries."""

    name = "float32-only"

    def supports(self, op, **params):
        if params.get("dtype", "float32") != "float32":
            return "float32 only"
        return super().supports(op, **params)


class Declared2dForwardFloat32(NumpyAdapter):
    """The same limits declared up front as capabilities, forward only: the strategies draw
    inside them and nothing is declined."""

    name = "declared"
    capabilities = Capabilities(
        gradients=frozenset(), spatial_ranks=frozenset({2}), dtypes=frozenset({"float32"}),
        reasons={"gradients": "inference only", "spatial_ranks": "2 spatial axes only",
                 "dtypes": "float32 only"})


class NeverCountsPadding(NumpyAdapter):
    """Average pooling that never counts padding (count_include_pad=True declared unsupported,
    as TensorFlow does), and no float64 3-d pooling kernel (declined call by call)."""

    name = "never-counts-padding"
    capabilities = Capabilities(options={"avg_pool": OPTIONS - {"count_include_pad"}},
                                reasons={"count_include_pad": "its average pooling never "
                                                              "counts padding"})

    def supports(self, op, **params):
        if op == "avg_pool" and params.get("dtype") == "float64" and len(params["shape"]) == 5:
            return "no float64 3-d average pooling kernel"
        return super().supports(op, **params)
