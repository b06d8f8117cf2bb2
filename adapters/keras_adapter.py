"""The Keras 3 adapter, `keras`: `keras.ops` on the backend the user chose with KERAS_BACKEND
(tensorflow, jax or torch; recorded in the results as the adapter's `backend`; on jax the
adapter turns on `jax_enable_x64`, as a float64 user must), gradients by that backend's own
autodiff (`tf.GradientTape`, `jax.vjp`, `torch.autograd`), since Keras 3
has no backend-independent one.

Keras is channels-last by default (`data_format="channels_last"`), so the adapter moves the
channel axis last on the way in and first on the way out, and gives weights Keras's layouts:
conv kernels `(*k, C_in / groups, C_out)` (groups follow from the kernel's input channels),
transposed-conv kernels `(*k, C_out, C_in)`. Mappings (https://keras.io/api/ops/nn/):
- padding is Keras's "valid" or "same" ("same" puts the odd pixel at the end: SAME_UPPER);
  explicit pads and SAME_LOWER do not exist; a zero explicit padding is "valid".
- conv / conv_transpose are `ops.conv` / `ops.conv_transpose` (with `output_padding`, no
  groups); the bias is added after, as Keras's Conv layers do.
- max_pool / avg_pool are `ops.max_pool` / `ops.average_pool`: no dilation, no ceil mode;
  "same" average pooling divides by the elements inside the input (count_include_pad=False).
- adaptive pools are `ops.adaptive_average_pool` / `ops.adaptive_max_pool`; global average
  pooling is `ops.mean` over the spatial axes; nearest upsampling is
  `ops.image.resize(interpolation="nearest")` (2 spatial axes); pixel shuffle is
  `ops.depth_to_space`.
- softmax, log_softmax, sigmoid, tanh, relu, relu6, elu(alpha) and leaky_relu(negative_slope)
  are the ops of those names.
"""

from __future__ import annotations

import numpy as np

from .base import FrameworkAdapter
from .capabilities import OPTIONS, Capabilities
from .protocol import PROTOCOL_VERSION

SAME = {"VALID": "valid", "SAME_UPPER": "same"}


def _keras():
    import keras

    return keras


def _padding(pads) -> str:
    """Keras's padding string for the protocol's pads (zero explicit pads are "valid")."""
    if isinstance(pads, str):
        return SAME[pads]
    return "valid"


