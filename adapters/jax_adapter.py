"""The JAX adapter, `jax`: `jax.lax` in channels-first dimension numbers, `jax.vjp` for VJPs.
float64 needs `jax_enable_x64`, which the adapter turns on for the process.

Mappings a JAX user would write:
- conv is `lax.conv_general_dilated` with ("NC...", "OI...", "NC...") dimension numbers,
  explicit pads as (low, high) pairs and JAX's own "VALID" / "SAME" / "SAME_LOWER".
- transposed conv is `lax.conv_transpose(..., transpose_kernel=True)` with the PyTorch-layout
  weight (C_in, C_out, *k) declared "OI...", so that it is the gradient of the conv with that
  weight; explicit pads become the padding of the equivalent direct conv,
  `(d*(k-1) - pb, d*(k-1) - pe + a)`. Without `transpose_kernel` the kernel is not flipped.
  `lax.conv_transpose` has no groups.
- max pooling is `lax.reduce_window(x, -inf, lax.max, ...)`; average pooling is the flax /
  stax idiom, `lax.reduce_window(x, 0, lax.add, ...) / prod(k)`, which counts padding. lax has
  no ceil mode, no argmax output, no adaptive pooling, no unpooling and no pixel shuffle.
- global average pooling is `jnp.mean` over space; nearest upsampling is
  `jax.image.resize(method="nearest")`.

Every op runs as a user runs JAX: under `jax.jit`. XLA compiles once per op, static arguments
and input shapes (tens of milliseconds on a CPU), so the adapter keeps one jitted callable per
(op, static arguments) and lets `jit` cache the executables per shape; a VJP is one jitted
program (forward, linearise, transpose), not an eager primitive-by-primitive trace that
compiles every primitive on its own. The executables are also kept on disk, in JAX's persistent
compilation cache, so that the next run skips XLA (the `ci` profile draws the same shapes every
time): in `$JAX_COMPILATION_CACHE_DIR` when set, else in `$CNNSPEC_CACHE_DIR/jax` (default
`~/.cache/cnnspec/jax`, at most 1 GiB, least recently used entries go first); an empty
`CNNSPEC_CACHE_DIR=` turns it off.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from .base import FrameworkAdapter, params_key
from .capabilities import OPTIONS, Capabilities
from .protocol import PROTOCOL_VERSION, device_parts


def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def _persistent_cache(jax) -> None:
    """Points JAX's persistent compilation cache at cnnspec's cache folder (see the module doc)."""
    if os.environ.get("JAX_COMPILATION_CACHE_DIR") or jax.config.jax_compilation_cache_dir:
        return  # the user's own setting
    root = os.environ.get("CNNSPEC_CACHE_DIR")
    if root is None:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cnnspec"
    if not root:
        return
    jax.config.update("jax_compilation_cache_dir", str(Path(root) / "jax"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # ours take ~0.1 s
    jax.config.update("jax_compilation_cache_max_size", 1 << 30)


def _layout(ndim):
    spatial = "DHW"[-ndim:] if ndim <= 3 else None
    return (f"NC{spatial}", f"OI{spatial}", f"NC{spatial}")


def _placement(jax, device: str):
    """JAX's device for "cpu", "cpu:N", "cuda:N" or "gpu:N"; a ValueError when JAX has none."""
    kind, index = device_parts(device)
    platform = "gpu" if kind == "cuda" else "cpu"
    try:
        devices = jax.devices(platform)
    except RuntimeError:
        devices = []
    if index >= len(devices):
        raise ValueError(f"device={device!r}: JAX {jax.__version__} sees {len(devices)} "
                         f"{platform} device(s); run on cpu, or install JAX with CUDA")
    return devices[index]


