"""The PyTorch adapter, `torch`: `torch.nn.functional` with torch's own options, `torch.autograd`
for VJPs. Layout is torch's own (NCHW, weights OIHW / IOHW), so nothing is transposed.

Mappings a PyTorch user would write:
- explicit pads: `padding=p` when symmetric; an asymmetric conv pad goes through `F.pad` first
  (the documented idiom); pools and transposed convs take symmetric padding only, so an
  asymmetric pair is `unsupported` there.
- "VALID" is `padding="valid"`; "SAME_UPPER" is `padding="same"` (extra pixel at the end), which
  torch refuses for strides > 1; torch has no SAME_LOWER and no padding modes for pools or
  transposed convs (declared in the adapter's capabilities).
- global average pooling is `F.adaptive_avg_pool{n}d(x, 1)`; nearest upsampling is
  `F.interpolate(mode="nearest")`.
TF32 is turned off on CUDA. bfloat16 travels as float32 (exact) and is cast on the device.
"""

from __future__ import annotations

import numpy as np

from .base import FrameworkAdapter
from .capabilities import OPTIONS, Capabilities
from .protocol import PROTOCOL_VERSION


def _torch():
    import torch

    return torch


def _symmetric(pads):
    """The per-axis padding when every (begin, end) pair is symmetric, else None."""
    if isinstance(pads, str) or any(b != e for b, e in pads):
        return None
    return tuple(b for b, _ in pads)


def _window_without_input(shape, params) -> bool:
    """Whether some max-pool window of these parameters covers no input element."""
    from cnnspec.spec import reference

    keys = ("kernel_shape", "strides", "pads", "dilations", "ceil_mode")
    if len(shape) < 3 or not all(k in params for k in keys):
        return False
    probe = np.zeros((1, 1) + tuple(shape[2:]))
    return bool((reference.max_pool_argmax(probe, **{k: params[k] for k in keys}) < 0).any())


def _placement(torch, device: str) -> str:
    """torch's name for `device`; a ValueError when torch cannot run there (no CUDA device)."""
    try:
        placed = torch.device(device)
    except RuntimeError:
        raise ValueError(f"device={device!r}: not a torch device; give cpu or cuda:N") from None
    if placed.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (placed.index or 0) >= count:
            raise ValueError(f"device={device!r}: torch {torch.__version__} sees {count} CUDA "
                             f"device(s); run on cpu, or install a CUDA build of torch")
    elif placed.type != "cpu":
        raise ValueError(f"device={device!r}: the torch adapter runs on cpu or cuda:N")
    return str(placed)


POOLS = ("max_pool", "max_pool_argmax", "avg_pool", "max_unpool")


