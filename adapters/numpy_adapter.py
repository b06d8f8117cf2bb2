"""The NumPy adapter, `numpy`: the control group. It delegates to the float64 reference
(`cnnspec.spec.reference`) and rounds the result to the input's dtype, as a framework that
computes exactly would; it supports every op and must pass every rule."""

from __future__ import annotations

import numpy as np

from cnnspec.spec import reference

from .dispatch import ElementwiseOps
from .protocol import OPS


class NumpyAdapter(ElementwiseOps):
    name = "numpy"
    framework = "numpy"
    version = np.__version__
    device = "cpu"

    def __init__(self, device: str = "cpu"):
        if device != "cpu":
            raise ValueError(f"device={device!r}: the NumPy adapter runs on the cpu only")

    def supports(self, op: str, **params) -> bool | str:
        return True if op in OPS or op == "vjp" else f"no op named {op!r}"

    def _run(self, op, x, *args, **params):
        out = getattr(reference, op)(x, *args, **params)
        if op == "max_pool_argmax":
            return out
        with np.errstate(over="ignore"):  # rounds past the dtype's range to +-inf, as IEEE does
            return out.astype(np.asarray(x).dtype)

    def conv(self, x, w, b=None, *, strides, pads, dilations, groups):
        return self._run("conv", x, w, b, strides=strides, pads=pads, dilations=dilations,
                         groups=groups)

    def conv_transpose(self, x, w, b=None, *, strides, pads, dilations, groups, output_padding):
        return self._run("conv_transpose", x, w, b, strides=strides, pads=pads,
                         dilations=dilations, groups=groups, output_padding=output_padding)

    def max_pool(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        return self._run("max_pool", x, kernel_shape=kernel_shape, strides=strides, pads=pads,
                         dilations=dilations, ceil_mode=ceil_mode)

    def max_pool_argmax(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        return self._run("max_pool_argmax", x, kernel_shape=kernel_shape, strides=strides,
                         pads=pads, dilations=dilations, ceil_mode=ceil_mode)

    def avg_pool(self, x, *, kernel_shape, strides, pads, ceil_mode, count_include_pad):
        return self._run("avg_pool", x, kernel_shape=kernel_shape, strides=strides, pads=pads,
                         ceil_mode=ceil_mode, count_include_pad=count_include_pad)

    def adaptive_avg_pool(self, x, *, output_size):
        return self._run("adaptive_avg_pool", x, output_size=output_size)

    def adaptive_max_pool(self, x, *, output_size):
        return self._run("adaptive_max_pool", x, output_size=output_size)

    def global_avg_pool(self, x):
        return self._run("global_avg_pool", x)

    def max_unpool(self, x, indices, *, kernel_shape, strides, pads, output_size=None):
        return self._run("max_unpool", x, indices, kernel_shape=kernel_shape, strides=strides,
                         pads=pads, output_size=output_size)

    def upsample_nearest(self, x, *, scale_factors):
        return self._run("upsample_nearest", x, scale_factors=scale_factors)

    def pixel_shuffle(self, x, *, upscale_factor):
        return self._run("pixel_shuffle", x, upscale_factor=upscale_factor)

    def _unary(self, name, x, **params):  # softmax, log_softmax and the activations
        return self._run(name, x, **params)

    def vjp(self, op: str, args: tuple, cotangent, **params) -> tuple:
        grads = reference.vjp(op, args, cotangent, **params)
        return tuple(g.astype(np.asarray(a).dtype) for g, a in zip(grads, args))