class JaxAdapter(FrameworkAdapter):
    name = "jax"
    framework = "jax"
    protocol_version = PROTOCOL_VERSION  # written for the current protocol

    def __init__(self, device: str = "cpu"):
        jax = _jax()
        import jax.numpy as jnp
        from jax import lax

        self.jax, self.jnp, self.lax = jax, jnp, lax
        self.version = jax.__version__
        super().__init__(device)
        jax.config.update("jax_default_matmul_precision", "highest")  # no TF32 on GPUs
        _persistent_cache(jax)
        self._jitted: dict = {}

    def placement(self, device: str) -> str:
        self._device = _placement(self.jax, device)
        return "cpu" if self._device.platform == "cpu" else f"cuda:{self._device.id}"

    def declared_capabilities(self) -> Capabilities:
        return Capabilities(
            devices=("cpu", "cuda"),
            ops=self.native_ops(),  # the ops it has a native_<op> for
            padding_modes={"conv": ("VALID", "SAME_UPPER", "SAME_LOWER"),
                           "conv_transpose": ("VALID", "SAME_UPPER"),
                           "max_pool": ("VALID", "SAME_UPPER", "SAME_LOWER"),
                           "avg_pool": ("VALID", "SAME_UPPER", "SAME_LOWER")},
            options={"conv_transpose": OPTIONS - {"groups"},
                     "max_pool": OPTIONS - {"ceil_mode"},
                     "avg_pool": OPTIONS - {"ceil_mode", "exclude_pad"}},
            reasons={"max_pool_argmax": "lax has no max pooling with argmax indices",
                     "adaptive_avg_pool": "lax has no adaptive pooling",
                     "adaptive_max_pool": "lax has no adaptive pooling",
                     "max_unpool": "lax has no max unpooling",
                     "pixel_shuffle": "jax.nn / lax have no pixel shuffle",
                     "conv_transpose.groups": "lax.conv_transpose has no groups",
                     "conv_transpose.SAME_LOWER": "lax.conv_transpose has no SAME_LOWER",
                     "ceil_mode": "lax.reduce_window has no ceil mode",
                     "exclude_pad": "JAX average pooling (reduce_window sum / window size, as "
                                    "flax) always counts padding"})

    def _jit(self, kind: str, op: str, params: dict, build):
        """The jitted callable for (kind, op, params), built once by `build(params)`."""
        key = (kind, op, params_key(params))
        if key not in self._jitted:
            self._jitted[key] = self.jax.jit(build(params))
        return self._jitted[key]

    def call(self, op: str, arrays, params: dict):
        """The native `op` under `jit` (one jitted callable per op and keywords)."""
        fn = self._jit("forward", op, params, lambda p: self.forward(op, p))
        return self.to_numpy(fn(*(self.to_native(a) for a in arrays)))

    def vjp(self, op: str, args: tuple, cotangent, **params) -> tuple:
        """Forward, linearise and transpose as one jitted program."""
        def build(p):
            forward = self.forward(op, p)

            def vjp(arrays, cotangent):
                _, pullback = self.jax.vjp(forward, *arrays)
                return pullback(cotangent)
            return vjp

        fn = self._jit("vjp", op, params, build)
        grads = fn(tuple(self.to_native(a) for a in args), self.to_native(cotangent))
        return tuple(self.to_numpy(g) for g in grads)

    # conversion --------------------------------------------------------------------------

    def to_native(self, array):
        return None if array is None else self.jax.device_put(np.asarray(array), self._device)

    def to_numpy(self, value) -> np.ndarray:
        return np.asarray(value)

    # support ---------------------------------------------------------------------------

    def supports(self, op: str, **params) -> bool | str:
        if op == "max_pool" and params.get("vjp") and any(
                d > 1 for d in params.get("dilations", ())):
            return "JAX: 'VJP not implemented for select_and_gather (MaxPool) with window dilation'"
        if op == "conv_transpose":
            limits = zip(params.get("output_padding", ()), params.get("strides", ()),
                         params.get("dilations", ()))
            if any(a >= max(s, d) for a, s, d in limits):
                return ("lax.conv_transpose has no output_padding to validate: it can only be "
                        "passed on as end padding, where any amount is valid")
        return True

    # native ops -------------------------------------------------------------------------

    def native_conv(self, x, w, b, *, strides, pads, dilations, groups):
        ndim = x.ndim - 2
        if pads == "SAME_UPPER":
            pads = "SAME"
        padding = pads if isinstance(pads, str) else [tuple(p) for p in pads]
        y = self.lax.conv_general_dilated(
            x, w, window_strides=tuple(strides), padding=padding, rhs_dilation=tuple(dilations),
            dimension_numbers=_layout(ndim), feature_group_count=groups,
            precision=self.lax.Precision.HIGHEST)
        return y if b is None else y + b.reshape((1, -1) + (1,) * ndim)

    def native_conv_transpose(self, x, w, b, *, strides, pads, dilations, groups,
                              output_padding):
        ndim = x.ndim - 2
        kernel = w.shape[2:]
        if pads == "VALID":
            pads = ((0, 0),) * ndim
        if isinstance(pads, str):
            padding = "SAME"
        else:
            padding = [(d * (k - 1) - pb, d * (k - 1) - pe + a)
                       for k, d, (pb, pe), a in zip(kernel, dilations, pads, output_padding)]
        y = self.lax.conv_transpose(x, w, tuple(strides), padding,
                                    rhs_dilation=tuple(dilations),
                                    dimension_numbers=_layout(ndim), transpose_kernel=True,
                                    precision=self.lax.Precision.HIGHEST)
        return y if b is None else y + b.reshape((1, -1) + (1,) * ndim)

    def _window(self, pads):
        if isinstance(pads, str):
            return {"SAME_UPPER": "SAME"}.get(pads, pads)
        return ((0, 0), (0, 0), *map(tuple, pads))

    def native_max_pool(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        return self.lax.reduce_window(x, -self.jnp.inf, self.lax.max, (1, 1, *kernel_shape),
                                      (1, 1, *strides), self._window(pads),
                                      window_dilation=(1, 1, *dilations))

    def native_avg_pool(self, x, *, kernel_shape, strides, pads, ceil_mode, count_include_pad):
        total = self.lax.reduce_window(x, np.zeros((), x.dtype), self.lax.add,
                                       (1, 1, *kernel_shape), (1, 1, *strides),
                                       self._window(pads))
        return total / math.prod(kernel_shape)

    def native_global_avg_pool(self, x):
        return self.jnp.mean(x, axis=tuple(range(2, x.ndim)), keepdims=True)

    def native_upsample_nearest(self, x, *, scale_factors):
        shape = x.shape[:2] + tuple(n * r for n, r in zip(x.shape[2:], scale_factors))
        return self.jax.image.resize(x, shape, method="nearest")

    def native_softmax(self, x, *, axis):
        return self.jax.nn.softmax(x, axis=axis)

    def native_log_softmax(self, x, *, axis):
        return self.jax.nn.log_softmax(x, axis=axis)

    def native_sigmoid(self, x):
        return self.jax.nn.sigmoid(x)

    def native_tanh(self, x):
        return self.jnp.tanh(x)

    def native_relu(self, x):
        return self.jax.nn.relu(x)

    def native_relu6(self, x):
        return self.jax.nn.relu6(x)

    def native_leaky_relu(self, x, *, alpha):
        return self.jax.nn.leaky_relu(x, negative_slope=alpha)

    def native_elu(self, x, *, alpha):
        return self.jax.nn.elu(x, alpha=alpha)
