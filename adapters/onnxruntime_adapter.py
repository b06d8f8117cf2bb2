"""The ONNX Runtime adapter, `onnxruntime`: every op is a one-node ONNX model (opset 21) run by
the CPU execution provider, as a model exported from a framework runs. Forward only: ONNX
Runtime's inference sessions have no autodiff.

ONNX is channels-first with PyTorch's weight layouts, so arrays go in as they are. Mappings:
- conv / conv_transpose are `Conv` / `ConvTranspose`; explicit pads are ONNX's
  `[x1_begin, x2_begin, ..., x1_end, x2_end, ...]`; "VALID", "SAME_UPPER" and "SAME_LOWER" are
  `auto_pad` (https://onnx.ai/onnx/operators/onnx__Conv.html).
- max_pool is `MaxPool`, and its second output `Indices` gives max_pool_argmax: ONNX flattens
  the index over the whole tensor (n, c included), so the adapter subtracts (n*C + c) * H*W to
  give the protocol's index within the (n, c) plane; avg_pool is `AveragePool`; max_unpool is
  `MaxUnpool` with the indices made whole-tensor again
  (https://onnx.ai/onnx/operators/onnx__MaxPool.html).
- global_avg_pool is `GlobalAveragePool`; upsample_nearest is `Resize(mode="nearest")` with its
  default coordinate mode; pixel_shuffle is `DepthToSpace(mode="CRD")`, the mode ONNX defines
  as PyTorch's PixelShuffle.
- softmax, log_softmax, sigmoid, tanh, relu, leaky_relu and elu are the ops of those names
  (opset 13+ Softmax normalises along one axis); relu6 is `Clip(x, 0, 6)`, as torch.onnx exports
  ReLU6. LeakyRelu's and Elu's alpha are float attributes (float32 in the protobuf).
- ONNX has no adaptive pooling.

Sessions are cached per (op, keywords, dtype, rank); the input shapes are symbolic. A dtype for
which the CPU execution provider has no kernel of the op is `unsupported` with ONNX Runtime's
own words (float64 Conv, bfloat16 everywhere).
"""

from __future__ import annotations

import functools

import numpy as np

from cnnspec.spec.ops import OPS as TABLE

from .base import FrameworkAdapter, params_key
from .capabilities import DTYPES, Capabilities
from .protocol import PROTOCOL_VERSION

OPSET = 21
NODES = {"conv": "Conv", "conv_transpose": "ConvTranspose", "max_pool": "MaxPool",
         "max_pool_argmax": "MaxPool", "avg_pool": "AveragePool",
         "global_avg_pool": "GlobalAveragePool", "max_unpool": "MaxUnpool",
         "upsample_nearest": "Resize", "pixel_shuffle": "DepthToSpace", "softmax": "Softmax",
         "log_softmax": "LogSoftmax", "sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu",
         "leaky_relu": "LeakyRelu", "relu6": "Clip", "elu": "Elu"}


def _onnx():
    import onnx
    import onnxruntime

    return onnx, onnxruntime


def _pads(pads, attributes: dict) -> None:
    """ONNX's padding attributes for the protocol's `pads`."""
    if isinstance(pads, str):
        attributes["auto_pad"] = pads
    else:
        attributes["pads"] = [b for b, _ in pads] + [e for _, e in pads]


# ONNX's attribute for each protocol keyword it takes as one (scale_factors and max_unpool's
# output_size are inputs of the node instead): name, conversion.
ATTRIBUTES = {"kernel_shape": ("kernel_shape", list), "strides": ("strides", list),
              "dilations": ("dilations", list), "groups": ("group", int),
              "output_padding": ("output_padding", list), "ceil_mode": ("ceil_mode", int),
              "count_include_pad": ("count_include_pad", int), "axis": ("axis", int),
              "alpha": ("alpha", float), "upscale_factor": ("blocksize", int)}
MODES = {"pixel_shuffle": "CRD", "upsample_nearest": "nearest"}  # the node's `mode` attribute


