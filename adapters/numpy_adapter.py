"""The NumPy adapter, `numpy`: the control group. It delegates to the float64 reference
(`cnnspec.spec.reference`) and rounds the result to the input's dtype, as a framework that
computes exactly would; it supports every op and must pass every rule."""

from __future__ import annotations

import numpy as np

from cnnspec.spec import reference
from cnnspec.spec.ops import OPS as TABLE

from .base import FrameworkAdapter
from .capabilities import Capabilities
from .protocol import PROTOCOL_VERSION


class NumpyAdapter(FrameworkAdapter):
    name = "numpy"
    framework = "numpy"
    protocol_version = PROTOCOL_VERSION  # written for the current protocol
    version = np.__version__

    def declared_capabilities(self) -> Capabilities:
        return Capabilities()  # the whole protocol

    def call(self, op: str, arrays, params: dict):
        """Every op is the reference's function of that name, rounded to the input's dtype (an
        op with an output dtype of its own, max_pool_argmax's int64 indices, as it is)."""
        out = getattr(reference, TABLE[op].reference)(*arrays, **params)
        if TABLE[op].output_dtype != "input":
            return out
        with np.errstate(over="ignore"):  # rounds past the dtype's range to +-inf, as IEEE does
            return out.astype(np.asarray(arrays[0]).dtype)

    def vjp(self, op: str, args: tuple, cotangent, **params) -> tuple:
        grads = reference.vjp(op, args, cotangent, **params)
        return tuple(g.astype(np.asarray(a).dtype) for g, a in zip(grads, args))
