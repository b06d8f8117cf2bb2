"""The TensorFlow adapter, `tensorflow`: `tf.nn` in TF's native channels-last layout (the CPU
kernels have no NCHW), `tf.GradientTape` for VJPs.

The adapter moves axes (NCHW to NHWC, conv weights OIHW to HWIO, transposed-conv weights
(C_in, C_out, *k) to (*k, C_out, C_in)) and maps the protocol onto TF's own options:
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

from .dispatch import ElementwiseOps, forward
from .protocol import OPS, device_parts

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


class TensorflowAdapter(ElementwiseOps):
    name = "tensorflow"
    framework = "tensorflow"

    def __init__(self, device: str = "cpu"):
        tf = _tf()
        self.tf = tf
        self.version = tf.__version__
        self.device, self._tf_device = _placement(tf, device)
        tf.config.experimental.enable_tensor_float_32_execution(False)
        for name in (*OPS, "vjp"):  # TF would otherwise pick a GPU by itself
            if hasattr(self, name):
                setattr(self, name, self._placed(getattr(self, name)))

    def _placed(self, method):
        """`method` running under `tf.device` of the adapter's device."""
        def placed(*args, **kwargs):
            with self.tf.device(self._tf_device):
                return method(*args, **kwargs)
        return placed

    # layout ------------------------------------------------------------------------------

    def _in(self, array, channels_last=True):
        array = np.asarray(array)
        tensor = self.tf.constant(array)
        if channels_last and array.ndim >= 3:
            tensor = self.tf.transpose(tensor, [0, *range(2, array.ndim), 1])
        return tensor

    def _in_plain(self, x):
        return self._in(x, channels_last=False)

    def _out_plain(self, y):
        return y.numpy()

    def _out(self, tensor, channels_first=True):
        array = tensor.numpy()
        if channels_first and array.ndim >= 3:
            array = np.moveaxis(array, -1, 1)
        return np.ascontiguousarray(array)

    def _weight(self, w, transpose=False):
        """OIHW (conv) or IOHW (transposed conv) to TF's (*k, in, out) / (*k, out, in)."""
        w = np.asarray(w)
        return self.tf.constant(np.transpose(w, (*range(2, w.ndim), 1, 0)))

    # support ---------------------------------------------------------------------------

    def supports(self, op: str, **params) -> bool | str:
        if op not in OPS:
            return f"no op named {op!r}"
        if op in ("adaptive_avg_pool", "adaptive_max_pool"):
            return "tf.nn has no adaptive pooling"
        if op == "max_unpool":
            return "tf.nn has no max unpooling"
        shape, pads = params.get("shape", ()), params.get("pads")
        ndim = len(shape) - 2 if shape else None
        strides, dilations = params.get("strides", ()), params.get("dilations", ())
        if pads == "SAME_LOWER":
            return "TF has no SAME_LOWER padding ('SAME' puts the odd pixel at the end)"
        if any(s > 1 for s in strides) and any(d > 1 for d in dilations):
            return "TF refuses strides > 1 together with dilation_rate > 1"
        if op == "conv" and ndim == 3 and params.get("groups", 1) > 1:
            return "TF's CPU Conv3D has no grouped convolution"
        if op == "conv" and params.get("vjp") and params.get("groups", 1) > 1:
            return "TF: 'Gradients for grouped convolutions are not supported on CPU'"
        if op == "conv" and params.get("vjp") and any(d > 1 for d in dilations):
            return "TF's CPU Conv2DBackpropInput has no dilation rates larger than 1"
        if op == "conv_transpose":
            if params.get("groups", 1) > 1:
                return "tf.nn.conv_transpose has no groups"
            if any(d > 1 for d in dilations):
                return "TF's CPU transposed conv (Conv2DBackpropInput) has no dilation"
            if ndim != 2 and not isinstance(pads, str) and not _zero(pads):
                return "tf.nn.conv1d/conv3d_transpose take 'VALID' or 'SAME' padding only"
        if op in ("max_pool", "max_pool_argmax", "avg_pool"):
            if params.get("ceil_mode"):
                return "TF pooling has no ceil mode"
            explicit = not isinstance(pads, str) and not _zero(pads)
            if explicit and (op != "max_pool" or ndim != 2 or any(d > 1 for d in dilations)):
                return "TF pooling takes 'VALID' or 'SAME' padding only here"
            if pads in ("SAME_UPPER", "SAME_LOWER") and any(d > 1 for d in dilations):
                return "tf.nn.pool has no 'SAME' padding with dilation_rate > 1"
            if ndim == 3 and params.get("dtype") in ("float16", "float64"):
                kernel = "AvgPool3D" if op == "avg_pool" else "MaxPool3D"
                return f"TF has no {params['dtype']} {kernel} kernel on the CPU"
        if op == "avg_pool":
            if params.get("count_include_pad") and not _zero(pads):
                return "TF average pooling never counts padding"
        if op == "max_pool_argmax" and (ndim not in (None, 2) or any(d > 1 for d in dilations)):
            return "tf.nn.max_pool_with_argmax is 2-d, without dilation"
        if op == "upsample_nearest" and ndim not in (None, 2):
            return "tf.image.resize is 2-d"
        if op == "pixel_shuffle" and params.get("upscale_factor", 2) < 2:
            return "tf.nn.depth_to_space needs block_size >= 2"
        if op == "elu" and params.get("alpha", 1.0) != 1.0:
            return "tf.nn.elu has no alpha (it is 1)"
        return True

    # forward ops ---------------------------------------------------------------------------

    def _conv(self, x, w, b, strides, pads, dilations, groups):
        tf = self.tf
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
        return y if b is None else tf.nn.bias_add(y, b)

    def conv(self, x, w, b=None, *, strides, pads, dilations, groups):
        return self._out(self._conv(self._in(x), self._weight(w),
                                    None if b is None else self.tf.constant(np.asarray(b)),
                                    strides, pads, dilations, groups))

    def _conv_transpose(self, x, w, b, strides, pads, dilations, groups, output_padding):
        tf = self.tf
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
        return y if b is None else tf.nn.bias_add(y, b)

    def conv_transpose(self, x, w, b=None, *, strides, pads, dilations, groups, output_padding):
        return self._out(self._conv_transpose(
            self._in(x), self._weight(w), None if b is None else self.tf.constant(np.asarray(b)),
            strides, pads, dilations, groups, output_padding))

    def _max_pool(self, x, kernel_shape, strides, pads, dilations, ceil_mode):
        tf = self.tf
        ndim = len(x.shape) - 2
        if any(d > 1 for d in dilations):
            padding = "SAME" if pads == "SAME_UPPER" else "VALID"
            return tf.nn.pool(x, list(kernel_shape), "MAX", strides=list(strides),
                              padding=padding, dilations=list(dilations))
        if isinstance(pads, str):
            padding = "VALID" if pads == "VALID" else "SAME"
        elif _zero(pads):
            padding = "VALID"
        else:  # 2-d only (supports)
            padding = [[0, 0], *map(list, pads), [0, 0]]
        return tf.nn.max_pool(x, list(kernel_shape), list(strides), padding,
                              data_format=_LAYOUT[ndim])

    def max_pool(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        return self._out(self._max_pool(self._in(x), kernel_shape, strides, pads, dilations,
                                        ceil_mode))

    def max_pool_argmax(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        x = self._in(x)
        padding = "SAME" if pads == "SAME_UPPER" else "VALID"
        _, index = self.tf.nn.max_pool_with_argmax(x, list(kernel_shape), list(strides),
                                                   padding, include_batch_in_index=False)
        # TF's flat index runs over (y, x, c) of one image: ((y * W + x) * C + c)
        return self._out(index // x.shape[-1]).astype(np.int64)

    def _avg_pool(self, x, kernel_shape, strides, pads, ceil_mode, count_include_pad):
        padding = "SAME" if pads == "SAME_UPPER" else "VALID"
        return self.tf.nn.avg_pool(x, list(kernel_shape), list(strides), padding,
                                   data_format=_LAYOUT[len(x.shape) - 2])

    def avg_pool(self, x, *, kernel_shape, strides, pads, ceil_mode, count_include_pad):
        return self._out(self._avg_pool(self._in(x), kernel_shape, strides, pads, ceil_mode,
                                        count_include_pad))

    def global_avg_pool(self, x):
        x = self._in(x)
        return self._out(self.tf.reduce_mean(x, axis=list(range(1, len(x.shape) - 1)),
                                             keepdims=True))

    def upsample_nearest(self, x, *, scale_factors):
        x = self._in(x)
        size = [n * r for n, r in zip(x.shape[1:-1], scale_factors)]
        y = self.tf.image.resize(x, size, method="nearest")
        return self._out(self.tf.cast(y, x.dtype))

    def pixel_shuffle(self, x, *, upscale_factor):
        return self._out(self.tf.nn.depth_to_space(self._in(x), upscale_factor))

    def _elementwise(self, name, x, **params):
        tf = self.tf
        functions = {
            "softmax": lambda t: tf.nn.softmax(t, axis=params.get("axis")),
            "log_softmax": lambda t: tf.nn.log_softmax(t, axis=params.get("axis")),
            "sigmoid": tf.math.sigmoid, "tanh": tf.math.tanh, "relu": tf.nn.relu,
            "leaky_relu": lambda t: tf.nn.leaky_relu(t, alpha=params.get("alpha")),
            "relu6": tf.nn.relu6, "elu": tf.nn.elu,
        }
        return functions[name](x)

    # gradients ------------------------------------------------------------------------------

    def vjp(self, op: str, args: tuple, cotangent, **params) -> tuple:
        tf = self.tf
        spatial_op = op in ("conv", "conv_transpose", "max_pool", "avg_pool")
        x = self._in(args[0], channels_last=spatial_op)
        extra = []
        if op in ("conv", "conv_transpose"):
            extra.append(self._weight(args[1]))
            if len(args) > 2:
                extra.append(tf.constant(np.asarray(args[2])))
        watched = [x, *extra]
        with tf.GradientTape() as tape:
            for tensor in watched:
                tape.watch(tensor)
            y = forward(self, op, watched, params)
        dy = self._in(cotangent, channels_last=spatial_op)
        grads = tape.gradient(y, watched, output_gradients=dy)
        out = [self._out(grads[0], channels_first=spatial_op) if spatial_op else grads[0].numpy()]
        if extra:
            out.append(np.transpose(grads[1].numpy(), (grads[1].shape.rank - 1,
                                                       grads[1].shape.rank - 2,
                                                       *range(grads[1].shape.rank - 2))))
            if len(extra) > 1:
                out.append(grads[2].numpy())
        return tuple(out)