def _attributes(op: str, params: dict) -> dict:
    """The ONNX node's attributes for a protocol call's keywords."""
    out = {}
    for keyword in TABLE[op].keywords:
        if keyword == "pads":
            _pads(params["pads"], out)
        elif keyword in ATTRIBUTES:
            name, convert = ATTRIBUTES[keyword]
            out[name] = convert(params[keyword])
    if op in MODES:
        out["mode"] = MODES[op]
    return out


class OnnxRuntimeAdapter(FrameworkAdapter):
    name = "onnxruntime"
    framework = "onnxruntime"
    protocol_version = PROTOCOL_VERSION  # written for the current protocol

    def __init__(self, device: str = "cpu"):
        onnx, runtime = _onnx()
        self.onnx, self.runtime = onnx, runtime
        self.version = runtime.__version__
        self.options = runtime.SessionOptions()
        self.options.intra_op_num_threads = 1  # one-node models on small arrays
        self.options.log_severity_level = 4  # the adapter reports a missing kernel itself
        super().__init__(device)

    def declared_capabilities(self) -> Capabilities:
        return Capabilities(
            ops=frozenset(NODES), gradients=frozenset(), dtypes=self._dtypes(),
            reasons={"gradients": "ONNX Runtime's inference sessions have no autodiff",
                     "adaptive_avg_pool": "ONNX has no adaptive pooling",
                     "adaptive_max_pool": "ONNX has no adaptive pooling",
                     "dtypes": f"onnxruntime {self.version}'s CPU execution provider has no "
                               f"kernel of these ops for it"})


    # sessions -----------------------------------------------------------------------------

    def _session(self, op: str, params: dict, dtypes: tuple, ranks: tuple):
        return self._cached_session(op, params_key(params), dtypes, ranks)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one adapter per process, bounded cache
    def _cached_session(self, op, params, dtypes, ranks):
        onnx = self.onnx
        helper, TensorProto = onnx.helper, onnx.TensorProto
        element = helper.np_dtype_to_tensor_dtype(np.dtype(dtypes[0])) \
            if dtypes[0] != "bfloat16" else TensorProto.BFLOAT16
        names = [f"in{i}" for i in range(len(dtypes))]
        rank = ranks[0]
        inputs = [helper.make_tensor_value_info(
            name, TensorProto.INT64 if dtype == "int64" else element, [None] * r)
            for name, dtype, r in zip(names, dtypes, ranks) if dtype is not None]
        inputs_used = [name if dtype is not None else "" for name, dtype in zip(names, dtypes)]
        initializers = []
        if op == "relu6":
            initializers = [helper.make_tensor(n, element, [], [v]) for n, v in
                            (("low", 0.0), ("high", 6.0))]
            inputs_used += ["low", "high"]
        if op == "upsample_nearest":
            scales = [1.0, 1.0] + [float(f) for f in dict(params)["scale_factors"]]
            initializers = [helper.make_tensor("scales", TensorProto.FLOAT, [rank], scales)]
            inputs_used += ["", "scales"]
        if op == "max_unpool" and dict(params).get("output_size") is not None:
            inputs_used += ["output_shape"]
            inputs.append(helper.make_tensor_value_info("output_shape", TensorProto.INT64, [rank]))
        outputs = [helper.make_tensor_value_info("out", element, None)]
        produced = ["out"]
        if op == "max_pool_argmax":
            outputs.append(helper.make_tensor_value_info("index", TensorProto.INT64, None))
            produced.append("index")
        while inputs_used and inputs_used[-1] == "":
            inputs_used.pop()
        node = helper.make_node(NODES[op], inputs_used, produced,
                                **_attributes(op, dict(params)))
        graph = helper.make_graph([node], op, inputs, outputs, initializer=initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = 10
        return self.runtime.InferenceSession(model.SerializeToString(), self.options,
                                             providers=["CPUExecutionProvider"])

    @functools.lru_cache(maxsize=256)  # noqa: B019
    def _kernel_missing(self, op: str, dtype: str) -> str | None:
        """ONNX Runtime's words when its CPU provider has no `op` kernel for `dtype`, or None."""
        call = TABLE[op].minimal_call(dtype=dtype)  # an optional array (the bias) left out
        arrays = tuple(None if a.optional else d for a, d in zip(TABLE[op].arrays, call.dtypes))
        ranks = tuple(len(shape) for shape in call.shapes)
        try:
            self._session(op, dict(call.keywords), arrays, ranks)
        except Exception as error:  # ORT raises its own NotImplemented / InvalidGraph
            if "NOT_IMPLEMENTED" in str(error):
                return (f"onnxruntime {self.version}'s CPU execution provider has no {dtype} "
                        f"{NODES[op]} kernel")
            if "INVALID_GRAPH" in str(error) and "Type Error" in str(error):
                return f"ONNX's {NODES[op]} does not admit {dtype} (its type constraints)"
            raise
        return None

    def _dtypes(self) -> frozenset:
        """The dtypes at least one op has a kernel for."""
        return frozenset(d for d in DTYPES if any(self._kernel_missing(op, d) is None
                                                  for op in NODES))

    def supports(self, op: str, **call) -> bool | str:
        missing = self._kernel_missing(op, call["dtype"]) if "dtype" in call else None
        if missing:
            return missing
        if call.get("pads") in ("SAME_UPPER", "SAME_LOWER") and NODES[op] in ("Conv", "ConvTranspose") \
                and any(d > 1 for d in call.get("dilations", ())):
            return (f"onnxruntime's CPU {NODES[op]} refuses auto_pad SAME_* with dilation: "
                    f"'Dilation not supported for AutoPadType::SAME_UPPER or SAME_LOWER'")
        return True

    # calls --------------------------------------------------------------------------------

    def call(self, op: str, arrays, params: dict):
        arrays = [None if a is None else np.asarray(a) for a in arrays]
        x = arrays[0]
        if op == "max_unpool":
            arrays[1] = self._whole_tensor_index(arrays[1], (
                params["output_size"] if params.get("output_size") is not None
                else self._unpooled_size(x.shape[2:], params)))
        dtypes = tuple(None if a is None else a.dtype.name for a in arrays)
        feeds = {f"in{i}": a for i, a in enumerate(arrays) if a is not None}
        if op == "max_unpool" and params.get("output_size") is not None:
            feeds["output_shape"] = np.array(x.shape[:2] + tuple(params["output_size"]),
                                             np.int64)
        ranks = tuple(None if a is None else a.ndim for a in arrays)
        session = self._session(op, params, dtypes, ranks)
        outputs = session.run(None, feeds)
        if op == "max_pool_argmax":
            return outputs[1] - _plane_offsets(x.shape[:2], x.shape[2:], outputs[1].ndim)
        return outputs[0]

    @staticmethod
    def _unpooled_size(size, params) -> tuple:
        """MaxUnpool's default output size, ONNX's formula: (i - 1)*s - pb - pe + k."""
        return tuple((i - 1) * s - b - e + k for i, s, (b, e), k in zip(
            size, params["strides"], params["pads"], params["kernel_shape"]))

    @staticmethod
    def _whole_tensor_index(index: np.ndarray, spatial) -> np.ndarray:
        """The protocol's per-plane index made ONNX's whole-tensor one, for `spatial` planes."""
        return index.astype(np.int64) + _plane_offsets(index.shape[:2], spatial, index.ndim)


def _plane_offsets(batch_channels, spatial, ndim: int) -> np.ndarray:
    """(n*C + c) * prod(spatial), shaped to broadcast over an (N, C, ...) array of `ndim` axes:
    the start of each (n, c) plane in ONNX's whole-tensor flat index."""
    n, c = batch_channels
    return np.arange(n * c, dtype=np.int64).reshape(n, c, *(1,) * (ndim - 2)) * int(
        np.prod(spatial))
