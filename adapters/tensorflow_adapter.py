"""The TensorFlow adapter, `tensorflow`: `tf.nn` in TF's native channels-last layout (the CPU
kernels have no NCHW), `tf.GradientTape` for VJPs.

The adapter moves axes inside its native calls (NCHW to NHWC, conv weights OIHW to HWIO,
transposed-conv weights (C_in, C_out, *k) to (*k, C_out, C_in), with `tf.transpose`, so that
a VJP differentiates through them) and maps the protocol onto TF's own options:
- "VALID" / "SAME_UPPER" are TF's "VALID" / "SAME"; TF has no SAME_LOWER.
- explicit pads: native lists for 2-d conv, 2-d max pooling and 2-d transposed conv; a 1-d or
  3-d conv is `tf.pad` then "VALID" (the documented idiom); elsewhere TF takes strings only.
- transposed conv is `tf.nn.conv_transpose` with the `output_shape` the spec's size formula
  gives (that is how TF expresses output padding); with "SAME" the output is `i * s`.
- pooling has no ceil mode, and average pooling never counts padding.
- global average pooling is `tf.reduce_mean` over space; nearest upsampling is
  `tf.image.resize(method="nearest")` (2-d); pixel shuffle is `tf.nn.depth_to_space`.
"""

from __future__ import annotations

import os

import numpy as np

from cnnspec.spec import conv_transpose_output_size, resolve_conv_transpose_pads

from .base import FrameworkAdapter
from .capabilities import OPTIONS, Capabilities
from .protocol import PROTOCOL_VERSION, device_parts

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _tf():
    import tensorflow as tf

    return tf


# TF's channels-last layout names. Pooling is given it explicitly: without data_format, a 3-d
# tf.nn.max_pool or avg_pool records data_format=None, and its eager gradient then fails in
# nn_grad (AttributeError: 'NoneType' object has no attribute 'decode'; TF 2.21).
_LAYOUT = {1: "NWC", 2: "NHWC", 3: "NDHWC"}


def _zero(pads):
    return not isinstance(pads, str) and all(p == (0, 0) for p in pads)


def _placement(tf, device: str) -> tuple[str, str]:
    """(the device as the results record it, TF's name for it) for "cpu" or "cuda:N"; a
    ValueError when this TensorFlow has no such device (tensorflow-cpu has no GPU)."""
    kind, index = device_parts(device)
    if kind == "cpu":
        if index:
            raise ValueError(f"device={device!r}: TensorFlow has one CPU device, cpu")
        return "cpu", "/CPU:0"
    gpus = tf.config.list_logical_devices("GPU")
    if index >= len(gpus):
        raise ValueError(f"device={device!r}: this TensorFlow sees {len(gpus)} GPU(s); "
                         f"run on cpu, or install a TensorFlow build with CUDA")
    return f"cuda:{index}", f"/GPU:{index}"


POOLS = ("max_pool", "max_pool_argmax", "avg_pool")


def kernel_limits(op: str, ndim: int | None, call: dict) -> str | None:
    """What TensorFlow's CPU kernels refuse, whatever API reaches them (tf.nn here, keras.ops
    on the tensorflow backend): the reason, or None. `call` as `supports` receives it."""
    strides, dilations = call.get("strides", ()), call.get("dilations", ())
    if any(s > 1 for s in strides) and any(d > 1 for d in dilations):
        return "TF refuses strides > 1 together with dilation_rate > 1"
    if op == "conv" and ndim == 3 and call.get("groups", 1) > 1:
        return "TF's CPU Conv3D has no grouped convolution"
    if op == "conv" and call.get("vjp") and call.get("groups", 1) > 1:
        return "TF: 'Gradients for grouped convolutions are not supported on CPU'"
    if op == "conv" and call.get("vjp") and any(d > 1 for d in dilations):
        return "TF's CPU Conv2DBackpropInput has no dilation rates larger than 1"
    # keras.ops' adaptive pools run these kernels too on the tensorflow backend
    if (op in POOLS or op.startswith("adaptive")) and ndim == 3 \
            and call.get("dtype") in ("float16", "float64"):
        kernel = "AvgPool3D" if "avg" in op else "MaxPool3D"
        return f"TF has no {call['dtype']} {kernel} kernel on the CPU"
    return None


