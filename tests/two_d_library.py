"""A third party's adapter for a 2-D-only, forward-only library, written on the adapter base
as docs/writing-an-adapter.md says (torch.nn.functional's 2-d ops stand in for the library)."""

import numpy as np
import torch
import torch.nn.functional as F

from cnnspec.adapters import Capabilities
from cnnspec.adapters.base import FrameworkAdapter
from cnnspec.adapters.capabilities import OPTIONS


class TwoDimensional(FrameworkAdapter):
    name = framework = "two-d"
    version = torch.__version__

    def declared_capabilities(self):
        return Capabilities(
            ops=self.native_ops(), gradients=frozenset(), spatial_ranks={2},
            dtypes={"float32", "float64"}, padding_modes={},
            options={op: OPTIONS - {"asymmetric_pads"} for op in ("conv", "max_pool", "avg_pool")},
            reasons={"gradients": "forward only", "spatial_ranks": "images only"})

    def supports(self, op, **call):
        pads, kernel = call.get("pads", ()), call.get("kernel_shape", ())
        if op.endswith("pool") and any(b > k // 2 for (b, _), k in zip(pads, kernel)):
            return "pooling pads at most kernel // 2"
        return True

    def to_native(self, array):
        return None if array is None else torch.from_numpy(np.array(array))

    def to_numpy(self, tensor):
        return tensor.numpy()

    def native_conv(self, x, w, b, *, strides, pads, dilations, groups):
        return F.conv2d(x, w, b, strides, [p for p, _ in pads], dilations, groups)

    def native_max_pool(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        return F.max_pool2d(x, kernel_shape, strides, [p for p, _ in pads], dilations, ceil_mode)

    def native_avg_pool(self, x, *, kernel_shape, strides, pads, ceil_mode, count_include_pad):
        return F.avg_pool2d(x, kernel_shape, strides, [p for p, _ in pads], ceil_mode,
                            count_include_pad)

    def native_softmax(self, x, *, axis):
        return F.softmax(x, axis)

    def native_relu(self, x):
        return F.relu(x)
