"""Arithmetic of architectures: parameter counts, receptive fields, dilation design, layout offsets.

These rules are spec-only: their worked numbers are the catalogue's examples (rules.md, section 5);
they are checked against brute force in tests/ and against the frameworks' layers in the suite.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .arguments import check_int, per_axis
from .geometry import conv_output_size, effective_kernel


def _layer(layer, index):
    if not (isinstance(layer, Sequence) and len(layer) in (2, 3)):
        raise ValueError(
            f"layers[{index}]={layer!r}: each layer must be (kernel, stride) or "
            f"(kernel, stride, dilation)"
        )
    k, s, *rest = layer
    d = rest[0] if rest else 1
    return (
        check_int(f"layers[{index}] kernel", k, at_least=1, what="kernel size"),
        check_int(f"layers[{index}] stride", s, at_least=1, what="stride"),
        check_int(f"layers[{index}] dilation", d, at_least=1, what="dilation"),
    )


def receptive_field(layers) -> int:
    """Receptive field of one output of a stack of layers, along one axis [receptive_field.recursion].

    `r_0 = 1`, `r_l = r_{l-1} + (ke_l - 1) * prod(s_1 .. s_{l-1})` with `ke_l = d_l*(k_l-1) + 1`;
    padding does not enter. `layers` is `[(kernel, stride, dilation), ...]` from input to output
    (dilation may be left out). Source: Araujo, Norris & Sim, Distill 2019,
    https://distill.pub/2019/computing-receptive-fields/.
    """
    r, jump = 1, 1
    for index, layer in enumerate(layers):
        k, s, d = _layer(layer, index)
        r += (effective_kernel(k, dilation=d) - 1) * jump
        jump *= s
    return r


def conv_param_count(kernel_shape, c_in: int, c_out: int, *, groups: int = 1,
                     bias: bool = True) -> int:
    """`prod(k) * (C_in/g) * C_out + C_out` (the last term with bias) [params.conv].

    Worked example: k_h*k_w*C_in*C_out + C_out; each filter spans the input channels of its group.
    """
    kernel = tuple(kernel_shape) if isinstance(kernel_shape, Sequence) else (kernel_shape,)
    kernel = per_axis("kernel_shape", kernel, len(kernel), at_least=1, what="kernel size")
    c_in = check_int("c_in", c_in, at_least=1, what="channel count")
    c_out = check_int("c_out", c_out, at_least=1, what="channel count")
    g = check_int("groups", groups, at_least=1, what="group count")
    if c_in % g or c_out % g:
        raise ValueError(f"groups={g}: must divide c_in={c_in} and c_out={c_out}")
    return math.prod(kernel) * (c_in // g) * c_out + (c_out if bias else 0)


def depthwise_separable_param_count(kernel_shape, c_in: int, c_out: int, *,
                                    bias: bool = False) -> int:
    """Depthwise (`g = C_in`) then pointwise conv: `prod(k)*C_in + C_in*C_out` [conv.depthwise_separable].

    Worked example: a 3x3 kernel, 3 channels to 4 gives 27 + 12 = 39 parameters against 108.
    With `bias`, each of the two convs has its own.
    """
    kernel = tuple(kernel_shape) if isinstance(kernel_shape, Sequence) else (kernel_shape,)
    depthwise = conv_param_count(kernel, c_in, c_in, groups=c_in, bias=bias)
    pointwise = conv_param_count((1,) * len(kernel), c_in, c_out, bias=bias)
    return depthwise + pointwise


def conv_multiplications(input_shape, kernel_shape) -> int:
    """Multiplications of a valid, unit-stride single-channel conv: `prod(o) * prod(k)`.

    Worked example: a 3x3 kernel on a 5x5 input makes 9 outputs of 9 products, 81 in all.
    """
    outputs = [conv_output_size(i, k) for i, k in _shapes(input_shape, kernel_shape)]
    return math.prod(outputs) * math.prod(kernel_shape)


def spatially_separable_multiplications(input_shape, kernel_shape) -> int:
    """Multiplications of a `k_h x 1` then a `1 x k_w` conv (valid, unit stride) [conv.spatially_separable].

    `o_h * i_w * k_h + o_h * o_w * k_w`. Worked example: 5x5 input, 3x3 kernel: 15*3 + 9*3 = 72
    against 81 for the full kernel.
    """
    (i_h, k_h), (i_w, k_w) = _shapes(input_shape, kernel_shape)
    o_h, o_w = conv_output_size(i_h, k_h), conv_output_size(i_w, k_w)
    return o_h * i_w * k_h + o_h * o_w * k_w


def _shapes(input_shape, kernel_shape):
    if len(input_shape) != len(kernel_shape):
        raise ValueError(
            f"input_shape={tuple(input_shape)} and kernel_shape={tuple(kernel_shape)}: "
            f"need one kernel size per spatial axis"
        )
    return list(zip(input_shape, kernel_shape))


def spp_feature_length(channels: int, bins=((4, 4), (2, 2), (1, 1))) -> int:
    """Length of a spatial pyramid pooling vector: `sum(prod(bin)) * C`, any input size [pool.adaptive_bins].

    Worked example: bins 4x4, 2x2, 1x1 over 256 maps give (16 + 4 + 1) * 256 = 5376.
    """
    c = check_int("channels", channels, at_least=1, what="channel count")
    return sum(math.prod(per_axis("bins", b, len(b), at_least=1, what="bin count"))
               for b in bins) * c


def hdc_m2(rates) -> int:
    """`M_2` of Hybrid Dilated Convolution [dilation.hdc]; a design is good when `M_2 <= K`.

    `M_n = r_n`, `M_i = max(M_{i+1} - 2*r_i, M_{i+1} - 2*(M_{i+1} - r_i), r_i)`, the largest
    gap between two used inputs. K=3: r=[1, 2, 5] gives 2 (good), r=[1, 2, 9] gives 5 (not).
    The condition is sufficient for a hole-free coverage, not necessary (formulas.md section 13).
    Source: Wang et al., "Understanding Convolution for Semantic Segmentation", WACV 2018,
    arXiv:1702.08502.
    """
    rates = tuple(rates)
    if len(rates) < 2:
        raise ValueError(f"rates={rates!r}: M_2 needs at least two layers")
    rates = per_axis("rates", rates, len(rates), at_least=1, what="dilation rate")
    m = rates[-1]
    for r in reversed(rates[1:-1]):
        m = max(m - 2 * r, m - 2 * (m - r), r)
    return m


def dilated_usage_counts(kernel: int, rates, *, ndim: int = 2) -> list[np.ndarray]:
    """How often one top-layer output uses each element of each lower layer [receptive_field.gridding].

    For a stack of unit-stride `kernel`-tap convs with dilation `rates` (input to output),
    `counts[0]` is the input layer, `counts[-1]` the single top pixel (`[[1]]`). Along one axis,
    the counts of a layer are those of the layer above spread over the dilated taps; the `ndim`
    counts are the outer product of the 1-D ones. A zero inside the span is a hole (gridding).
    Worked example: three 3x3 convs at rate 2 on 17x17: the top pixel sees 13x13 of layer 1 and 9x9 of
    layer 2, every other row and column unused.
    """
    k = check_int("kernel", kernel, at_least=1, what="kernel size")
    rates = per_axis("rates", tuple(rates), len(tuple(rates)), at_least=1, what="dilation rate")
    ndim = check_int("ndim", ndim, at_least=1, what="axis count")
    counts_1d = [np.ones(1, dtype=np.int64)]
    for r in reversed(rates):
        taps = np.zeros(effective_kernel(k, dilation=r), dtype=np.int64)
        taps[::r] = 1
        counts_1d.append(np.convolve(counts_1d[-1], taps))
    counts_1d.reverse()
    out = []
    for c in counts_1d:
        grid = c
        for _ in range(ndim - 1):
            grid = np.multiply.outer(grid, c)
        out.append(grid)
    return out


def nchw_offset(index, shape) -> int:
    """Offset of `(n, c, h, w)` in a row-major NCHW buffer: `((n*C + c)*H + h)*W + w` [layout.nchw_offsets].

    W varies fastest, then H, C, N. Worked example: N=2, C=16, H=5, W=4 runs 0..639 and (1, 0, 0, 0)
    is at 320. Works for any rank (row-major).
    """
    shape = per_axis("shape", tuple(shape), len(tuple(shape)), at_least=1, what="dimension")
    index = tuple(index)
    if len(index) != len(shape):
        raise ValueError(f"index={index!r}: needs one coordinate per dimension of shape={shape}")
    offset = 0
    for axis, (position, size) in enumerate(zip(index, shape)):
        position = check_int(f"index[{axis}]", position, at_least=0, what="coordinate")
        if position >= size:
            raise ValueError(f"index={index!r}: index[{axis}]={position} is past the size {size}")
        offset = offset * size + position
    return offset