class TorchAdapter(FrameworkAdapter):
    name = "torch"
    framework = "torch"
    protocol_version = PROTOCOL_VERSION  # written for the current protocol

    def __init__(self, device: str = "cpu"):
        torch = _torch()
        self.torch = torch
        self.F = torch.nn.functional
        self.version = torch.__version__
        super().__init__(device)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

    def placement(self, device: str) -> str:
        return _placement(self.torch, device)

    def declared_capabilities(self) -> Capabilities:
        symmetric = OPTIONS - {"asymmetric_pads"}
        return Capabilities(
            devices=("cpu", "cuda"), ops=self.native_ops(),  # the ops it has a native_<op> for
            padding_modes={"conv": ("VALID", "SAME_UPPER")},
            options={op: symmetric for op in (*POOLS, "conv_transpose")},
            reasons={"SAME_LOWER": "torch has no SAME_LOWER padding mode (padding='same' pads "
                                   "at the end)",
                     "asymmetric_pads": "torch pooling and ConvTranspose take one padding per "
                                        "axis, the same at both ends",
                     **{f"{op}.{mode}": f"torch's {op} takes no padding modes"
                        for op in (*POOLS, "conv_transpose") for mode in
                        ("VALID", "SAME_UPPER", "SAME_LOWER")}})

    # conversion ----------------------------------------------------------------------------

    def to_native(self, array):
        if array is None:
            return None
        array = np.asarray(array)
        if array.dtype.kind in "iu":
            return self.torch.from_numpy(np.array(array)).to(self.device)
        if array.dtype.name == "bfloat16":
            tensor = self.torch.from_numpy(array.astype(np.float32)).to(self.device)
            return tensor.to(self.torch.bfloat16)
        return self.torch.from_numpy(array).to(self.device)  # keeps the strides

    def to_numpy(self, tensor) -> np.ndarray:
        tensor = tensor.detach().cpu()
        if tensor.dtype == self.torch.bfloat16:
            import ml_dtypes

            return tensor.float().numpy().astype(ml_dtypes.bfloat16)
        return tensor.numpy()

    def _fn(self, base, ndim):
        return getattr(self.F, f"{base}{ndim}d")

    # support -------------------------------------------------------------------------------

    def supports(self, op: str, **params) -> bool | str:
        pads = params.get("pads")
        if op == "conv" and pads == "SAME_UPPER" and any(s != 1 for s in params.get("strides", ())):
            return "torch refuses padding='same' for strided convolutions"
        if op in POOLS and pads is not None and _symmetric(pads) is not None:
            kernel = params.get("kernel_shape", ())
            if any(p > k // 2 for p, k in zip(_symmetric(pads), kernel)):
                return "torch pooling requires pad <= kernel_size // 2"
        shape = params.get("shape", ())
        if op == "max_pool" and params.get("vjp") and _window_without_input(shape, params):
            return ("torch's max_pool backward scatters a window that covers no input element "
                    "through an out-of-range index and corrupts the heap ('double free or "
                    "corruption'); see https://github.com/pytorch/pytorch/issues/114216")
        if op == "avg_pool" and len(shape) == 5:
            if params.get("dtype") in ("float16", "bfloat16") and self.device == "cpu":
                return f"torch has no {params['dtype']} avg_pool3d on the CPU"
            if any(i < k for i, k in zip(shape[2:], params.get("kernel_shape", ()))):
                return ("torch avg_pool3d (unlike 1d and 2d) refuses an input smaller than "
                        "the kernel, padding aside: 'input image smaller than kernel size'")
        return True

    # native ops ----------------------------------------------------------------------------

    def native_conv(self, x, w, b, *, strides, pads, dilations, groups):
        if isinstance(pads, str):
            padding = "valid" if pads == "VALID" else "same"
        elif _symmetric(pads) is not None:
            padding = _symmetric(pads)
        else:  # asymmetric: F.pad takes (last axis begin, end, ..., first axis begin, end)
            x = self.F.pad(x, [p for pair in reversed(pads) for p in pair])
            padding = 0
        return self._fn("conv", x.dim() - 2)(x, w, b, stride=tuple(strides), padding=padding,
                                             dilation=tuple(dilations), groups=groups)

    def native_conv_transpose(self, x, w, b, *, strides, pads, dilations, groups,
                              output_padding):
        return self._fn("conv_transpose", x.dim() - 2)(
            x, w, b, stride=tuple(strides), padding=_symmetric(pads),
            output_padding=tuple(output_padding), groups=groups, dilation=tuple(dilations))

    def _max_pool(self, x, kernel_shape, strides, pads, dilations, ceil_mode, indices):
        return self._fn("max_pool", x.dim() - 2)(
            x, tuple(kernel_shape), tuple(strides), _symmetric(pads), tuple(dilations),
            ceil_mode=bool(ceil_mode), return_indices=indices)

    def native_max_pool(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        return self._max_pool(x, kernel_shape, strides, pads, dilations, ceil_mode, False)

    def native_max_pool_argmax(self, x, *, kernel_shape, strides, pads, dilations, ceil_mode):
        return self._max_pool(x, kernel_shape, strides, pads, dilations, ceil_mode, True)[1]

    def native_avg_pool(self, x, *, kernel_shape, strides, pads, ceil_mode, count_include_pad):
        return self._fn("avg_pool", x.dim() - 2)(
            x, tuple(kernel_shape), tuple(strides), _symmetric(pads), ceil_mode=bool(ceil_mode),
            count_include_pad=bool(count_include_pad))

    def native_adaptive_avg_pool(self, x, *, output_size):
        return self._fn("adaptive_avg_pool", x.dim() - 2)(x, tuple(output_size))

    def native_adaptive_max_pool(self, x, *, output_size):
        return self._fn("adaptive_max_pool", x.dim() - 2)(x, tuple(output_size))

    def native_global_avg_pool(self, x):
        return self._fn("adaptive_avg_pool", x.dim() - 2)(x, 1)

    def native_max_unpool(self, x, indices, *, kernel_shape, strides, pads, output_size=None):
        size = None if output_size is None else tuple(x.shape[:2]) + tuple(output_size)
        return self._fn("max_unpool", x.dim() - 2)(
            x, indices, tuple(kernel_shape), tuple(strides), _symmetric(pads), size)

    def native_upsample_nearest(self, x, *, scale_factors):
        return self.F.interpolate(x, scale_factor=tuple(float(f) for f in scale_factors),
                                  mode="nearest")

    def native_pixel_shuffle(self, x, *, upscale_factor):
        return self.F.pixel_shuffle(x, upscale_factor)

    def native_softmax(self, x, *, axis):
        return self.F.softmax(x, dim=axis)

    def native_log_softmax(self, x, *, axis):
        return self.F.log_softmax(x, dim=axis)

    def native_sigmoid(self, x):
        return self.torch.sigmoid(x)

    def native_tanh(self, x):
        return self.torch.tanh(x)

    def native_relu(self, x):
        return self.F.relu(x)

    def native_relu6(self, x):
        return self.F.relu6(x)

    def native_leaky_relu(self, x, *, alpha):
        return self.F.leaky_relu(x, negative_slope=alpha)

    def native_elu(self, x, *, alpha):
        return self.F.elu(x, alpha=alpha)

    # gradients ----------------------------------------------------------------------------

    def native_vjp(self, forward, args, cotangent):
        tensors = [a.requires_grad_(True) for a in args]
        return self.torch.autograd.grad(forward(*tensors), tensors, grad_outputs=cotangent,
                                        allow_unused=True)
