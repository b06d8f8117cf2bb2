"""Adapters that misbehave in ways that are not rule bugs: they crash, hang, lack an option, or
declare a deviation. Loaded by path, as a third party's adapter would be."""

from __future__ import annotations

import ctypes
import os
import signal
import time
from pathlib import Path

import numpy as np

from cnnspec.adapters.numpy_adapter import NumpyAdapter
from mutants import NaiveSoftmax

DATA = Path(__file__).with_name("data")


class RaisingConv(NumpyAdapter):
    name = "raising"

    def conv(self, x, w, b=None, **params):
        raise RuntimeError("planted crash in conv")


class HangingSigmoid(NumpyAdapter):
    name = "hanging"

    def sigmoid(self, x):
        time.sleep(30)
        return super().sigmoid(x)


class HangingInC(NumpyAdapter):
    """A call that never gets back to the interpreter's signal handling, as a deadlock in a
    framework's C code: SIGALRM is blocked, so only the parent's watchdog can stop it."""

    name = "hanging-in-c"

    def sigmoid(self, x):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(600)


class AbortingMaxPool(NumpyAdapter):
    """Kills its process as torch's max-pool backward did on windows that cover no input
    (heap corruption, abort): pytorch#114216."""

    name = "aborting"

    def max_pool(self, x, **params):
        os.abort()


class SegfaultingSoftmax(NumpyAdapter):
    name = "segfaulting"

    def softmax(self, x, *, axis):
        ctypes.string_at(0)  # reads address 0: SIGSEGV


class NoCeilMode(NumpyAdapter):
    """Like TF and JAX pooling: no ceil mode, and says so."""

    name = "no-ceil"

    def supports(self, op, **params):
        if op in ("max_pool", "avg_pool") and params.get("ceil_mode"):
            return "pooling has no ceil mode"
        return super().supports(op, **params)


class DeclaredNaiveSoftmax(NaiveSoftmax):
    """The naive softmax, with its overflow declared in a deviations file."""

    name = "declared"
    deviations_file = DATA / "declared.toml"


class ControlWithStaleDeviation(NumpyAdapter):
    name = "stale"
    deviations_file = DATA / "declared.toml"


class NanRelu6AtInfinity(NumpyAdapter):
    """relu6 as min(max(x, 0), 6) written with a product: relu6(+inf) = NaN, as one of the real
    libraries tried gave. The error is NaN, which strict JSON cannot hold as a number."""

    name = "nan-relu6"

    def relu6(self, x):
        x = np.asarray(x)
        return np.where(x == np.inf, np.nan, np.clip(x, 0, 6)).astype(x.dtype)


class DeclaredNanRelu6(NanRelu6AtInfinity):
    """The same, with relu6(+inf) = NaN declared: a deviation row whose error is not finite."""

    name = "declared-nan-relu6"
    deviations_file = DATA / "nan_relu6.toml"


class ValidTransposedConvMaxKS(NumpyAdapter):
    """A 'valid' transposed conv (i-1)*s + max(k, s) long, as Keras makes it (declared for the
    forward rule), whose VJP indexes its own, longer output: the spec's cotangent is too short
    for it and the library raises an IndexError."""

    name = "valid-max-ks"
    deviations_file = DATA / "valid_length.toml"

    def conv_transpose(self, x, w, b=None, *, strides, pads, output_padding, **params):
        if pads == "VALID":
            k = np.shape(w)[2:]
            output_padding = tuple(max(s - kk, 0) for s, kk in zip(strides, k))
            pads = ((0, 0),) * len(k)
        return super().conv_transpose(x, w, b, strides=strides, pads=pads,
                                      output_padding=output_padding, **params)

    def vjp(self, op, args, cotangent, **params):
        if op == "conv_transpose":
            longer = self.conv_transpose(*args, **params).shape
            if np.shape(cotangent) != longer:
                raise IndexError(f"index {longer[-1] - 1} is out of bounds for axis 2 with "
                                 f"size {np.shape(cotangent)[-1]}")
        return super().vjp(op, args, cotangent, **params)


class RaisesAfterAConvention(NumpyAdapter):
    """Max pooling that works (NaN propagates: a convention recorded) for its first 5 calls,
    then raises: an error row, which records no convention."""

    name = "raises-later"
    calls = 0

    def max_pool(self, x, **params):
        type(self).calls += 1
        if type(self).calls > 5:
            raise RuntimeError("planted crash after 5 calls")
        return super().max_pool(x, **params)


INSTANCE = NoCeilMode()  # an adapter given as an instance, built on the cpu


class TypoInDeviations(NumpyAdapter):
    """Declares a deviation whose `when` misspells dtype: never matching, so an error."""

    name = "typo"
    deviations_file = DATA / "typo.toml"


class WritesIntoItsInputs(NumpyAdapter):
    """Correct results, but it scales its cotangent and its input in place afterwards, as a
    library reusing buffers may: the harness must keep its own copies (a reference computed on
    the changed arrays was wrong, and the reproducer did not reproduce)."""

    name = "writes-inputs"

    def vjp(self, op, args, cotangent, **params):
        grads = super().vjp(op, args, cotangent, **params)
        cotangent /= 2
        return grads

    def relu(self, x):
        out = super().relu(x)
        with np.errstate(over="ignore"):
            x *= 3
        return out


class ReturnsAList(NumpyAdapter):
    """sigmoid returns a Python list, and the avg_pool VJP a bare array: not the protocol's
    types."""

    name = "returns-list"

    def sigmoid(self, x):
        return super().sigmoid(x).tolist()

    def vjp(self, op, args, cotangent, **params):
        grads = super().vjp(op, args, cotangent, **params)
        return grads[0] if op == "avg_pool" else grads


class SoftmaxDropsTheAxis(NumpyAdapter):
    """softmax that returns the row sums' shape: one axis short."""

    name = "drops-axis"

    def softmax(self, x, *, axis):
        return super().softmax(x, axis=axis).sum(axis=axis)


class RaisesOnHalfSigmoid(NumpyAdapter):
    """Raises for a float16 sigmoid, as a library without that kernel; declared as a raise."""

    name = "raises-half"
    deviations_file = DATA / "raises.toml"

    def sigmoid(self, x):
        if np.asarray(x).dtype == np.float16:
            raise TypeError("no float16 kernel for sigmoid")
        return super().sigmoid(x)


class RaisesUndeclared(RaisesOnHalfSigmoid):
    name = "raises-undeclared"
    deviations_file = DATA / "nan_relu6.toml"  # about another rule


class SegfaultsOnDoubleRelu6(NumpyAdapter):
    """Kills the process on a float64 relu6 (a segfault in C); declared `crashes = true`, so
    the suite never makes that call."""

    name = "segfaults-double"
    deviations_file = DATA / "crashes.toml"

    def relu6(self, x):
        if np.asarray(x).dtype == np.float64:
            ctypes.string_at(0)
        return super().relu6(x)


class FloorsWhenKernelBelowStride(NumpyAdapter):
    """Max pooling that returns zeros where a kernel is smaller than its stride on some axis:
    a bug declared with a derived condition (`axes`), and only there."""

    name = "kernel-below-stride"
    deviations_file = DATA / "axes.toml"

    def max_pool(self, x, **params):
        out = super().max_pool(x, **params)
        if any(k < s for k, s in zip(params["kernel_shape"], params["strides"])):
            return np.zeros_like(out)
        return out
