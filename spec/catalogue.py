"""The rule catalogue: every rule of rules.md as a record, with sources and executable worked examples.

A rule's id is stable: it names the report's row, the deviations files' key and
`cnnspec explain ID`. Add rules, never rename one. Each worked example is code: a lambda whose
body is a Python expression over the spec (its functions, `ref` for `cnnspec.spec.reference`,
`np`, `raises`) and a lambda whose body is the value it must give. The text that `cnnspec
explain` and SPEC.md show is those bodies' source (`worked_examples.written`); the tests call
every one, so each worked number comes out of the spec exactly.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from . import reference as ref
from .architecture import (
    conv_multiplications,
    conv_param_count,
    depthwise_separable_param_count,
    dilated_usage_counts,
    hdc_m2,
    nchw_offset,
    receptive_field,
    spatially_separable_multiplications,
    spp_feature_length,
)
from .geometry import (
    adaptive_bins,
    conv_output_size,
    conv_transpose_output_size,
    conv_transpose_roundtrip_padding,
    effective_kernel,
    pool_output_size,
    same_pads,
)

SECTIONS = (
    "Geometry",
    "Values against the reference",
    "Gradients",
    "Numerical stability",
    "Arithmetic of architectures",
    "Tolerance policy",
)
KINDS = ("geometry", "value", "gradient", "stability", "convention", "arithmetic")

# Sources named by more than one rule.
DUMOULIN = "Dumoulin & Visin, A guide to convolution arithmetic for deep learning, arXiv:1603.07285"
TORCH_CONV = "https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html"
TORCH_CONVT = "https://pytorch.org/docs/stable/generated/torch.nn.ConvTranspose2d.html"
TORCH_MAXPOOL = "https://pytorch.org/docs/stable/generated/torch.nn.MaxPool2d.html"
TORCH_AVGPOOL = "https://pytorch.org/docs/stable/generated/torch.nn.AvgPool2d.html"
ONNX_CONV = "https://onnx.ai/onnx/operators/onnx__Conv.html"
ONNX_CONVT = "https://onnx.ai/onnx/operators/onnx__ConvTranspose.html"
ONNX_MAXPOOL = "https://onnx.ai/onnx/operators/onnx__MaxPool.html"
ONNX_AVGPOOL = "https://onnx.ai/onnx/operators/onnx__AveragePool.html"
TF_PADDING = "https://www.tensorflow.org/api_docs/python/tf/nn#notes_on_padding_2"
DISTILL_RF = "Araujo, Norris & Sim, Computing Receptive Fields of CNNs, Distill 2019, https://distill.pub/2019/computing-receptive-fields/"
HDC_PAPER = "Wang et al., Understanding Convolution for Semantic Segmentation, WACV 2018, arXiv:1702.08502"
BHH = "Blanchard, Higham & Higham, Accurately computing the log-sum-exp and softmax functions, IMA J. Numer. Anal. 2021, doi:10.1093/imanum/draa038"
STABLEHLO = "https://openxla.org/stablehlo/spec"
CS231N = "CS231n course notes, Convolutional Neural Networks, https://cs231n.github.io/convolutional-networks/"
DL_BOOK = "Goodfellow, Bengio & Courville, Deep Learning, MIT Press 2016, chapter 9, https://www.deeplearningbook.org/contents/convnets.html"
DL_BOOK_BACKPROP = "Goodfellow, Bengio & Courville, Deep Learning, section 6.5, https://www.deeplearningbook.org/contents/mlp.html"
ONEDNN_FORMATS = "oneDNN, Understanding Memory Formats, https://oneapi-src.github.io/oneDNN/dev_guide_understanding_memory_formats.html"
NIN = "Lin, Chen & Yan, Network In Network, ICLR 2014, arXiv:1312.4400"
ALEXNET = "Krizhevsky, Sutskever & Hinton, ImageNet Classification with Deep Convolutional Neural Networks, NeurIPS 2012, https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks"
MOBILENET = "Howard et al., MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications, arXiv:1704.04861"
INCEPTION = "Szegedy et al., Going deeper with convolutions, CVPR 2015, arXiv:1409.4842"
INCEPTION_V3 = "Szegedy et al., Rethinking the Inception Architecture for Computer Vision, CVPR 2016, arXiv:1512.00567 (asymmetric n x 1 and 1 x n convolutions)"
DILATED = "Yu & Koltun, Multi-Scale Context Aggregation by Dilated Convolutions, ICLR 2016, arXiv:1511.07122"
SPP = "He, Zhang, Ren & Sun, Spatial Pyramid Pooling in Deep Convolutional Networks for Visual Recognition, arXiv:1406.4729"
UNPOOLING = "Zeiler & Fergus, Visualizing and Understanding Convolutional Networks, ECCV 2014, arXiv:1311.2901"
SUBPIXEL = "Shi et al., Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel Convolutional Neural Network, CVPR 2016, arXiv:1609.05158"
TORCH_KINKS = "https://pytorch.org/docs/stable/notes/autograd.html#gradients-for-non-differentiable-functions"
GLOROT = "Glorot & Bengio, Understanding the difficulty of training deep feedforward neural networks, AISTATS 2010, https://proceedings.mlr.press/v9/glorot10a.html"
IEEE_NAN = "IEEE 754-2019, 6.2: an operation with a quiet NaN input delivers a quiet NaN; unlike C's fmax, https://en.cppreference.com/w/c/numeric/math/fmax (fmax(NaN, 0) = 0)"
STABLE_SIGMOID = "Vieira, Exp-normalize trick (the stable sigmoid), https://timvieira.github.io/blog/post/2014/02/11/exp-normalize-trick/"
ELU_PAPER = "Clevert, Unterthiner & Hochreiter, Fast and Accurate Deep Network Learning by Exponential Linear Units (ELUs), ICLR 2016, arXiv:1511.07289"


def _torch_doc(name: str) -> str:
    return f"https://pytorch.org/docs/stable/generated/torch.nn.{name}.html"


# The symbols of the formulas, defined once: SPEC.md lists them all, `cnnspec explain` those of
# its rule. Per spatial axis unless said otherwise.
SYMBOLS = (
    ("i, o", "input and output size along one spatial axis"),
    ("I, O", "input and output size of an adaptive pool along the axis"),
    ("k", "kernel size along the axis (kernel_shape for pooling, w.shape[2:] for conv)"),
    ("s", "stride; in the softmax rules, s = softmax(x)"),
    ("d", "dilation: the step between kernel taps (1: dense)"),
    ("ke", "effective kernel size, d*(k-1) + 1: the extent a dilated kernel covers"),
    ("pb, pe, p", "padding at the beginning and at the end of the axis; p when both are equal"),
    ("P", "total SAME padding along the axis, pb + pe"),
    ("a", "output_padding of a transposed conv: extra rows at the end, a < max(s, d)"),
    ("g", "groups: input and output channels split into g independent blocks"),
    ("N, C, H, W", "batch size, channels, height, width (D: depth) of a channels-first array"),
    ("C_in, C_out", "input and output channels of a conv"),
    ("n, c, h, w", "indices along N, C, H, W (elsewhere w is the weight)"),
    ("x, y, w, b", "input, output, weight (C_out, C_in/g, *k), bias (C_out,)"),
    ("x~", "the input padded by pb and pe (zeros for conv and average pooling, -inf for max)"),
    ("t, m", "an output position and a tap of the window, per axis"),
    ("j", "an index: of an output channel in its group, a bin, an element of a row"),
    ("o_h, o_w, i_w, k_h, k_w", "output, input and kernel sizes along height (h) and width (w)"),
    ("dx, dw, dy", "gradients of input and weight, and the cotangent of the output"),
    ("r", "scale factor of upsampling, upscale factor of pixel shuffle; r_k: receptive field "
          "after layer k"),
    ("M", "the row maximum, max(x), in softmax and log_softmax"),
    ("M_2, K", "HDC's maximum distance between nonzero taps at layer 2, and the kernel size"),
    ("K", "in tolerance.policy, the reduction length (taps times channels summed)"),
    ("eps, tiny", "machine epsilon and smallest normal number of the output dtype"),
    ("alpha", "the negative slope of leaky_relu; the saturation scale of elu"),
    ("sigma", "the logistic sigmoid, 1 / (1 + e^-x)"),
)


def symbols_in(formula: str) -> list[tuple[str, str]]:
    """The SYMBOLS entries that `formula` uses (any of an entry's names as a whole word)."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*~?", formula))
    return [(names, meaning) for names, meaning in SYMBOLS
            if any(name.strip() in words for name in names.split(","))]


def raises(fn) -> str | None:
    """The class name of the exception that `fn()` raises, or None when it returns (for the
    worked examples of what must be refused)."""
    try:
        fn()
    except Exception as error:  # the examples name the class they expect
        return type(error).__name__
    return None


@dataclass(frozen=True)
class Example:
    """A worked example: `compute()` gives exactly `expected()`. Both are lambdas written on one
    line, whose bodies are the text shown (`worked_examples.written`)."""

    compute: Callable[[], object]
    expected: Callable[[], object]
    note: str = ""


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue (rules.md): what must hold, its formula, and where it comes from."""

    id: str
    title: str
    section: str
    kind: str
    statement: str
    formula: str
    sources: tuple[str, ...]
    examples: tuple[Example, ...] = ()

    def __post_init__(self):
        if self.section not in SECTIONS:
            raise ValueError(f"rule {self.id}: section={self.section!r} is not one of {SECTIONS}")
        if self.kind not in KINDS:
            raise ValueError(f"rule {self.id}: kind={self.kind!r} is not one of {KINDS}")


_GEOMETRY = (
    Rule(
        id="conv.output_size",
        title="Conv output size floors",
        section="Geometry", kind="geometry",
        statement="A convolution's output size per axis is the number of whole (dilated) windows "
                  "that fit in the padded input; when the division is not exact the frameworks "
                  "floor (the often-quoted '(10-3+0)/2+1 = 4.5 is invalid' gets 4).",
        formula="o = floor((i + pb + pe - d*(k-1) - 1) / s) + 1",
        sources=(CS231N,) + (DUMOULIN + ", relationships 6 and 15", TORCH_CONV),
        examples=(
            Example(lambda: conv_output_size(10, 3, stride=2), lambda: 4, "4.5 floors to 4"),
            Example(lambda: conv_output_size(28, 3), lambda: 26, "28x28 to 26x26"),
            Example(lambda: conv_output_size(5, 3, stride=2, pads=(1, 1), dilation=2), lambda: 2),
        ),
    ),
    Rule(
        id="conv.valid_padding",
        title="VALID convolution",
        section="Geometry", kind="geometry",
        statement="Without padding at unit stride the output shrinks by k - 1.",
        formula="o = i - k + 1",
        sources=(DUMOULIN + ", relationship 1",),
        examples=(Example(lambda: conv_output_size(28, 5), lambda: 24),
                  Example(lambda: same_pads(28, 5, mode="SAME_UPPER"), lambda: (2, 2),
                          "VALID is no padding at all, unlike SAME: 28 - 5 + 1 = 24, not 28")),
    ),
    Rule(
        id="conv.half_padding",
        title="Half (same) padding keeps the size",
        section="Geometry", kind="geometry",
        statement="An odd kernel at unit stride with p = (k-1)/2 on each side keeps the size "
                  "(the 'same convolution').",
        formula="k = 2n + 1, s = 1, p = n  =>  o = i",
        sources=(DUMOULIN + ", relationship 3",),
        examples=(Example(lambda: conv_output_size(28, 3, pads=(1, 1)), lambda: 28),
                  Example(lambda: conv_output_size(28, 5, pads=(2, 2)), lambda: 28)),
    ),
    Rule(
        id="conv.full_padding",
        title="Full padding grows by k - 1",
        section="Geometry", kind="geometry",
        statement="Padding k - 1 on each side at unit stride gives every partial overlap.",
        formula="p = k - 1, s = 1  =>  o = i + k - 1",
        sources=(DUMOULIN + ", relationship 4",),
        examples=(Example(lambda: conv_output_size(5, 3, pads=(2, 2)), lambda: 7),),
    ),
    Rule(
        id="conv.same_padding",
        title="SAME padding: ceil(i/s), odd pixel at the end",
        section="Geometry", kind="geometry",
        statement="SAME_UPPER (TF/Keras 'SAME', ONNX SAME_UPPER) pads so that o = ceil(i/s) and "
                  "puts the odd pixel of an odd total at the end; SAME_LOWER puts it at the begin. "
                  "A model ported from TF to PyTorch with symmetric padding is off by one pixel.",
        formula="o = ceil(i/s); P = max((o-1)*s + d*(k-1) + 1 - i, 0); "
                "SAME_UPPER (pb, pe) = (P // 2, P - P // 2); SAME_LOWER (P - P // 2, P // 2)",
        sources=(TF_PADDING, ONNX_CONV),
        examples=(
            Example(lambda: same_pads(5, 2, stride=2), lambda: (0, 1), "the odd pixel goes to the end"),
            Example(lambda: same_pads(5, 2, stride=2, mode="SAME_LOWER"), lambda: (1, 0)),
            Example(lambda: same_pads(10, 4), lambda: (1, 2)),
            Example(lambda: conv_output_size(10, 3, stride=3, pads=same_pads(10, 3, stride=3)), lambda: 4,
                    "ceil(10/3)"),
        ),
    ),
    Rule(
        id="conv.output_channels",
        title="Output depth is the number of filters",
        section="Geometry", kind="geometry",
        statement="The output depth is the number of filters, whatever the input depth; each filter "
                  "spans all input channels of its group (e.g. a 3x3 filter on 28x28x192 is "
                  "3x3x192, and 96 of them give 26x26x96).",
        formula="y.shape = (N, C_out, *o) with w.shape = (C_out, C_in/g, *k)",
        sources=(CS231N, TORCH_CONV,),
        examples=(Example(lambda: ref.conv(np.zeros((1, 192, 28, 28)), np.zeros((96, 192, 3, 3)), strides=(1, 1), pads="VALID", dilations=(1, 1), groups=1).shape,
                          lambda: (1, 96, 26, 26), "28x28x192 with CS231n's F=3, P=0, S=1, K=96"),),
    ),
    Rule(
        id="conv.effective_kernel",
        title="Dilated kernel extent",
        section="Geometry", kind="geometry",
        statement="Dilation d inserts d - 1 gaps between kernel taps: a 3x3 kernel at rate 2 covers "
                  "5x5 with 9 parameters.",
        formula="ke = k + (k-1)*(d-1) = d*(k-1) + 1",
        sources=(DILATED,) + (DUMOULIN + ", relationship 15",),
        examples=(Example(lambda: effective_kernel(3, dilation=2), lambda: 5, "3x3 covers 5x5"),),
    ),
    Rule(
        id="conv_transpose.output_size",
        title="Transposed conv output size",
        section="Geometry", kind="geometry",
        statement="A transposed conv inverts the shape map of the conv with the same parameters; "
                  "the output padding a picks one of the s input sizes a strided conv maps to one "
                  "output size (a < max(s, d)).",
        formula="o = (i-1)*s - pb - pe + d*(k-1) + a + 1",
        sources=(DUMOULIN + ", relationships 8-14", TORCH_CONVT, ONNX_CONVT),
        examples=(
            Example(lambda: conv_transpose_output_size(3, 3, stride=2, pads=(1, 1)), lambda: 5,
                    "s=2, p=1, k=3 takes 3x3 to 5x5"),
            Example(lambda: conv_transpose_output_size(2, 3), lambda: 4, "2x2 back to 4x4"),
        ),
    ),
    Rule(
        id="conv_transpose.shape_roundtrip",
        title="Output padding restores the conv's input size",
        section="Geometry", kind="geometry",
        statement="For a conv (i, k, s, p, d), the transposed conv with the same parameters and "
                  "output padding a = (i + 2p - d*(k-1) - 1) mod s restores i.",
        formula="a = (i + pb + pe - d*(k-1) - 1) mod s;  convT_out(conv_out(i), a) = i",
        sources=(DUMOULIN + ", relationship 14",),
        examples=(
            Example(lambda: conv_transpose_roundtrip_padding(10, 3, stride=2, pads=(1, 1)), lambda: 1),
            Example(lambda: conv_transpose_output_size(conv_output_size(10, 3, stride=2, pads=(1, 1)), 3, stride=2, pads=(1, 1), output_padding=1), lambda: 10),
        ),
    ),
    Rule(
        id="pool.output_size.floor",
        title="Pooling output size, floor mode",
        section="Geometry", kind="geometry",
        statement="With ceil_mode=False (every framework's default) pooling uses the conv formula.",
        formula="o = floor((i + pb + pe - d*(k-1) - 1) / s) + 1",
        sources=(TORCH_MAXPOOL, ONNX_MAXPOOL, DUMOULIN + ", relationship 7"),
        examples=(Example(lambda: pool_output_size(9, 4, stride=4, pads=(2, 2)), lambda: 3),
                  Example(lambda: pool_output_size(5, 2, stride=2), lambda: 2)),
    ),
    Rule(
        id="pool.output_size.ceil",
        title="Pooling output size, ceil mode and the last-window rule",
        section="Geometry", kind="geometry",
        statement="With ceil_mode=True the division rounds up (the Caffe convention), "
                  "then the last window is dropped if it would start at or past i + pb: every "
                  "window must start inside the input or the begin padding. A last window that "
                  "starts inside the begin padding ((o-1)*s < pb) is kept: its start in input "
                  "coordinates, (o-1)*s - pb, is negative, not past the end.",
        formula="o = ceil((i + pb + pe - d*(k-1) - 1) / s) + 1; if (o-1)*s >= i + pb: o -= 1",
        sources=(TORCH_MAXPOOL, ONNX_MAXPOOL,
                                "https://github.com/pytorch/pytorch/issues/116420"),
        examples=(
            Example(lambda: pool_output_size(5, 2, stride=2, ceil_mode=True), lambda: 3, "ceil keeps the partial window"),
            Example(lambda: pool_output_size(9, 4, stride=4, pads=(2, 2), ceil_mode=True), lambda: 3,
                    "pytorch #116420: ceil gives 4, but that window starts at 12 >= i + pb = 11"),
            Example(lambda: pool_output_size(1, 4, stride=1, pads=(2, 2), ceil_mode=True), lambda: 2,
                    "both windows start in the begin padding (at -2 and -1) and hold x[0]"),
        ),
    ),
    Rule(
        id="pool.channels_preserved",
        title="Pooling keeps N and C",
        section="Geometry", kind="geometry",
        statement="Pooling shrinks the spatial axes only; batch and channels pass through.",
        formula="y.shape = (N, C, *o)",
        sources=(CS231N, TORCH_MAXPOOL,),
        examples=(Example(lambda: ref.max_pool(np.zeros((2, 16, 5, 4)), kernel_shape=(2, 2), strides=(2, 2), pads="VALID", dilations=(1, 1), ceil_mode=False).shape, lambda: (2, 16, 2, 2)),),
    ),
    Rule(
        id="layout.nchw_offsets",
        title="NCHW memory offsets",
        section="Geometry", kind="geometry",
        statement="Row-major NCHW storage runs W fastest, then H, C, N; channels-last results equal "
                  "channels-first ones after transposition.",
        formula="offset(n, c, h, w) = ((n*C + c)*H + h)*W + w",
        sources=(ONEDNN_FORMATS,),
        examples=(
            Example(lambda: nchw_offset((1, 0, 0, 0), (2, 16, 5, 4)), lambda: 320, "N starts at 320"),
            Example(lambda: nchw_offset((1, 15, 4, 3), (2, 16, 5, 4)), lambda: 639, "the last of 0..639"),
            Example(lambda: nchw_offset((0, 1, 0, 0), (2, 16, 5, 4)), lambda: 20, "C starts at 020"),
        ),
    ),
    Rule(
        id="invalid.rejected",
        title="Invalid configurations raise",
        section="Geometry", kind="geometry",
        statement="An invalid configuration raises an error, never returns garbage: a channel "
                  "mismatch (x [1,1,28,28] with w [16,3,5,5]), C % g != 0, an output "
                  "size < 1, an output padding a >= max(s, d).",
        formula="C_in == w.shape[1] * g;  C_in % g == 0;  o >= 1;  a < max(s, d)",
        sources=(TORCH_CONV, TORCH_CONVT),
        examples=(
            Example(lambda: raises(lambda: ref.conv(np.zeros((1, 1, 28, 28)), np.zeros((16, 3, 5, 5)), strides=(1, 1), pads="VALID", dilations=(1, 1), groups=1)),
                    lambda: 'ValueError', "the weight does not match the input's channels"),
            Example(lambda: raises(lambda: conv_output_size(2, 5)), lambda: 'ValueError'),
        ),
    ),
    Rule(
        id="dtype.preserved",
        title="Every op returns its input's dtype",
        section="Geometry", kind="geometry",
        statement="Every op returns its result in the dtype of its input: float16 in, float16 "
                  "out; bfloat16 stays bfloat16; float64 is not rounded to float32. An op that "
                  "computes in a wider dtype rounds back; one that returns the wider dtype "
                  "declares it. max_pool_argmax returns integers.",
        formula="dtype(op(x, ...)) = dtype(x);  max_pool_argmax: an integer dtype",
        sources=(ONNX_CONV + " (type constraint T: X, W, B and Y are all T)",
                 "https://data-apis.org/array-api/latest/API_specification/type_promotion.html"),
        examples=(Example(lambda: (np.ones(2, np.float16) * np.ones(2, np.float16)).dtype.name, lambda: 'float16',
                          "the array API's rule: two float16 operands give float16"),),
    ),
)

_VALUES = (
    Rule(
        id="conv.cross_correlation",
        title="Convolution is cross-correlation",
        section="Values against the reference", kind="value",
        statement="Deep learning's 'convolution' slides the kernel without flipping it "
                  "(cross-correlation); it equals true convolution with a spatially flipped kernel.",
        formula="y[t] = sum_m w[m] * x[t*s + m*d - pb]   (no flip)",
        sources=(DL_BOOK,) + (TORCH_CONV,),
        examples=(Example(lambda: ref.conv(np.array([[[1., 2., 3.]]]), np.array([[[1., 0., -1.]]]), strides=(1,), pads="VALID", dilations=(1,), groups=1).tolist(),
                          lambda: [[[-2.0]]], "1*1 + 2*0 + 3*(-1); a flipped kernel would give +2"),),
    ),
    Rule(
        id="conv.matches_reference",
        title="Conv equals the reference",
        section="Values against the reference", kind="value",
        statement="Strided, padded (asymmetric too), dilated and grouped convolution in 1-D, 2-D "
                  "and 3-D equals the float64 reference within the tolerance policy.",
        formula="y[n, o, t] = b[o] + sum_c sum_m w[o, c, m] * x~[n, g(o)*C_in/g + c, t*s + m*d - pb]",
        sources=(TORCH_CONV, ONNX_CONV, STABLEHLO),
        examples=(Example(lambda: ref.conv(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), strides=(1, 1), pads=((1, 1), (1, 1)), dilations=(1, 1), groups=1)[0, 0].tolist(),
                          lambda: [[4.0, 6.0, 6.0, 4.0], [6.0, 9.0, 9.0, 6.0], [6.0, 9.0, 9.0, 6.0], [4.0, 6.0, 6.0, 4.0]]),),
    ),
    Rule(
        id="conv.multichannel_sum",
        title="Channels are summed",
        section="Values against the reference", kind="value",
        statement="Each output channel is the sum over input channels of per-channel "
                  "correlations, plus bias (a 5x5x3 input and a 3x3x3 filter give 3x3x1).",
        formula="y[o] = b[o] + sum_c corr(x[c], w[o, c])",
        sources=(CS231N, TORCH_CONV,),
        examples=(Example(lambda: ref.conv(np.ones((1, 3, 5, 5)), np.ones((1, 3, 3, 3)), strides=(1, 1), pads="VALID", dilations=(1, 1), groups=1).tolist(),
                          lambda: [[[[27.0, 27.0, 27.0], [27.0, 27.0, 27.0], [27.0, 27.0, 27.0]]]],
                          "5x5x3 with 3x3x3 gives 3x3x1, each 3 channels x 9 taps"),),
    ),
    Rule(
        id="conv.pointwise_is_matmul",
        title="1x1 conv is a per-pixel matrix product",
        section="Values against the reference", kind="value",
        statement="A 1x1 conv multiplies each pixel's channel vector by the (C_out, C_in) weight "
                  "matrix (five 1x1 filters take 6 channels to 5).",
        formula="y[n, :, h, w] = W @ x[n, :, h, w] + b",
        sources=(NIN, CS231N,),
        examples=(Example(lambda: ref.conv(np.ones((1, 6, 4, 4)), np.ones((5, 6, 1, 1)), strides=(1, 1), pads="VALID", dilations=(1, 1), groups=1).shape,
                          lambda: (1, 5, 4, 4), "W*H*6 to W*H*5"),),
    ),
    Rule(
        id="conv.full_kernel_is_dense",
        title="A kernel as large as the input is a dense layer",
        section="Values against the reference", kind="value",
        statement="A kernel the size of the unpadded input gives one output per filter: a fully "
                  "connected layer on the flattened input.",
        formula="k = i  =>  y[n, o] = <w[o].ravel(), x[n].ravel()> + b[o]",
        sources=(CS231N,),
        examples=(Example(lambda: conv_output_size(28, 28), lambda: 1),),
    ),
    Rule(
        id="conv.grouped_is_split_concat",
        title="Grouped conv is split, convolve, concatenate",
        section="Values against the reference", kind="value",
        statement="g groups equal g independent convs on consecutive channel slices, their outputs "
                  "concatenated in group order.",
        formula="conv(x, w, g) = concat_j conv(x[:, j*C_in/g:(j+1)*C_in/g], w[j*C_out/g:(j+1)*C_out/g])",
        sources=(ALEXNET, TORCH_CONV,) + (STABLEHLO,),
        examples=(Example(lambda: conv_param_count((3, 3), 4, 2, groups=2, bias=False), lambda: 36,
                          "2 outputs each tied to 2 of 4 inputs, against 72 ungrouped"),),
    ),
    Rule(
        id="conv.depthwise",
        title="Depthwise conv is per-channel",
        section="Values against the reference", kind="value",
        statement="With g = C_in each channel is convolved with its own filters alone.",
        formula="g = C_in  =>  y[c*m + j] = corr(x[c], w[c*m + j, 0])",
        sources=(MOBILENET, TORCH_CONV,),
        examples=(Example(lambda: conv_param_count((3, 3), 3, 3, groups=3, bias=False), lambda: 27),),
    ),
    Rule(
        id="conv.depthwise_separable",
        title="Depthwise separable conv",
        section="Values against the reference", kind="value",
        statement="A depthwise conv followed by a pointwise conv equals their composition and has "
                  "C_in*k*k + C_in*C_out parameters (27 + 12 = 39 against 108).",
        formula="params = prod(k)*C_in + C_in*C_out",
        sources=(MOBILENET,),
        examples=(Example(lambda: depthwise_separable_param_count((3, 3), 3, 4), lambda: 39, "27 + 12"),
                  Example(lambda: conv_param_count((3, 3), 3, 4, bias=False), lambda: 108, "3*3*3*4")),
    ),
    Rule(
        id="conv.spatially_separable",
        title="Spatially separable conv",
        section="Values against the reference", kind="value",
        statement="A rank-1 kernel col x row equals a kx1 conv followed by a 1xk conv; on a 5x5 "
                  "input with a 3x3 kernel it takes 72 multiplications against 81.",
        formula="w = outer(col, row)  =>  conv(x, w) = conv(conv(x, col), row);  "
                "mults = o_h*i_w*k_h + o_h*o_w*k_w",
        sources=(INCEPTION_V3,),
        examples=(Example(lambda: conv_multiplications((5, 5), (3, 3)), lambda: 81, "9 * 9"),
                  Example(lambda: spatially_separable_multiplications((5, 5), (3, 3)), lambda: 72,
                          "15*3 + 9*3")),
    ),
    Rule(
        id="conv.dilation_is_sparse_kernel",
        title="Dilation is a sparse kernel",
        section="Values against the reference", kind="value",
        statement="Dilation d equals an undilated conv with d - 1 zeros inserted between the "
                  "kernel taps.",
        formula="conv(x, w, dilation=d) = conv(x, zero_insert(w, d))",
        sources=(DILATED,) + (DUMOULIN + ", section 5.1",),
        examples=(Example(lambda: ref.zero_insert(np.ones((1, 1, 2, 2)), (2, 2))[0, 0].tolist(),
                          lambda: [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 1.0]]),),
    ),
    Rule(
        id="conv.stride_is_subsampling",
        title="Stride is subsampling",
        section="Values against the reference", kind="value",
        statement="Stride s equals the unit-stride result sampled every s.",
        formula="conv(x, w, stride=s) = conv(x, w, stride=1)[..., ::s]",
        sources=(DUMOULIN,),
        examples=(Example(lambda: ref.conv(np.arange(7.).reshape(1, 1, 7), np.ones((1, 1, 3)), strides=(2,), pads=((0, 0),), dilations=(1,), groups=1)[0, 0].tolist(), lambda: [3.0, 9.0, 15.0],
                          "the unit-stride sums of 0..6 by threes are 3, 6, 9, 12, 15: every 2nd"),),
    ),
    Rule(
        id="conv.matrix_form",
        title="Conv is a sparse matrix product",
        section="Values against the reference", kind="value",
        statement="A conv is y = C @ vec(x) with C the unrolled sparse matrix of the kernel "
                  "(a 3x3 kernel on a 4x4 input gives a 4x16 C).",
        formula="vec(conv(x, w)) = C(w) @ vec(x)",
        sources=(DUMOULIN + ", chapter 4",),
        examples=(Example(lambda: ref.conv_matrix(np.ones((1, 1, 3, 3)), (1, 4, 4), strides=(1, 1), pads="VALID", dilations=(1, 1)).shape, lambda: (4, 16), "the 4x16 matrix"),),
    ),
    Rule(
        id="conv.linearity",
        title="Conv is linear",
        section="Values against the reference", kind="value",
        statement="Convolution is linear in its input (and bilinear in input and weight).",
        formula="conv(a*x + b*y, w) = a*conv(x, w) + b*conv(y, w)",
        sources=(DL_BOOK,),
        examples=(Example(lambda: ref.conv(np.array([[[2., 4.]]]) - np.array([[[1., 1.]]]), np.array([[[1., 1.]]]), strides=(1,), pads="VALID", dilations=(1,), groups=1).tolist(),
                          lambda: [[[4.0]]], "(2 + 4) - (1 + 1)"),),
    ),
    Rule(
        id="conv.translation_equivariance",
        title="Conv is translation equivariant",
        section="Values against the reference", kind="value",
        statement="Weight sharing: shifting the input by t*s (inside a zero margin) shifts the "
                  "output by t.",
        formula="conv(shift(x, t*s)) = shift(conv(x), t)",
        sources=(DL_BOOK,),
        examples=(
            Example(lambda: ref.conv(np.array([[[0., 1., 0., 0.]]]), np.array([[[1., 2.]]]), strides=(1,), pads="VALID", dilations=(1,), groups=1).tolist(),
                    lambda: [[[2.0, 1.0, 0.0]]]),
            Example(lambda: ref.conv(np.array([[[0., 0., 1., 0.]]]), np.array([[[1., 2.]]]), strides=(1,), pads="VALID", dilations=(1,), groups=1).tolist(),
                    lambda: [[[0.0, 2.0, 1.0]]], "the input moved by 1, so did the output"),
        ),
    ),
    Rule(
        id="conv_transpose.zero_insert_flip",
        title="Transposed conv is zero insertion, flip and conv",
        section="Values against the reference", kind="value",
        statement="A transposed conv equals: insert s - 1 zeros between input elements, pad "
                  "d*(k-1) - pb at the begin and d*(k-1) - pe + a at the end, flip the kernel "
                  "spatially and swap its in/out axes, then a unit-stride conv with dilation d "
                  "(JAX's conv_transpose without transpose_kernel skips the flip). A bias adds "
                  "b[c] to output channel c, with groups as without: C_out = g * (C_out/g) "
                  "biases, one per channel, not one per group.",
        formula="convT(x, w) = conv(pad(zero_insert(x, s), (d*(k-1)-pb, d*(k-1)-pe+a)), "
                "swap_io(flip(w)), stride=1, dilation=d)",
        sources=(DUMOULIN + ", relationships 12-14", STABLEHLO),
        examples=(Example(lambda: ref.pad(ref.zero_insert(np.ones((1, 1, 3, 3)), (2, 2)), ((1, 1), (1, 1))).shape,
                          lambda: (1, 1, 7, 7),
                          "s=2, p=1, k=3: 1 zero between, k-p-1 = 1 around; a 3x3 conv "
                          "then gives 5x5"),
                  Example(lambda: ref.conv_transpose(np.ones((1, 2, 1)), np.ones((2, 2, 1)), np.array([10., 20., 30., 40.]), strides=(1,), pads=((0, 0),), dilations=(1,), groups=2, output_padding=(0,))[0, :, 0].tolist(),
                          lambda: [11.0, 21.0, 31.0, 41.0], "2 groups of 2 output channels: each its own bias")),
    ),
    Rule(
        id="conv_transpose.matrix_transpose",
        title="Transposed conv is C transposed",
        section="Values against the reference", kind="value",
        statement="A transposed conv multiplies by C.T for the C of conv.matrix_form: it restores "
                  "the input's shape, not its values (2x2 back to 4x4).",
        formula="vec(convT(y, w)) = C(w).T @ vec(y)",
        sources=(DUMOULIN + ", chapter 4",),
        examples=(Example(lambda: (ref.conv_matrix(np.ones((1, 1, 3, 3)), (1, 4, 4), strides=(1, 1), pads="VALID", dilations=(1, 1)).T @ np.ones(4)).reshape(4, 4).tolist(),
                          lambda: [[1.0, 2.0, 2.0, 1.0], [2.0, 4.0, 4.0, 2.0], [2.0, 4.0, 4.0, 2.0], [1.0, 2.0, 2.0, 1.0]],
                          "a 2x2 map of ones back to 4x4"),),
    ),
    Rule(
        id="conv_transpose.adjoint",
        title="Transposed conv is the adjoint of conv",
        section="Values against the reference", kind="value",
        statement="For matching shapes, <conv(x, w), y> = <x, conv_transpose(y, w)>.",
        formula="<conv(x, w), y> == <x, convT(y, w)>",
        sources=(DUMOULIN + ", chapter 4",),
        examples=(Example(lambda: ref.conv_transpose(np.array([[[1., 1.]]]), np.array([[[1., -1.]]]), strides=(1,), pads=((0, 0),), dilations=(1,), groups=1, output_padding=(0,)).tolist(),
                          lambda: [[[1.0, 0.0, -1.0]]],
                          "<[1, 2, 3], [1, 0, -1]> = -2 = <conv([1, 2, 3], [1, -1]), [1, 1]> = <[-1, -1], [1, 1]>"),),
    ),
    Rule(
        id="conv_transpose.is_conv_input_gradient",
        title="Transposed conv is conv's input gradient",
        section="Values against the reference", kind="value",
        statement="A transposed conv equals the VJP of conv with respect to its input; a "
                  "framework whose transposed conv is not the gradient of its conv (a missing "
                  "kernel flip) fails here.",
        formula="convT(dy, w) = d<conv(x, w), dy>/dx",
        sources=("PyTorch OpInfo tests, https://github.com/pytorch/pytorch/blob/main/torch/testing/_internal/common_methods_invocations.py", "JAX lax tests, https://github.com/jax-ml/jax/blob/main/tests/lax_autodiff_test.py"),
        examples=(Example(lambda: ref.vjp('conv', (np.array([[[1., 2., 3.]]]), np.array([[[1., -1.]]])), np.array([[[1., 1.]]]), strides=(1,), pads="VALID", dilations=(1,), groups=1)[0].tolist(), lambda: [[[1.0, 0.0, -1.0]]],
                          "the conv_transpose.adjoint example again"),),
    ),
    Rule(
        id="pool.max_matches_reference",
        title="Max pooling equals the reference",
        section="Values against the reference", kind="value",
        statement="Max pooling with strides, padding, dilation and ceil mode equals the reference.",
        formula="y[t] = max_m x~[t*s + m*d - pb],  x~ = -inf outside the input",
        sources=(TORCH_MAXPOOL, ONNX_MAXPOOL),
        examples=(Example(lambda: ref.max_pool(np.array([[[1., 5., 3.]]]), kernel_shape=(3,), strides=(1,), pads="VALID", dilations=(1,), ceil_mode=False).tolist(),
                          lambda: [[[5.0]]]),),
    ),
    Rule(
        id="pool.avg_matches_reference",
        title="Average pooling equals the reference",
        section="Values against the reference", kind="value",
        statement="Average pooling with strides, padding and ceil mode equals the reference.",
        formula="y[t] = sum_m x~[t*s + m - pb] / divisor(t)",
        sources=(TORCH_AVGPOOL, ONNX_AVGPOOL),
        examples=(Example(lambda: ref.avg_pool(np.array([[[1., 2., 3., 4.]]]), kernel_shape=(2,), strides=(2,), pads="VALID", ceil_mode=False, count_include_pad=True).tolist(), lambda: [[[1.5, 3.5]]]),),
    ),
    Rule(
        id="pool.max_padding_never_wins",
        title="Max-pool padding is -inf",
        section="Values against the reference", kind="value",
        statement="Max-pool padding is -inf (or ignored): an all-negative input never yields 0.",
        formula="x~ = -inf outside the input",
        sources=(TORCH_MAXPOOL, ONNX_MAXPOOL, TF_PADDING),
        examples=(Example(lambda: ref.max_pool(np.array([[[-3., -1., -2.]]]), kernel_shape=(2,), strides=(2,), pads=((1, 1),), dilations=(1,), ceil_mode=False).tolist(), lambda: [[[-3.0, -1.0]]]),),
    ),
    Rule(
        id="pool.avg_count_include_pad",
        title="Average pooling divisor",
        section="Values against the reference", kind="value",
        statement="count_include_pad=True divides by the window size counting padding (in ceil "
                  "mode clipped to the padded extent); False divides by the number of input "
                  "elements. Defaults differ: PyTorch True, ONNX False, TF/Keras always False.",
        formula="divisor(t) = |window(t) ∩ [-pb, i + pe)| if count_include_pad else |window(t) ∩ [0, i)|",
        sources=(TORCH_AVGPOOL, ONNX_AVGPOOL, TF_PADDING),
        examples=(
            Example(lambda: ref.avg_pool(np.arange(6.).reshape(1, 1, 6), kernel_shape=(3,), strides=(3,), pads=((1, 1),), ceil_mode=True, count_include_pad=True).round(6).tolist(), lambda: [[[0.333333, 3.0, 2.5]]],
                    "the last window counts 1 padding cell, not the cell past it"),
            Example(lambda: ref.avg_pool(np.arange(6.).reshape(1, 1, 6), kernel_shape=(3,), strides=(3,), pads=((1, 1),), ceil_mode=True, count_include_pad=False).tolist(), lambda: [[[0.5, 3.0, 5.0]]]),
        ),
    ),
    Rule(
        id="pool.max_nan",
        title="NaN in a max window (convention)",
        section="Values against the reference", kind="convention",
        statement="A NaN inside a max window either propagates (NumPy/IEEE max, the reference) or "
                  "is ignored; which one is a convention, recorded per framework.",
        formula="max(window with NaN) in {NaN, max of the other elements}",
        sources=(TORCH_MAXPOOL,),
        examples=(Example(lambda: bool(np.isnan(ref.max_pool(np.array([[[1., np.nan, 3.]]]), kernel_shape=(3,), strides=(1,), pads="VALID", dilations=(1,), ceil_mode=False)).all()), lambda: True, "the reference propagates NaN"),),
    ),
    Rule(
        id="pool.max_window_permutation",
        title="Max ignores order inside a window",
        section="Values against the reference", kind="value",
        statement="A max over a window ignores the order of its elements ((1, 5, 3) and "
                  "its shift (0, 1, 5) both give 5).",
        formula="max(P x) = max(x) for any permutation P of a window",
        sources=(DL_BOOK, ONNX_MAXPOOL,),
        examples=(Example(lambda: [ref.max_pool(np.array([[v]]), kernel_shape=(3,), strides=(1,), pads="VALID", dilations=(1,), ceil_mode=False).item() for v in ([1., 5., 3.], [0., 1., 5.])], lambda: [5.0, 5.0]),),
    ),
    Rule(
        id="pool.global_average",
        title="Global average pooling",
        section="Values against the reference", kind="value",
        statement="Global average pooling is the spatial mean, and an average pool whose kernel is "
                  "the input size. The mean of values within the dtype's range is within it: a "
                  "float16 plane is summed in a wider type (float32), since its sum passes 65504 "
                  "long before its mean does.",
        formula="gap(x)[n, c] = mean(x[n, c]) = avg_pool(x, kernel_shape=x.shape[2:])",
        sources=(NIN,) + ("https://onnx.ai/onnx/operators/onnx__GlobalAveragePool.html",),
        examples=(Example(lambda: ref.global_avg_pool(np.arange(8.).reshape(1, 2, 2, 2))[:, :, 0, 0].tolist(),
                          lambda: [[1.5, 5.5]]),
                  Example(lambda: ref.global_avg_pool(np.full((1, 1, 4, 4), 40000, np.float16)).item(),
                          lambda: 40000.0, "16 * 40000 = 640000 is inf in float16; the mean is not")),
    ),
    Rule(
        id="pool.adaptive_bins",
        title="Adaptive pooling bins and spatial pyramid pooling",
        section="Values against the reference", kind="value",
        statement="Adaptive pooling bin j covers [floor(j*I/O), ceil((j+1)*I/O)); spatial pyramid "
                  "pooling with 4x4, 2x2 and 1x1 bins gives (16+4+1)*C features for any input "
                  "size (21*256).",
        formula="bin j = [floor(j*I/O), ceil((j+1)*I/O));  SPP length = C * sum(prod(bins))",
        sources=(SPP,) + ("https://pytorch.org/docs/stable/generated/torch.nn.AdaptiveAvgPool2d.html",),
        examples=(Example(lambda: adaptive_bins(5, 3), lambda: ((0, 2), (1, 4), (3, 5)), "bins overlap by one"),
                  Example(lambda: spp_feature_length(256), lambda: 5376, "(16 + 4 + 1) * 256")),
    ),
    Rule(
        id="pool.max_unpool",
        title="Max unpooling",
        section="Values against the reference", kind="value",
        statement="Max unpooling writes each pooled value at its recorded argmax and zeros "
                  "elsewhere; for non-overlapping windows it equals the max-pool VJP applied to the "
                  "pooled values. Without output_size its size is (i-1)*s - pb - pe + k: the "
                  "pads come off, as they do the input size that pooling saw.",
        formula="unpool(y, idx)[idx[t]] = y[t], 0 elsewhere; size (i-1)*s - pb - pe + k",
        sources=(UNPOOLING,) + ("https://pytorch.org/docs/stable/generated/torch.nn.MaxUnpool2d.html",),
        examples=(Example(lambda: ref.max_unpool(np.array([[[5.]]]), np.array([[[1]]]), kernel_shape=(3,), strides=(3,), pads="VALID").tolist(), lambda: [[[0.0, 5.0, 0.0]]]),
                  Example(lambda: ref.max_unpool(np.array([[[5., 7.]]]), np.array([[[0, 2]]]), kernel_shape=(3,), strides=(2,), pads=((1, 1),)).tolist(), lambda: [[[5.0, 0.0, 7.0]]],
                          "(2-1)*2 - 1 - 1 + 3 = 3, the input of that pool (5 with the pads)")),
    ),
    Rule(
        id="upsample.nearest",
        title="Nearest upsampling repeats pixels",
        section="Values against the reference", kind="value",
        statement="Nearest upsampling by an integer factor r repeats each pixel r times per axis.",
        formula="y[..., h] = x[..., h // r]",
        sources=("https://pytorch.org/docs/stable/generated/torch.nn.functional.interpolate.html",),
        examples=(Example(lambda: ref.upsample_nearest(np.array([[[1., 2.]]]), scale_factors=(2,)).tolist(),
                          lambda: [[[1.0, 1.0, 2.0, 2.0]]]),),
    ),
    Rule(
        id="upsample.pixel_shuffle",
        title="Pixel shuffle",
        section="Values against the reference", kind="value",
        statement="Pixel shuffle maps (C*r*r, H, W) to (C, H*r, W*r), ONNX DepthToSpace in CRD mode.",
        formula="y[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j, h, w]",
        sources=(SUBPIXEL,) + ("https://pytorch.org/docs/stable/generated/torch.nn.PixelShuffle.html",),
        examples=(Example(lambda: ref.pixel_shuffle(np.arange(4.).reshape(1, 4, 1, 1), upscale_factor=2)[0, 0].tolist(),
                          lambda: [[0.0, 1.0], [2.0, 3.0]]),),
    ),
)

_GRADIENTS = (
    Rule(
        id="grad.max_pool.routing",
        title="Max-pool gradient goes to the argmax",
        section="Gradients", kind="gradient",
        statement="The max-pool VJP puts each window's upstream gradient on that window's argmax "
                  "only; the other elements get 0; the total is preserved.",
        formula="dx[j] = sum_{t: argmax(t) = j} dy[t];  sum(dx) = sum(dy)",
        sources=(STABLEHLO + " (select_and_scatter)",),
        examples=(Example(lambda: ref.max_pool_vjp(np.array([[[1., 5., 3., 2.]]]), np.array([[[10., 20.]]]), kernel_shape=(2,), strides=(2,), pads="VALID", dilations=(1,), ceil_mode=False).tolist(), lambda: [[[0.0, 10.0, 20.0, 0.0]]]),),
    ),
    Rule(
        id="grad.max_pool.overlap_accumulates",
        title="Overlapping max-pool gradients add up",
        section="Gradients", kind="gradient",
        statement="An element that is the max of several overlapping windows receives the sum of "
                  "their gradients, never just the last one written.",
        formula="dx[j] = sum over every window t whose argmax is j of dy[t]",
        sources=(STABLEHLO + " (select_and_scatter)",),
        examples=(Example(lambda: ref.max_pool_vjp(np.array([[[1., 5., 3.]]]), np.array([[[1., 1.]]]), kernel_shape=(2,), strides=(1,), pads="VALID", dilations=(1,), ceil_mode=False).tolist(), lambda: [[[0.0, 2.0, 0.0]]]),),
    ),
    Rule(
        id="grad.max_pool.ties",
        title="Tied maxima: the first in scan order takes the gradient",
        section="Gradients", kind="gradient",
        statement="With tied maxima exactly one element per window receives that window's "
                  "gradient: the first maximum in row-major scan order of the window, the element "
                  "the framework's own argmax/indices output names (PyTorch, TensorFlow, JAX, ONNX "
                  "Runtime on CPU). Splitting among ties, as max reductions do, or picking another "
                  "tie fails, and a framework that does so declares it.",
        formula="argmax(t) = min{m : x[t*s + m*d - pb] = max(window t)} in row-major order",
        sources=("https://github.com/tensorflow/tensorflow/issues/4886",
                 "https://github.com/tensorflow/tensorflow/issues/51682",
                 "https://github.com/Theano/Theano/issues/5404"),
        examples=(
            Example(lambda: ref.max_pool_vjp(np.array([[[3., 3.]]]), np.array([[[1.]]]), kernel_shape=(2,), strides=(2,), pads="VALID", dilations=(1,), ceil_mode=False).tolist(), lambda: [[[1.0, 0.0]]]),
            Example(lambda: ref.max_pool_argmax(np.array([[[1., 3., 3., 2.]]]), kernel_shape=(4,), strides=(4,), pads="VALID", dilations=(1,), ceil_mode=False).tolist(),
                    lambda: [[[1]]], "PyTorch max_pool1d([1, 3, 3, 2]) names index 1"),
        ),
    ),
    Rule(
        id="grad.avg_pool.uniform",
        title="Average-pool gradient is spread uniformly",
        section="Gradients", kind="gradient",
        statement="Each window's gradient is spread as dy / divisor over its elements; with "
                  "count_include_pad=False and non-overlapping windows covering the input the "
                  "total is preserved.",
        formula="dx[j] = sum_{t: j in window(t)} dy[t] / divisor(t)",
        sources=(DL_BOOK_BACKPROP, TORCH_AVGPOOL,),
        examples=(Example(lambda: ref.avg_pool_vjp(np.zeros((1, 1, 4)), np.array([[[4., 8.]]]), kernel_shape=(2,), strides=(2,), pads="VALID", ceil_mode=False, count_include_pad=True).tolist(),
                          lambda: [[[2.0, 2.0, 4.0, 4.0]]]),),
    ),
    Rule(
        id="grad.conv.input",
        title="Conv input gradient is a transposed conv",
        section="Gradients", kind="gradient",
        statement="The VJP of conv with respect to its input is the transposed conv of dy with the "
                  "same weight.",
        formula="dx = convT(dy, w; s, pads, d, g, a = roundtrip padding)",
        sources=(DUMOULIN + ", chapter 4", DL_BOOK),
        examples=(Example(lambda: ref.vjp('conv', (np.array([[[1., 2., 3.]]]), np.array([[[1., -1.]]])), np.array([[[1., 1.]]]), strides=(1,), pads="VALID", dilations=(1,), groups=1)[0].tolist(), lambda: [[[1.0, 0.0, -1.0]]]),),
    ),
    Rule(
        id="grad.conv.weight",
        title="Conv weight gradient correlates input and dy",
        section="Gradients", kind="gradient",
        statement="The VJP of conv with respect to its weight is the correlation of the padded "
                  "input with dy.",
        formula="dw[o, c, m] = sum_{n, t} dy[n, o, t] * x~[n, g(o)*C_in/g + c, t*s + m*d - pb]",
        sources=(DL_BOOK,),
        examples=(Example(lambda: ref.vjp('conv', (np.array([[[1., 2., 3.]]]), np.array([[[1., -1.]]])), np.array([[[1., 1.]]]), strides=(1,), pads="VALID", dilations=(1,), groups=1)[1].tolist(), lambda: [[[3.0, 5.0]]],
                          "dw[m] = x[m] + x[m + 1]"),),
    ),
    Rule(
        id="grad.relu.at_zero",
        title="ReLU derivative, and its value at 0 (convention)",
        section="Gradients", kind="convention",
        statement="ReLU'(x) is 1 for x > 0 and 0 for x < 0; the value at exactly 0 is each "
                  "framework's convention (0 or 1), reported.",
        formula="relu'(x) = [x > 0] away from 0;  relu'(0) in {0, 1}",
        sources=(TORCH_KINKS,),
        examples=(Example(lambda: ref.relu_vjp(np.array([-1., 0., 2.]), np.ones(3)).tolist(), lambda: [0.0, 0.0, 1.0],
                          "the reference takes 0 at 0"),),
    ),
    Rule(
        id="grad.kinks",
        title="Activation derivatives and their kinks (convention)",
        section="Gradients", kind="convention",
        statement="Leaky ReLU, ReLU6 and ELU derivatives follow their formulas away from the "
                  "kinks; at each kink the value is one of the one-sided derivatives (or their "
                  "mean), recorded per framework.",
        formula="leaky' = 1 or alpha; relu6' = [0 < x < 6]; elu' = 1 or alpha*e^x; at a kink: "
                "left, right or mean",
        sources=(TORCH_KINKS,),
        examples=(Example(lambda: ref.leaky_relu_vjp(np.array([-1., 0., 1.]), np.ones(3), alpha=0.01).tolist(),
                          lambda: [0.01, 0.01, 1.0]),
                  Example(lambda: ref.relu6_vjp(np.array([0., 3., 6.]), np.ones(3)).tolist(), lambda: [0.0, 1.0, 0.0])),
    ),
    Rule(
        id="grad.sigmoid.bounded",
        title="Sigmoid derivative is at most 1/4",
        section="Gradients", kind="gradient",
        statement="sigma' = sigma*(1 - sigma) <= 0.25, the maximum at 0: why deep sigmoid "
                  "networks see vanishing gradients.",
        formula="sigma'(x) = sigma(x)*(1 - sigma(x)) <= sigma'(0) = 1/4",
        sources=(GLOROT,),
        examples=(Example(lambda: ref.sigmoid_vjp(np.array([0.]), np.ones(1)).item(), lambda: 0.25),),
    ),
    Rule(
        id="grad.softmax",
        title="Softmax VJP",
        section="Gradients", kind="gradient",
        statement="The softmax VJP is s * (dy - sum(dy * s)) along the axis.",
        formula="dx = s * (dy - sum(dy * s, axis))",
        sources=(BHH,),
        examples=(Example(lambda: ref.softmax_vjp(np.array([0., 0.]), np.array([1., 0.]), axis=0).tolist(),
                          lambda: [0.25, -0.25]),),
    ),
    Rule(
        id="grad.conv_transpose.input",
        title="Transposed-conv input gradient is a conv",
        section="Gradients", kind="gradient",
        statement="The VJP of a transposed conv with respect to its input is the conv of dy with "
                  "the same weight and geometry (strides, pads, dilations, groups): the transposed "
                  "conv is the adjoint of that conv.",
        formula="dx = conv(dy, w; s, pads, d, g), w read as (C_in, C_out/g, *k)",
        sources=(DUMOULIN + ", chapter 4", TORCH_CONVT),
        examples=(Example(lambda: ref.vjp('conv_transpose', (np.array([[[1., 2.]]]), np.array([[[1., -1.]]])), np.array([[[1., 0., 2.]]]), strides=(1,), pads='VALID', dilations=(1,), groups=1, output_padding=(0,))[0].tolist(), lambda: [[[1.0, -2.0]]],
                          "dx[t] = dy[t] - dy[t + 1]"),),
    ),
    Rule(
        id="grad.conv_transpose.weight",
        title="Transposed-conv weight gradient correlates dy with the input",
        section="Gradients", kind="gradient",
        statement="The VJP of a transposed conv with respect to its weight correlates the padded "
                  "dy with the input; with respect to the bias it sums dy over batch and space.",
        formula="dw[c, o, m] = sum_{n, t} x[n, c, t] * dy~[n, g(c)*C_out/g + o, t*s + m*d];  "
                "db[o] = sum_{n, t} dy[n, o, t]",
        sources=(DUMOULIN + ", chapter 4", TORCH_CONVT),
        examples=(Example(lambda: ref.vjp('conv_transpose', (np.array([[[1., 2.]]]), np.array([[[1., -1.]]])), np.array([[[1., 0., 2.]]]), strides=(1,), pads='VALID', dilations=(1,), groups=1, output_padding=(0,))[1].tolist(), lambda: [[[1.0, 4.0]]],
                          "dw[m] = x[0]*dy[m] + x[1]*dy[m + 1]"),),
    ),
    Rule(
        id="grad.tanh",
        title="Tanh derivative is 1 - tanh^2",
        section="Gradients", kind="gradient",
        statement="The tanh VJP is dy * (1 - tanh(x)^2): at most 1 (at x = 0), 0 at +-inf, and "
                  "within a few eps of 1 - t^2 formed from the rounded t.",
        formula="dx = dy * (1 - tanh(x)^2) <= dy at x = 0",
        sources=("https://en.wikipedia.org/wiki/Hyperbolic_functions#Derivatives",
                 "https://pytorch.org/docs/stable/generated/torch.nn.Tanh.html"),
        examples=(Example(lambda: ref.tanh_vjp(np.array([0.]), np.ones(1)).item(), lambda: 1.0),
                  Example(lambda: ref.tanh_vjp(np.array([np.inf]), np.ones(1)).item(), lambda: 0.0)),
    ),
    Rule(
        id="grad.log_softmax",
        title="Log-softmax VJP",
        section="Gradients", kind="gradient",
        statement="The log-softmax VJP is dy minus softmax times the sum of dy along the axis.",
        formula="dx = dy - softmax(x) * sum(dy, axis)",
        sources=(BHH, "https://github.com/pytorch/pytorch/blob/main/aten/src/ATen/native/SoftMax.cpp "
                      "(log_softmax_backward: grad - exp(output) * sum(grad))"),
        examples=(Example(lambda: ref.log_softmax_vjp(np.array([0., 0.]), np.array([1., 0.]), axis=0).tolist(),
                          lambda: [0.5, -0.5]),),
    ),
    Rule(
        id="grad.adaptive_pool",
        title="Adaptive-pool gradients: spread over the bin, or to its maximum",
        section="Gradients", kind="gradient",
        statement="Adaptive average pooling spreads each bin's dy evenly over the bin; adaptive max "
                  "pooling sends it to the bin's maximum. Bins overlap by up to one element per "
                  "axis, and an element in two bins receives both shares.",
        formula="avg: dx[i] = sum_{j: i in bin j} dy[j] / |bin j|;  max: dx[i] = sum_{j: argmax(bin j) = i} dy[j]",
        sources=(_torch_doc("AdaptiveAvgPool2d"), _torch_doc("AdaptiveMaxPool2d"),
                 "https://github.com/pytorch/pytorch/blob/main/aten/src/ATen/native/AdaptiveAveragePooling.cpp"),
        examples=(Example(lambda: ref.adaptive_avg_pool_vjp(np.zeros((1, 1, 3)), np.array([[[2., 4.]]]), output_size=(2,)).tolist(), lambda: [[[1.0, 3.0, 2.0]]],
                          "bins [0, 2) and [1, 3): element 1 is in both"),
                  Example(lambda: ref.adaptive_max_pool_vjp(np.array([[[1., 5., 2.]]]), np.array([[[1., 10.]]]), output_size=(2,)).tolist(), lambda: [[[0.0, 11.0, 0.0]]],
                          "5 is the maximum of both bins")),
    ),
    Rule(
        id="grad.upsample.nearest",
        title="Nearest-upsampling gradient sums each block",
        section="Gradients", kind="gradient",
        statement="The VJP of nearest upsampling by integer factors sums dy over the block of r "
                  "copies each element was repeated into.",
        formula="dx[..., h] = sum_{m < r} dy[..., h*r + m] (per axis)",
        sources=("https://pytorch.org/docs/stable/generated/torch.nn.functional.interpolate.html",),
        examples=(Example(lambda: ref.upsample_nearest_vjp(np.zeros((1, 1, 2)), np.array([[[1., 2., 3., 4.]]]), scale_factors=(2,)).tolist(), lambda: [[[3.0, 7.0]]]),),
    ),
    Rule(
        id="grad.pixel_shuffle",
        title="Pixel-shuffle gradient is the inverse shuffle",
        section="Gradients", kind="gradient",
        statement="Pixel shuffle permutes elements, so its VJP is the inverse permutation of dy: "
                  "pixel unshuffle (ONNX SpaceToDepth in CRD order).",
        formula="dx[n, c*r*r + i*r + j, h, w] = dy[n, c, h*r + i, w*r + j]",
        sources=(SUBPIXEL, "https://pytorch.org/docs/stable/generated/torch.nn.PixelUnshuffle.html"),
        examples=(Example(lambda: ref.pixel_shuffle_vjp(np.zeros((1, 4, 1, 1)), np.array([[[[1., 2.], [3., 4.]]]]), upscale_factor=2).ravel().tolist(), lambda: [1.0, 2.0, 3.0, 4.0]),),
    ),
)

_STABILITY = (
    Rule(
        id="softmax.shift_invariance",
        title="Softmax is shift invariant",
        section="Numerical stability", kind="stability",
        statement="Adding a constant to every logit leaves softmax unchanged (why subtracting the "
                  "maximum M is safe).",
        formula="softmax(x + c) = softmax(x)",
        sources=(BHH,),
        examples=(Example(lambda: ref.softmax(np.array([1001., 1002.]), axis=0).tolist(),
                          lambda: [0.2689414213699951, 0.7310585786300049],
                          "1/(1+e) and e/(1+e), the softmax of [1, 2]; e^1001 itself is inf"),),
    ),
    Rule(
        id="softmax.overflow",
        title="Softmax survives huge logits",
        section="Numerical stability", kind="stability",
        statement="Logits near the dtype's maximum give finite probabilities that sum to 1; a "
                  "naive exp overflows past 88.7 in float32 and 11.1 in float16 and returns NaN.",
        formula="softmax(x) = exp(x - M) / sum(exp(x - M)),  M = max(x)",
        sources=(BHH,),
        examples=(Example(lambda: ref.softmax(np.array([800., 1., 1.]), axis=0).tolist(), lambda: [1.0, 0.0, 0.0]),),
    ),
    Rule(
        id="softmax.underflow",
        title="Softmax survives very negative logits",
        section="Numerical stability", kind="stability",
        statement="Rows whose logits are all very negative (near -1e4) still sum to 1.",
        formula="sum(softmax(x)) = 1 for x = [-10000, -10000]",
        sources=("https://github.com/FluxML/NNlib.jl/pull/43",),
        examples=(Example(lambda: ref.softmax(np.array([-10000., -10000.]), axis=0).tolist(), lambda: [0.5, 0.5]),),
    ),
    Rule(
        id="softmax.simplex",
        title="Softmax lies on the simplex",
        section="Numerical stability", kind="stability",
        statement="Softmax outputs lie in [0, 1], sum to 1 along the axis and keep the logits' order.",
        formula="0 <= s_j <= 1;  sum_j s_j = 1;  x_i < x_j => s_i <= s_j",
        sources=(BHH,),
        examples=(Example(lambda: round(float(ref.softmax(np.array([1., 2., 3.]), axis=0).sum()), 12), lambda: 1.0),),
    ),
    Rule(
        id="softmax.neg_inf",
        title="-inf logits (convention for a row of all -inf)",
        section="Numerical stability", kind="convention",
        statement="A -inf logit gets exactly 0 probability; a row of all -inf is each framework's "
                  "convention (NaN or 0), reported.",
        formula="x_j = -inf => s_j = 0;  all -inf => NaN or 0",
        sources=(BHH, _torch_doc("Softmax")),
        examples=(Example(lambda: ref.softmax(np.array([0., -np.inf]), axis=0).tolist(), lambda: [1.0, 0.0]),
                  Example(lambda: bool(np.isnan(ref.softmax(np.array([-np.inf, -np.inf]), axis=0)).all()), lambda: True,
                          "the reference gives NaN (0/0)")),
    ),
    Rule(
        id="log_softmax.stability",
        title="log_softmax is x - logsumexp(x)",
        section="Numerical stability", kind="stability",
        statement="log_softmax(x) == x - logsumexp(x), and stays finite where log(softmax(x)) "
                  "gives -inf (x = [0, -1000]); a -inf logit (a mask) gives exactly -inf, log 0, "
                  "and leaves the others as if it were absent.",
        formula="log_softmax(x) = x - M - log(sum(exp(x - M)))",
        sources=(BHH,),
        examples=(Example(lambda: ref.log_softmax(np.array([0., -1000.]), axis=0).tolist(), lambda: [0.0, -1000.0],
                          "log(softmax) would give [0, -inf]"),
                  Example(lambda: ref.log_softmax(np.array([0., 0., -np.inf]), axis=0).tolist(),
                          lambda: [-0.6931471805599453, -0.6931471805599453, -float('inf')],
                          "log(1/2) twice, and log 0")),
    ),
    Rule(
        id="sigmoid.stability",
        title="Sigmoid is finite everywhere",
        section="Numerical stability", kind="stability",
        statement="Sigmoid is finite in [0, 1] for |x| up to the dtype maximum and symmetric, "
                  "sigma(-x) = 1 - sigma(x); the stable split is 1/(1+e^-x) for x >= 0 and "
                  "e^x/(1+e^x) for x < 0. Its tail keeps relative accuracy while the dtype "
                  "holds it (in float64 e^x down to x = -708: not 0 below -40); NaN gives NaN.",
        formula="sigma(x) = 1/(1 + e^-x) if x >= 0 else e^x/(1 + e^x)",
        sources=(STABLE_SIGMOID, _torch_doc("Sigmoid"), IEEE_NAN),
        examples=(Example(lambda: ref.sigmoid(np.array([-1000., 0., 1000.])).tolist(), lambda: [0.0, 0.5, 1.0]),
                  Example(lambda: float(ref.sigmoid(np.array([-50.])).item() / np.exp(-50.)), lambda: 1.0,
                          "e^-50 / (1 + e^-50) = 1.9e-22: e^x itself to float64's precision")),
    ),
    Rule(
        id="activation.relu",
        title="ReLU",
        section="Numerical stability", kind="value",
        statement="ReLU is max(0, x); NaN gives NaN (a diverged value stays visible), as for "
                  "every activation here.",
        formula="relu(x) = max(0, x)",
        sources=(_torch_doc("ReLU"), IEEE_NAN),
        examples=(Example(lambda: ref.relu(np.array([-2., 0., 3.])).tolist(), lambda: [0.0, 0.0, 3.0]),
                  Example(lambda: np.isnan(ref.relu(np.array([np.nan, -1.]))).tolist(), lambda: [True, False],
                          "fmax(NaN, 0) would give 0")),
    ),
    Rule(
        id="activation.leaky_relu",
        title="Leaky ReLU",
        section="Numerical stability", kind="value",
        statement="Leaky ReLU has slope alpha below 0 (PyTorch and ONNX default 0.01, tf.nn 0.2, "
                  "Keras 0.3); NaN gives NaN.",
        formula="leaky_relu(x) = x if x >= 0 else alpha*x",
        sources=(_torch_doc("LeakyReLU"), IEEE_NAN),
        examples=(Example(lambda: ref.leaky_relu(np.array([-2., 3.]), alpha=0.01).tolist(), lambda: [-0.02, 3.0]),),
    ),
    Rule(
        id="activation.relu6",
        title="ReLU6",
        section="Numerical stability", kind="value",
        statement="ReLU6 clips to [0, 6]; NaN gives NaN.",
        formula="relu6(x) = min(max(0, x), 6)",
        sources=(_torch_doc("ReLU6"), IEEE_NAN),
        examples=(Example(lambda: ref.relu6(np.array([-1., 3., 7.])).tolist(), lambda: [0.0, 3.0, 6.0]),
                  Example(lambda: np.isnan(ref.relu6(np.array([np.nan]))).tolist(), lambda: [True],
                          "a clip to [0, 6] keeps NaN")),
    ),
    Rule(
        id="activation.elu",
        title="ELU",
        section="Numerical stability", kind="value",
        statement="ELU is x above 0 and alpha*(e^x - 1) below, saturating at -alpha; NaN gives "
                  "NaN.",
        formula="elu(x) = x if x > 0 else alpha*(e^x - 1)",
        sources=(ELU_PAPER, _torch_doc("ELU"), IEEE_NAN),
        examples=(Example(lambda: ref.elu(np.array([-1000., 0., 2.]), alpha=1.0).tolist(), lambda: [-1.0, 0.0, 2.0]),),
    ),
    Rule(
        id="activation.tanh",
        title="tanh",
        section="Numerical stability", kind="value",
        statement="tanh is odd, lies in (-1, 1) (reaching +-1 only by rounding), and equals "
                  "2*sigma(2x) - 1; NaN gives NaN.",
        formula="tanh(-x) = -tanh(x);  tanh(x) = 2*sigma(2x) - 1",
        sources=(_torch_doc("Tanh"), IEEE_NAN),
        examples=(Example(lambda: ref.tanh(np.array([0.5])).item(), lambda: 0.46211715726000974,
                          "(e - 1)/(e + 1) = 2*sigma(1) - 1"),
                  Example(lambda: ref.tanh(np.array([-0.5, 20.])).tolist(), lambda: [-0.46211715726000974, 1.0],
                          "odd; 1 - tanh(20) = 8.5e-18 rounds to 1")),
    ),
)

_ARITHMETIC = (
    Rule(
        id="params.conv",
        title="Conv parameter count",
        section="Arithmetic of architectures", kind="arithmetic",
        statement="A conv layer has k_h*k_w*(C_in/g)*C_out weights plus C_out biases; it equals "
                  "the parameter count of the frameworks' conv layers.",
        formula="params = prod(k) * (C_in/g) * C_out + C_out",
        sources=(CS231N,),
        examples=(Example(lambda: conv_param_count((5, 5), 3, 16), lambda: 1216, "w [16, 3, 5, 5] with bias"),),
    ),
    Rule(
        id="params.inception",
        title="Inception parameter counts",
        section="Arithmetic of architectures", kind="arithmetic",
        statement="1x1 reductions shrink an Inception branch (387072 parameters naive on "
                  "28x28x192, 163328 with 1x1 reductions; 16896 against 41472 for 3x3 from 96 to 48).",
        formula="sum of conv_param_count over the branch's convs, without bias",
        sources=(INCEPTION,),
        examples=(
            Example(lambda: sum(conv_param_count((k, k), 192, c, bias=False) for k, c in [(1, 64), (3, 128), (5, 32)]),
                    lambda: 387072, "naive module on 28x28x192"),
            Example(lambda: sum(conv_param_count((k, k), i, o, bias=False) for k, i, o in [(1, 192, 64), (1, 192, 96), (1, 192, 16), (3, 96, 128), (5, 16, 32), (1, 192, 32)]), lambda: 163328,
                    "with 1x1 reductions"),
            Example(lambda: conv_param_count((1, 1), 96, 32, bias=False) + conv_param_count((3, 3), 32, 48, bias=False),
                    lambda: 16896, "3072 + 13824"),
            Example(lambda: conv_param_count((3, 3), 96, 48, bias=False), lambda: 41472, "without the 1x1"),
        ),
    ),
    Rule(
        id="receptive_field.recursion",
        title="Receptive field recursion",
        section="Arithmetic of architectures", kind="arithmetic",
        statement="The receptive field grows by (ke_k - 1) times the product of the earlier "
                  "strides per layer, padding aside; it equals the support of one output's input "
                  "gradient.",
        formula="r_0 = 1;  r_k = r_{k-1} + (ke_k - 1) * prod(s_1 .. s_{k-1})",
        sources=(DISTILL_RF,),
        examples=(Example(lambda: receptive_field([(3, 1), (3, 1)]), lambda: 5, "two 3x3 convs see 5x5 (VGG)"),
                  Example(lambda: receptive_field([(3, 1), (3, 1), (3, 1)]), lambda: 7),
                  Example(lambda: receptive_field([(3, 2), (3, 2), (3, 1, 2)]), lambda: 23, "1 + 2*1 + 2*2 + 4*4: the dilated 5-tap layer sits above two stride-2 layers")),
    ),
    Rule(
        id="receptive_field.gridding",
        title="Gridding of stacked dilated convs",
        section="Arithmetic of architectures", kind="arithmetic",
        statement="Three 3x3 convs at rate 2 on 17x17: the last layer's pixel sees 13x13 of "
                  "layer 1 and 9x9 of layer 2, with gaps: every other row and column is never "
                  "used, and the usage counts grow towards the centre (1 + 2 + 3 = 6).",
        formula="counts_below = convolve(counts_above, dilated taps) per axis; 2-D = outer product",
        sources=(HDC_PAPER,),
        examples=(
            Example(lambda: [c.shape for c in dilated_usage_counts(3, [2, 2, 2])],
                    lambda: [(13, 13), (9, 9), (5, 5), (1, 1)], "13x13 of layer 1, 9x9 of layer 2"),
            Example(lambda: dilated_usage_counts(3, [2, 2, 2], ndim=1)[0].tolist(),
                    lambda: [1, 0, 3, 0, 6, 0, 7, 0, 6, 0, 3, 0, 1], "1 + 2 + 3 = 6 at the third used column"),
            Example(lambda: int((dilated_usage_counts(3, [2, 2, 2])[0] > 0).sum()), lambda: 49,
                    "49 of the 169 pixels in view are used"),
            Example(lambda: int((dilated_usage_counts(3, [1, 2, 3])[0] > 0).sum()), lambda: 169,
                    "rates 1, 2, 3 use every pixel"),
        ),
    ),
    Rule(
        id="dilation.hdc",
        title="Hybrid Dilated Convolution design rule",
        section="Arithmetic of architectures", kind="arithmetic",
        statement="HDC: with M_n = r_n and M_i = max(M_{i+1} - 2r_i, M_{i+1} - 2(M_{i+1} - r_i), "
                  "r_i), a design is good when M_2 <= K (sufficient for a hole-free coverage, "
                  "not necessary). K=3, r=[1, 2, 5] is good; r=[1, 2, 9] is not; rates with a "
                  "common factor > 1 (r=[2, 4, 8]) leave holes.",
        formula="M_2 <= K",
        sources=(HDC_PAPER,),
        examples=(
            Example(lambda: hdc_m2([1, 2, 5]), lambda: 2, "M_2 = 2 <= 3, good"),
            Example(lambda: hdc_m2([1, 2, 9]), lambda: 5, "M_2 = 5 > 3, not"),
            Example(lambda: int((dilated_usage_counts(3, [2, 4, 8], ndim=1)[0] == 0).sum()), lambda: 14,
                    "r = [2, 4, 8] never uses the 14 odd offsets"),
        ),
    ),
)

_TOLERANCE = (
    Rule(
        id="tolerance.policy",
        title="Tolerance policy",
        section="Tolerance policy", kind="value",
        statement="Results are compared against a float64 reference. A result with reduction "
                  "length K in a dtype with machine epsilon eps may differ by "
                  "c * eps * sqrt(K) * scale, scale the magnitude of the summed terms; elementwise "
                  "activations get a small ULP bound. The constants live in one table, printed in "
                  "every failure and in the report. A tolerance is never widened to make a "
                  "framework pass: a real difference is a deviation, declared with its evidence.",
        formula="|got - ref| <= eps*|ref| + c[kind][dtype] * eps * sqrt(K) * scale + tiny(dtype); "
                "exact ops (max, ReLU, layout) match exactly",
        sources=(BHH, "https://numpy.org/doc/stable/reference/generated/numpy.testing.assert_allclose.html"),
        examples=(Example(lambda: float(np.finfo(np.float32).eps), lambda: 1.1920928955078125e-07,
                          "eps of float32: 2**-23"),),
    ),
)


def _catalogue(*groups) -> MappingProxyType:
    rules = {}
    for group in groups:
        for rule in group:
            if rule.id in rules:
                raise ValueError(f"rule id {rule.id!r} appears twice in the catalogue")
            rules[rule.id] = rule
    return MappingProxyType(rules)


RULES = _catalogue(_GEOMETRY, _VALUES, _GRADIENTS, _STABILITY, _ARITHMETIC, _TOLERANCE)
"""Every rule of rules.md, by id, in the catalogue's order."""


def closest_ids(rule_id: str, n: int = 3) -> list[str]:
    """The ids nearest to a misspelt `rule_id`: prefix matches first, then by similarity."""
    prefixed = [r for r in RULES if r.startswith(rule_id)] if rule_id else []
    similar = difflib.get_close_matches(rule_id, list(RULES), n=n, cutoff=0.5)
    return list(dict.fromkeys(prefixed + similar))[:n]