class TensorflowAdapter(FrameworkAdapter):
    name = "tensorflow"
    framework = "tensorflow"
    protocol_version = PROTOCOL_VERSION  # written for the current protocol

    def __init__(self, device: str = "cpu"):
        tf = _tf()
        self.tf = tf
        self.version = tf.__version__
        super().__init__(device)
        tf.config.experimental.enable_tensor_float_32_execution(False)

    def placement(self, device: str) -> str:
        self.device, self._tf_device = _placement(self.tf, device)
        return self.device

    def declared_capabilities(self) -> Capabilities:
        strings_only = OPTIONS - {"explicit_pads", "asymmetric_pads"}
        return Capabilities(
            devices=("cpu", "cuda"),
            ops=self.native_ops(),  # the ops it has a native_<op> for
            padding_modes={op: ("VALID", "SAME_UPPER") for op in ("conv", "conv_transpose", *POOLS)},
            options={"conv_transpose": OPTIONS - {"groups", "dilations"},
                     "max_pool": OPTIONS - {"ceil_mode"},
                     "max_pool_argmax": strings_only - {"ceil_mode", "dilations"},
                     "avg_pool": strings_only - {"ceil_mode", "count_include_pad"}},
            reasons={"adaptive_avg_pool": "tf.nn has no adaptive pooling",
                     "adaptive_max_pool": "tf.nn has no adaptive pooling",
                     "max_unpool": "tf.nn has no max unpooling",
                     "SAME_LOWER": "TF has no SAME_LOWER padding ('SAME' puts the odd pixel at "
                                   "the end)",
                     "conv_transpose.groups": "tf.nn.conv_transpose has no groups",
                     "conv_transpose.dilations": "TF's CPU transposed conv "
                                                 "(Conv2DBackpropInput) has no dilation",
                     "ceil_mode": "TF pooling has no ceil mode",
                     "count_include_pad": "TF average pooling never counts padding",
                     "explicit_pads": "TF pooling takes 'VALID' or 'SAME' padding only here",
                     "asymmetric_pads": "TF pooling takes 'VALID' or 'SAME' padding only here",
                     "max_pool_argmax.dilations": "tf.nn.max_pool_with_argmax has no dilation"})

    # placement, conversion and layout --------------------------------------------------------

    def call(self, op: str, arrays, params: dict):
        with self.tf.device(self._tf_device):  # TF would otherwise pick a GPU by itself
            return super().call(op, arrays, params)

    def vjp(self, op: str, args: tuple, cotangent, **params) -> tuple:
        with self.tf.device(self._tf_device):
            return super().vjp(op, args, cotangent, **params)

    def to_native(self, array):
        return None if array is None else self.tf.constant(np.asarray(array))

    def to_numpy(self, tensor) -> np.ndarray:
        return np.ascontiguousarray(tensor.numpy())

    def _last(self, x):
        """NC... to N...C."""
        return self.tf.transpose(x, [0, *range(2, len(x.shape)), 1])

    def _first(self, y):
        """N...C to NC..."""
        rank = len(y.shape)
        return self.tf.transpose(y, [0, rank - 1, *range(1, rank - 1)])

    def _kernel(self, w):
        """OIHW (conv) or IOHW (transposed conv) to TF's (*k, in, out) / (*k, out, in)."""
        rank = len(w.shape)
        return self.tf.transpose(w, [*range(2, rank), 1, 0])

    # support ---------------------------------------------------------------------------

    def supports(self, op: str, **params) -> bool | str:
        shape, pads = params.get("shape", ()), params.get("pads")
        ndim = len(shape) - 2 if shape else None
        dilations = params.get("dilations", ())
        refused = kernel_limits(op, ndim, params)
        if refused:
            return refused
        if op == "conv_transpose" and ndim != 2 and not isinstance(pads, str) \
                and not _zero(pads):
            return "tf.nn.conv1d/conv3d_transpose take 'VALID' or 'SAME' padding only"
        if op == "max_pool" and not isinstance(pads, str) and not _zero(pads) and (
                ndim != 2 or any(d > 1 for d in dilations)):
            return "TF pooling takes 'VALID' or 'SAME' padding only here"
        if op in POOLS and pads == "SAME_UPPER" and any(d > 1 for d in dilations):
            return "tf.nn.pool has no 'SAME' padding with dilation_rate > 1"
        if op == "max_pool_argmax" and ndim not in (None, 2):
            return "tf.nn.max_pool_with_argmax is 2-d"
        if op == "upsample_nearest" and ndim not in (None, 2):
            return "tf.image.resize is 2-d"
        if op == "pixel_shuffle" and params.get("upscale_factor", 2) < 2:
            return "tf.nn.depth_to_space needs block_size >= 2"
        if op == "elu" and params.get("alpha", 1.0) != 1.0:
            return "tf.nn.elu has no alpha (it is 1)"
        return True

    # native ops ----------------------------------------------------------------------------

    def native_conv(self, x, w, b, *, strides, pads, dilations, groups):
        tf = self.tf
        x, w = self._last(x), self._kernel(w)
        ndim = len(x.shape) - 2
        if isinstance(pads, str):
            padding = "VALID" if pads == "VALID" else "SAME"
        elif ndim == 2:
            padding = [[0, 0], *map(list, pads), [0, 0]]
        else:
            x = tf.pad(x, [[0, 0], *map(list, pads), [0, 0]])
            padding = "VALID"
        conv = {1: (tf.nn.conv1d, "NWC"), 2: (tf.nn.conv2d, "NHWC"),
                3: (tf.nn.conv3d, "NDHWC")}
        function, layout = conv[ndim]
        if ndim != 2 and any(d > 1 for d in dilations):  # TF's own atrous path (SpaceToBatch)
            y = tf.nn.convolution(x, w, strides=list(strides), padding=padding,
                                  dilations=list(dilations))
        elif ndim == 1:
            y = function(x, w, stride=list(strides), padding=padding, data_format=layout,
                         dilations=list(dilations))
        else:
            y = function(x, w, strides=[1, *strides, 1], padding=padding, data_format=layout,
                         dilations=[1, *dilations, 1])
        return self._first(y if b is None else tf.nn.bias_add(y, b))

    def native_conv_transpose(self, x, w, b, *, strides, pads, dilations, groups,
                              output_padding):
        tf = self.tf
        x, w = self._last(x), self._kernel(w)
        spatial, kernel = tuple(x.shape[1:-1]), tuple(w.shape[:-2])
        out_channels = w.shape[-2]
        explicit, resolved_a = resolve_conv_transpose_pads(
            pads, spatial, kernel, strides=strides, dilations=dilations,
            output_padding=output_padding)
        out = tuple(conv_transpose_output_size(i, k, stride=s, pads=p, dilation=d,
                                               output_padding=a)
                    for i, k, s, p, d, a in zip(spatial, kernel, strides, explicit, dilations,
                                                resolved_a))
        if isinstance(pads, str):
            padding = "VALID" if pads == "VALID" else "SAME"
        elif len(spatial) == 2 and not _zero(pads):
            padding = [[0, 0], *map(list, pads), [0, 0]]
        else:
            padding = "VALID"
        y = tf.nn.conv_transpose(x, w, output_shape=[x.shape[0], *out, out_channels],
                                 strides=list(strides), padding=padding,
                                 dilations=list(dilations))
        return self._first(y if b is None else tf.nn.bias_add(y, b))

    def native_max_pool(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        tf = self.tf
        x = self._last(x)
        ndim = len(x.shape) - 2
        if any(d > 1 for d in dilations):
            padding = "SAME" if pads == "SAME_UPPER" else "VALID"
            return self._first(tf.nn.pool(x, list(kernel_shape), "MAX", strides=list(strides),
                                          padding=padding, dilations=list(dilations)))
        if isinstance(pads, str):
            padding = "VALID" if pads == "VALID" else "SAME"
        elif _zero(pads):
            padding = "VALID"
        else:  # 2-d only (supports)
            padding = [[0, 0], *map(list, pads), [0, 0]]
        return self._first(tf.nn.max_pool(x, list(kernel_shape), list(strides), padding,
                                          data_format=_LAYOUT[ndim]))

    def native_max_pool_argmax(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        x = self._last(x)
        padding = "SAME" if pads == "SAME_UPPER" else "VALID"
        _, index = self.tf.nn.max_pool_with_argmax(x, list(kernel_shape), list(strides),
                                                   padding, include_batch_in_index=False)
        # TF's flat index runs over (y, x, c) of one image: ((y * W + x) * C + c)
        return self._first(self.tf.cast(index // x.shape[-1], self.tf.int64))

    def native_avg_pool(self, x, *, kernel_shape, strides, pads, ceil_mode, count_include_pad):
        x = self._last(x)
        padding = "SAME" if pads == "SAME_UPPER" else "VALID"
        return self._first(self.tf.nn.avg_pool(x, list(kernel_shape), list(strides), padding,
                                               data_format=_LAYOUT[len(x.shape) - 2]))

    def native_global_avg_pool(self, x):
        return self.tf.reduce_mean(x, axis=list(range(2, len(x.shape))), keepdims=True)

    def native_upsample_nearest(self, x, *, scale_factors):
        x = self._last(x)
        size = [n * r for n, r in zip(x.shape[1:-1], scale_factors)]
        y = self.tf.image.resize(x, size, method="nearest")
        return self._first(self.tf.cast(y, x.dtype))

    def native_pixel_shuffle(self, x, *, upscale_factor):
        return self._first(self.tf.nn.depth_to_space(self._last(x), upscale_factor))

    def native_softmax(self, x, *, axis):
        return self.tf.nn.softmax(x, axis=axis)

    def native_log_softmax(self, x, *, axis):
        return self.tf.nn.log_softmax(x, axis=axis)

    def native_sigmoid(self, x):
        return self.tf.math.sigmoid(x)

    def native_tanh(self, x):
        return self.tf.math.tanh(x)

    def native_relu(self, x):
        return self.tf.nn.relu(x)

    def native_relu6(self, x):
        return self.tf.nn.relu6(x)

    def native_leaky_relu(self, x, *, alpha):
        return self.tf.nn.leaky_relu(x, alpha=alpha)

    def native_elu(self, x, *, alpha):
        return self.tf.nn.elu(x)  # alpha 1 only (supports)

    # gradients ------------------------------------------------------------------------------

    def native_vjp(self, forward, args, cotangent):
        present = [a for a in args if a is not None]
        with self.tf.GradientTape() as tape:
            for tensor in present:
                tape.watch(tensor)
            y = forward(*args)
        grads = iter(tape.gradient(y, present, output_gradients=cotangent))
        return tuple(None if a is None else next(grads) for a in args)
