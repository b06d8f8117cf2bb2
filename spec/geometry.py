"""Output sizes and paddings of convolution, transposed convolution and pooling, per spatial axis.

Notation of rules.md: input size `i`, kernel `k`, stride `s`, dilation `d`, begin/end padding
`pb`/`pe`, output padding `a`, output size `o`, effective (dilated) kernel `ke = d*(k-1) + 1`.
Axes never interact (Dumoulin & Visin, ch. 2), so every function here is one axis.
"""

from __future__ import annotations

from .arguments import check_int, check_pad_pair, check_pads, per_axis


def effective_kernel(k: int, *, dilation: int = 1) -> int:
    """The dilated extent `ke = k + (k-1)*(d-1) = d*(k-1) + 1` [conv.effective_kernel].

    A 3x3 kernel at rate 2 covers 5x5. Source: Dumoulin & Visin, arXiv:1603.07285, rel. 15.
    """
    k = check_int("k", k, at_least=1, what="kernel size")
    d = check_int("dilation", dilation, at_least=1)
    return d * (k - 1) + 1


def _padded_extent(i, k, stride, pads, dilation):
    i = check_int("i", i, at_least=1, what="input size")
    k = check_int("k", k, at_least=1, what="kernel size")
    s = check_int("stride", stride, at_least=1)
    d = check_int("dilation", dilation, at_least=1)
    pb, pe = check_pad_pair("pads", pads)
    return i, k, s, d, pb, pe


def _too_small(o, i, k, s, pb, pe, d):
    return ValueError(
        f"output size would be {o}: i={i}, k={k}, pads=({pb}, {pe}), stride={s}, dilation={d}; "
        f"the padded input (i + pb + pe = {i + pb + pe}) must be at least the dilated kernel "
        f"(d*(k-1) + 1 = {d * (k - 1) + 1})"
    )


def conv_output_size(i: int, k: int, *, stride: int = 1, pads=(0, 0), dilation: int = 1) -> int:
    """`o = floor((i + pb + pe - d*(k-1) - 1) / s) + 1` [conv.output_size].

    Floors when the division is not exact: (10-3+0)/2+1 = 4.5 gives 4.
    Sources: Dumoulin & Visin, arXiv:1603.07285, rel. 6 and 15; PyTorch Conv2d docs;
    https://cs231n.github.io/convolutional-networks/.
    Raises ValueError when the output would be empty (o < 1).
    """
    i, k, s, d, pb, pe = _padded_extent(i, k, stride, pads, dilation)
    o = (i + pb + pe - d * (k - 1) - 1) // s + 1
    if o < 1:
        raise _too_small(o, i, k, s, pb, pe, d)
    return o


def pool_output_size(
    i: int, k: int, *, stride: int, pads=(0, 0), dilation: int = 1, ceil_mode: bool = False
) -> int:
    """Pooled size [pool.output_size.floor, pool.output_size.ceil].

    floor mode: the conv formula. ceil mode: `o = ceil((i + pb + pe - d*(k-1) - 1) / s) + 1`,
    then the last window is dropped if it starts at or past `i + pb`: every window must start
    inside the input or the begin padding (PyTorch `pooling_output_shape_pad_lr`, ONNX MaxPool:
    "Sliding windows that would start in the right padded region are ignored"). Like both
    sources, only that last window is dropped: with pads > k // 2, which PyTorch rejects, floor
    mode itself has windows wholly in the end padding.
    Caffe rounds up. Sources: PyTorch MaxPool2d docs; ONNX MaxPool.
    """
    i, k, s, d, pb, pe = _padded_extent(i, k, stride, pads, dilation)
    span = i + pb + pe - d * (k - 1) - 1
    o = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (o - 1) * s >= i + pb:
        o -= 1
    if o < 1:
        raise _too_small(o, i, k, s, pb, pe, d)
    return o


def conv_transpose_output_size(
    i: int, k: int, *, stride: int = 1, pads=(0, 0), dilation: int = 1, output_padding: int = 0
) -> int:
    """`o = (i-1)*s - pb - pe + d*(k-1) + a + 1` [conv_transpose.output_size].

    Worked example: s=2, p=1, k=3 takes 3x3 to 5x5. The output padding `a` must be smaller than
    `max(s, d)` (PyTorch: "output padding must be smaller than either stride or dilation").
    Sources: Dumoulin & Visin, arXiv:1603.07285, rel. 8-14; PyTorch ConvTranspose2d; ONNX
    ConvTranspose.
    """
    i, k, s, d, pb, pe = _padded_extent(i, k, stride, pads, dilation)
    a = check_int("output_padding", output_padding, at_least=0)
    if a >= max(s, d):
        raise ValueError(
            f"output_padding={a}: must be smaller than max(stride, dilation) = {max(s, d)}"
        )
    o = (i - 1) * s - pb - pe + d * (k - 1) + a + 1
    if o < 1:
        raise ValueError(
            f"output size would be {o}: i={i}, k={k}, pads=({pb}, {pe}), stride={s}, "
            f"dilation={d}, output_padding={a}; the pads crop more than the output has"
        )
    return o