class KerasAdapter(FrameworkAdapter):
    name = "keras"
    framework = "keras"
    protocol_version = PROTOCOL_VERSION  # written for the current protocol

    def __init__(self, device: str = "cpu"):
        keras = _keras()
        self.keras, self.ops = keras, keras.ops
        self.version = keras.__version__
        self.backend = keras.backend.backend()
        if self.backend == "jax":  # float64 needs x64 mode, as for the jax adapter
            import jax

            jax.config.update("jax_enable_x64", True)
        super().__init__(device)

    def declared_capabilities(self) -> Capabilities:
        declared = super().declared_capabilities()
        pooling = OPTIONS - {"explicit_pads", "asymmetric_pads", "dilations", "ceil_mode",
                             "count_include_pad"}
        return Capabilities(
            ops=declared.ops, gradients=declared.gradients,
            padding_modes={op: ("VALID", "SAME_UPPER") for op in
                           ("conv", "conv_transpose", "max_pool", "avg_pool")},
            options={"conv": OPTIONS - {"explicit_pads", "asymmetric_pads"},
                     "conv_transpose": OPTIONS - {"explicit_pads", "asymmetric_pads", "groups"},
                     "max_pool": pooling, "avg_pool": pooling},
            reasons={**declared.reasons,
                     "explicit_pads": "Keras takes padding='valid' or 'same' only",
                     "asymmetric_pads": "Keras takes padding='valid' or 'same' only",
                     "SAME_LOWER": "Keras's padding='same' puts the odd pixel at the end only",
                     "dilations": "keras.ops pooling has no dilation",
                     "ceil_mode": "keras.ops pooling has no ceil mode",
                     "count_include_pad": "keras.ops average_pool with 'same' never counts padding",
                     "groups": "keras.ops.conv_transpose has no groups"})

    def supports(self, op: str, **call) -> bool | str:
        rank = len(call["shape"]) - 2 if "shape" in call else None
        if op == "upsample_nearest" and rank not in (None, 2):
            return "keras.ops.image.resize takes images: 2 spatial axes"
        if op == "pixel_shuffle" and call.get("upscale_factor", 2) < 2:
            return "keras.ops.depth_to_space requires block_size >= 2"
        if self.backend == "tensorflow":  # TF's kernels run underneath
            from .tensorflow_adapter import kernel_limits

            if op == "conv_transpose" and any(d > 1 for d in call.get("dilations", ())):
                return "TF's CPU transposed conv (Conv2DBackpropInput) has no dilation"
            return kernel_limits(op, rank, call) or True
        return True

    # conversion ----------------------------------------------------------------------------

    def to_native(self, array):
        return None if array is None else self.ops.convert_to_tensor(np.asarray(array))

    def to_numpy(self, value) -> np.ndarray:
        return np.asarray(self.ops.convert_to_numpy(value))

    def _last(self, x):
        """A channels-first tensor with its channel axis moved last."""
        return self.ops.moveaxis(x, 1, -1)

    def _first(self, y):
        return self.ops.moveaxis(y, -1, 1)

    # native ops -------------------------------------------------------------------------------

    def native_conv(self, x, w, b, *, strides, pads, dilations, groups):
        kernel = self.ops.transpose(w, (*range(2, len(w.shape)), 1, 0))  # (*k, C_in/g, C_out)
        y = self.ops.conv(self._last(x), kernel, strides=tuple(strides), padding=_padding(pads),
                          dilation_rate=tuple(dilations))
        return self._first(y if b is None else y + b)

    def native_conv_transpose(self, x, w, b, *, strides, pads, dilations, groups,
                              output_padding):
        kernel = self.ops.transpose(w, (*range(2, len(w.shape)), 1, 0))  # (*k, C_out, C_in)
        y = self.ops.conv_transpose(
            self._last(x), kernel, strides=tuple(strides), padding=_padding(pads),
            output_padding=None if isinstance(pads, str) else tuple(output_padding),
            dilation_rate=tuple(dilations))
        return self._first(y if b is None else y + b)

    def native_max_pool(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        return self._first(self.ops.max_pool(self._last(x), tuple(kernel_shape), tuple(strides),
                                             padding=_padding(pads)))

    def native_avg_pool(self, x, *, kernel_shape, strides, pads, ceil_mode, count_include_pad):
        return self._first(self.ops.average_pool(self._last(x), tuple(kernel_shape),
                                                 tuple(strides), padding=_padding(pads)))

    def native_adaptive_avg_pool(self, x, *, output_size):
        return self._first(self.ops.adaptive_average_pool(self._last(x), tuple(output_size)))

    def native_adaptive_max_pool(self, x, *, output_size):
        return self._first(self.ops.adaptive_max_pool(self._last(x), tuple(output_size)))

    def native_global_avg_pool(self, x):
        return self.ops.mean(x, axis=tuple(range(2, len(x.shape))), keepdims=True)

    def native_upsample_nearest(self, x, *, scale_factors):
        size = tuple(int(i * f) for i, f in zip(x.shape[2:], scale_factors))
        return self._first(self.ops.image.resize(self._last(x), size, interpolation="nearest"))

    def native_pixel_shuffle(self, x, *, upscale_factor):
        return self._first(self.ops.depth_to_space(self._last(x), upscale_factor))

    def native_softmax(self, x, *, axis):
        return self.ops.softmax(x, axis=axis)

    def native_log_softmax(self, x, *, axis):
        return self.ops.log_softmax(x, axis=axis)

    def native_sigmoid(self, x):
        return self.ops.sigmoid(x)

    def native_tanh(self, x):
        return self.ops.tanh(x)

    def native_relu(self, x):
        return self.ops.relu(x)

    def native_relu6(self, x):
        return self.ops.relu6(x)

    def native_leaky_relu(self, x, *, alpha):
        return self.ops.leaky_relu(x, negative_slope=alpha)

    def native_elu(self, x, *, alpha):
        return self.ops.elu(x, alpha=alpha)

    # gradients: the backend's own autodiff ------------------------------------------------

    def native_vjp(self, forward, args, cotangent):
        if self.backend == "tensorflow":
            import tensorflow as tf

            present = [a for a in args if a is not None]
            with tf.GradientTape() as tape:
                for a in present:
                    tape.watch(a)
                out = forward(*args)
            grads = iter(tape.gradient(out, present, output_gradients=cotangent))
            return tuple(None if a is None else next(grads) for a in args)
        if self.backend == "jax":
            import jax

            _, pullback = jax.vjp(forward, *args)
            return pullback(cotangent)
        if self.backend == "torch":
            import torch

            tensors = [None if a is None else a.detach().requires_grad_(True) for a in args]
            out = forward(*tensors)
            present = [t for t in tensors if t is not None]
            grads = iter(torch.autograd.grad(out, present, grad_outputs=cotangent,
                                             allow_unused=True))
            return tuple(None if t is None else next(grads) for t in tensors)
        raise NotImplementedError(f"no autodiff for the {self.backend} backend here")

