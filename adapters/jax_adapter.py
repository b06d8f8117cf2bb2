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

from .dispatch import ElementwiseOps, forward
from .protocol import OPS, device_parts


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


def _static(value):
    """`value` as a hashable key: lists become tuples."""
    if isinstance(value, (list, tuple)):
        return tuple(_static(v) for v in value)
    return value


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


class JaxAdapter(ElementwiseOps):
    name = "jax"
    framework = "jax"

    def __init__(self, device: str = "cpu"):
        jax = _jax()
        import jax.numpy as jnp
        from jax import lax

        self.jax, self.jnp, self.lax = jax, jnp, lax
        self.version = jax.__version__
        self._device = _placement(jax, device)
        self.device = "cpu" if self._device.platform == "cpu" else f"cuda:{self._device.id}"
        jax.config.update("jax_default_matmul_precision", "highest")  # no TF32 on GPUs
        _persistent_cache(jax)
        self._jitted: dict = {}

    def _jit(self, kind: str, op: str, params: dict, build):
        """The jitted callable for (kind, op, params), built once by `build(params)`."""
        key = (kind, op, tuple(sorted((k, _static(v)) for k, v in params.items())))
        if key not in self._jitted:
            self._jitted[key] = self.jax.jit(build(params))
        return self._jitted[key]

    def _run(self, op: str, *arrays, **params):
        """The forward `op` (see `dispatch.forward`) under `jit`."""
        fn = self._jit("forward", op, params,
                       lambda p: lambda *t: forward(self, op, t, p))
        return self._out(fn(*(self._in(a) for a in arrays)))

    # conversion --------------------------------------------------------------------------

    def _in(self, array):
        return None if array is None else self.jax.device_put(np.asarray(array), self._device)

    def _out(self, value):
        return np.asarray(value)

    # support ---------------------------------------------------------------------------

    def supports(self, op: str, **params) -> bool | str:
        if op not in OPS:
            return f"no op named {op!r}"
        unsupported = {
            "max_pool_argmax": "lax has no max pooling with argmax indices",
            "adaptive_avg_pool": "lax has no adaptive pooling",
            "adaptive_max_pool": "lax has no adaptive pooling",
            "max_unpool": "lax has no max unpooling",
            "pixel_shuffle": "jax.nn / lax have no pixel shuffle",
        }
        if op in unsupported:
            return unsupported[op]
        if op == "max_pool" and params.get("vjp") and any(
                d > 1 for d in params.get("dilations", ())):
            return "JAX: 'VJP not implemented for select_and_gather (MaxPool) with window dilation'"
        if op in ("max_pool", "avg_pool") and params.get("ceil_mode"):
            return "lax.reduce_window has no ceil mode"
        if op == "avg_pool" and not params.get("count_include_pad", True):
            return ("JAX average pooling (reduce_window sum / window size, as flax) always "
                    "counts padding")
        if op == "conv_transpose":
            if params.get("groups", 1) > 1:
                return "lax.conv_transpose has no groups"
            if params.get("pads") == "SAME_LOWER":
                return "lax.conv_transpose has no SAME_LOWER"
            limits = zip(params.get("output_padding", ()), params.get("strides", ()),
                         params.get("dilations", ()))
            if any(a >= max(s, d) for a, s, d in limits):
                return ("lax.conv_transpose has no output_padding to validate: it can only be "
                        "passed on as end padding, where any amount is valid")
        return True

    # forward ops -------------------------------------------------------------------------

    def _conv(self, x, w, b, strides, pads, dilations, groups):
        ndim = x.ndim - 2
        if pads == "SAME_UPPER":
            pads = "SAME"
        padding = pads if isinstance(pads, str) else [tuple(p) for p in pads]
        y = self.lax.conv_general_dilated(
            x, w, window_strides=tuple(strides), padding=padding, rhs_dilation=tuple(dilations),
            dimension_numbers=_layout(ndim), feature_group_count=groups,
            precision=self.lax.Precision.HIGHEST)
        return y if b is None else y + b.reshape((1, -1) + (1,) * ndim)

    def conv(self, x, w, b=None, *, strides, pads, dilations, groups):
        return self._run("conv", x, w, b, strides=strides, pads=pads, dilations=dilations,
                         groups=groups)

    def _conv_transpose(self, x, w, b, strides, pads, dilations, groups, output_padding):
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

    def conv_transpose(self, x, w, b=None, *, strides, pads, dilations, groups, output_padding):
        return self._run("conv_transpose", x, w, b, strides=strides, pads=pads,
                         dilations=dilations, groups=groups, output_padding=output_padding)

    def _window(self, pads):
        if isinstance(pads, str):
            return {"SAME_UPPER": "SAME"}.get(pads, pads)
        return ((0, 0), (0, 0), *map(tuple, pads))

    def _max_pool(self, x, kernel_shape, strides, pads, dilations, ceil_mode):
        return self.lax.reduce_window(x, -self.jnp.inf, self.lax.max, (1, 1, *kernel_shape),
                                      (1, 1, *strides), self._window(pads),
                                      window_dilation=(1, 1, *dilations))

    def max_pool(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        return self._run("max_pool", x, kernel_shape=kernel_shape, strides=strides, pads=pads,
                         dilations=dilations, ceil_mode=ceil_mode)

    def _avg_pool(self, x, kernel_shape, strides, pads, ceil_mode, count_include_pad):
        total = self.lax.reduce_window(x, np.zeros((), x.dtype), self.lax.add,
                                       (1, 1, *kernel_shape), (1, 1, *strides),
                                       self._window(pads))
        return total / math.prod(kernel_shape)

    def avg_pool(self, x, *, kernel_shape, strides, pads, ceil_mode, count_include_pad):
        return self._run("avg_pool", x, kernel_shape=kernel_shape, strides=strides, pads=pads,
                         ceil_mode=ceil_mode, count_include_pad=count_include_pad)

    def _global_avg_pool(self, x):
        return self.jnp.mean(x, axis=tuple(range(2, x.ndim)), keepdims=True)

    def global_avg_pool(self, x):
        return self._run("global_avg_pool", x)

    def _upsample_nearest(self, x, scale_factors):
        shape = x.shape[:2] + tuple(n * r for n, r in zip(x.shape[2:], scale_factors))
        return self.jax.image.resize(x, shape, method="nearest")

    def upsample_nearest(self, x, *, scale_factors):
        return self._run("upsample_nearest", x, scale_factors=scale_factors)

    def _unary(self, name, x, **params):
        return self._run(name, x, **params)

    def _elementwise(self, name, x, **params):
        nn = self.jax.nn
        functions = {
            "softmax": lambda t: nn.softmax(t, axis=params.get("axis")),
            "log_softmax": lambda t: nn.log_softmax(t, axis=params.get("axis")),
            "sigmoid": nn.sigmoid, "tanh": self.jnp.tanh, "relu": nn.relu, "relu6": nn.relu6,
            "leaky_relu": lambda t: nn.leaky_relu(t, negative_slope=params.get("alpha")),
            "elu": lambda t: nn.elu(t, alpha=params.get("alpha")),
        }
        return functions[name](x)

    # gradients ------------------------------------------------------------------------------

    def vjp(self, op: str, args: tuple, cotangent, **params) -> tuple:
        def build(p):
            def vjp(arrays, cotangent):
                _, pullback = self.jax.vjp(lambda *t: forward(self, op, t, p), *arrays)
                return pullback(cotangent)
            return vjp

        fn = self._jit("vjp", op, params, build)
        grads = fn(tuple(self._in(a) for a in args), self._in(cotangent))
        return tuple(self._out(g) for g in grads)