def conv_transpose_roundtrip_padding(
    i: int, k: int, *, stride: int = 1, pads=(0, 0), dilation: int = 1
) -> int:
    """The output padding `a = (i + pb + pe - d*(k-1) - 1) mod s` [conv_transpose.shape_roundtrip].

    With it, the transposed conv of a conv `(i, k, s, pads, d)` restores `i`
    (Dumoulin & Visin rel. 14, generalised to dilation).
    """
    i, k, s, d, pb, pe = _padded_extent(i, k, stride, pads, dilation)
    conv_output_size(i, k, stride=s, pads=(pb, pe), dilation=d)
    return (i + pb + pe - d * (k - 1) - 1) % s


def same_pads(
    i: int, k: int, *, stride: int = 1, dilation: int = 1, mode: str = "SAME_UPPER"
) -> tuple[int, int]:
    """SAME padding [conv.same_padding]: `o = ceil(i/s)`, `P = max((o-1)*s + d*(k-1) + 1 - i, 0)`.

    SAME_UPPER (TF/Keras 'SAME', ONNX SAME_UPPER, PyTorch padding='same' at s=1) puts the odd
    pixel at the end: `(P // 2, P - P // 2)`; SAME_LOWER at the begin: `(P - P // 2, P // 2)`.
    Sources: TF nn_ops "Notes on padding"; ONNX Conv auto_pad.
    """
    i = check_int("i", i, at_least=1, what="input size")
    ke = effective_kernel(k, dilation=dilation)
    s = check_int("stride", stride, at_least=1)
    if mode not in ("SAME_UPPER", "SAME_LOWER"):
        raise ValueError(f"mode={mode!r}: must be 'SAME_UPPER' or 'SAME_LOWER'")
    o = -(-i // s)
    total = max((o - 1) * s + ke - i, 0)
    small, large = total // 2, total - total // 2
    return (small, large) if mode == "SAME_UPPER" else (large, small)


def resolve_pads(pads, spatial_shape, kernel_shape, *, strides, dilations):
    """The protocol's `pads` (pairs or a mode string) as one `(begin, end)` pair per spatial axis.

    "VALID" is no padding; "SAME_UPPER" / "SAME_LOWER" are `same_pads` per axis.
    """
    ndim = len(spatial_shape)
    checked = check_pads(pads, ndim)
    if checked == "VALID":
        return ((0, 0),) * ndim
    if isinstance(checked, str):
        return tuple(
            same_pads(i, k, stride=s, dilation=d, mode=checked)
            for i, k, s, d in zip(spatial_shape, kernel_shape, strides, dilations)
        )
    return checked


def resolve_conv_transpose_pads(pads, spatial_shape, kernel_shape, *, strides, dilations,
                                output_padding):
    """The pads and output padding of a transposed conv, per axis.

    Explicit pairs pass through with `output_padding`. A SAME mode asks for the output size
    `i*s` (TF conv2d_transpose, ONNX ConvTranspose auto_pad): the transposed conv is the adjoint
    of the SAME conv of an `i*s` input, so its pads are `same_pads(i*s, k, s, d, mode)` and the
    output padding `max(s - ke, 0)` fills the end when the kernel is shorter than the stride.
    "VALID" is no padding. With a mode string, `output_padding` must be all zeros.
    """
    ndim = len(spatial_shape)
    output_padding = per_axis("output_padding", output_padding, ndim, at_least=0,
                              what="output padding")
    checked = check_pads(pads, ndim)
    if not isinstance(checked, str):
        return checked, output_padding
    if any(output_padding):
        raise ValueError(
            f"output_padding={output_padding}: must be zeros with pads={checked!r}, "
            f"which fixes the output size; give explicit (begin, end) pads instead"
        )
    if checked == "VALID":
        return ((0, 0),) * ndim, output_padding
    resolved_pads, resolved_output_padding = [], []
    for i, k, s, d in zip(spatial_shape, kernel_shape, strides, dilations):
        resolved_pads.append(same_pads(i * s, k, stride=s, dilation=d, mode=checked))
        resolved_output_padding.append(max(s - effective_kernel(k, dilation=d), 0))
    return tuple(resolved_pads), tuple(resolved_output_padding)


def adaptive_bins(i: int, o: int) -> tuple[tuple[int, int], ...]:
    """Adaptive pooling bins [pool.adaptive_bins]: bin `j` covers `[floor(j*i/o), ceil((j+1)*i/o))`.

    Bins are non-empty, cover `[0, i)`, and overlap by at most one element.
    Source: PyTorch AdaptivePooling.h `start_index` / `end_index`.
    """
    i = check_int("i", i, at_least=1, what="input size")
    o = check_int("o", o, at_least=1, what="output size")
    return tuple(((j * i) // o, -(-((j + 1) * i) // o)) for j in range(o))
