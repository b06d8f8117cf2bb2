"""float64 NumPy reference ops, with the names and keywords of the adapter protocol.

Every op computes in float64 whatever the input dtype (float16, bfloat16 via ml_dtypes, float32,
float64, ints) and returns float64 arrays (`max_pool_argmax`: int64 indices). Layout is
channels-first `(N, C, *spatial)` with 1 to 3 spatial axes; conv weights `(C_out, C_in/g, *k)`,
transposed-conv weights `(C_in, C_out/g, *k)`. Bad arguments raise ValueError naming the value.
"""

from .activations import (
    elu,
    elu_vjp,
    leaky_relu,
    leaky_relu_vjp,
    log_softmax,
    log_softmax_vjp,
    relu,
    relu6,
    relu6_vjp,
    relu_vjp,
    sigmoid,
    sigmoid_vjp,
    softmax,
    softmax_vjp,
    tanh,
    tanh_vjp,
)
from .convolution import conv, conv_matrix, conv_transpose, conv_transpose_vjp, conv_vjp
from .gradients import vjp
from .pooling import (
    adaptive_avg_pool,
    adaptive_avg_pool_vjp,
    adaptive_max_pool,
    adaptive_max_pool_vjp,
    avg_pool,
    avg_pool_vjp,
    global_avg_pool,
    max_pool,
    max_pool_argmax,
    max_pool_vjp,
    max_unpool,
)
from .resampling import (pixel_shuffle, pixel_shuffle_vjp, pixel_unshuffle, upsample_nearest,
                         upsample_nearest_vjp)
from .windows import as_float64, flip, pad, window_scatter, window_view, zero_insert

__all__ = [
    "adaptive_avg_pool", "adaptive_avg_pool_vjp", "adaptive_max_pool", "adaptive_max_pool_vjp",
    "as_float64", "avg_pool", "avg_pool_vjp", "conv", "conv_matrix", "conv_transpose",
    "conv_transpose_vjp", "conv_vjp", "elu", "elu_vjp", "flip", "global_avg_pool", "leaky_relu",
    "leaky_relu_vjp", "log_softmax", "log_softmax_vjp", "max_pool", "max_pool_argmax",
    "max_pool_vjp", "max_unpool", "pad", "pixel_shuffle", "pixel_shuffle_vjp", "pixel_unshuffle",
    "relu", "relu6", "relu6_vjp", "relu_vjp", "sigmoid", "sigmoid_vjp", "softmax", "softmax_vjp",
    "tanh", "tanh_vjp", "upsample_nearest", "upsample_nearest_vjp", "vjp", "window_scatter",
    "window_view", "zero_insert",
]
