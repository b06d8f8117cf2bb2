"""The worked example of docs/porting.md: a small PyTorch model rebuilt in TensorFlow, Keras and
JAX with the recipes and the same weights.

    Conv2d(3, 8, 3, padding=1) -> MaxPool2d(3, 2, padding=1, ceil_mode=True)
    -> AvgPool2d(3, 2, padding=1)  (count_include_pad=True) -> ConvTranspose2d(8, 8, 3, stride=2,
    padding=1, output_padding=1) -> PixelShuffle(2) -> AdaptiveAvgPool2d(5)

Every layer after the first is one that the target does otherwise or lacks: ceil mode, counted
padding, output padding, the CRD order of PixelShuffle, adaptive pooling. `python -m
cnnspec.recipes.example` prints each port's largest error against the float64 model and the
bound of the suite's tolerance policy (conformance/tolerance.py) it must meet.
"""

from __future__ import annotations

import numpy as np

INPUT_SHAPE = (2, 3, 12, 12)  # 12 -> 12 -> 7 (ceil mode; floor: 6) -> 4 -> 8 -> 16 -> 5
# Terms summed per output along the chain: conv 3*3*3, average 3*3, transposed conv 8*3*3,
# adaptive average at most 4*4 (max pooling and the shuffle select).
REDUCTION_LENGTH = 27 + 9 + 72 + 16


def torch_model(dtype=None):
    """The PyTorch model, its weights drawn with seed 0 (float32, or `dtype`)."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.MaxPool2d(3, 2, padding=1, ceil_mode=True),
        torch.nn.AvgPool2d(3, 2, padding=1),
        torch.nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1),
        torch.nn.PixelShuffle(2),
        torch.nn.AdaptiveAvgPool2d(5))
    return model.to(dtype) if dtype is not None else model


def weights(model) -> dict:
    """The model's parameters as NumPy arrays, in torch's layouts."""
    return {name: p.detach().cpu().numpy() for name, p in model.named_parameters()}


def tensorflow_port(x_nchw: np.ndarray, w: dict) -> np.ndarray:
    """The model in TensorFlow (NHWC) with cnnspec.recipes.tensorflow; NCHW in and out."""
    import tensorflow as tf

    from cnnspec.recipes import tensorflow as recipes

    x = tf.constant(x_nchw.transpose(0, 2, 3, 1))
    conv_kernel = tf.constant(w["0.weight"].transpose(2, 3, 1, 0))  # OIHW -> HWIO
    y = tf.nn.conv2d(x, conv_kernel, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]) + w["0.bias"]
    y = recipes.max_pool(y, (3, 3), (2, 2), [(1, 1), (1, 1)], ceil_mode=True)
    y = recipes.avg_pool(y, (3, 3), (2, 2), [(1, 1), (1, 1)], count_include_pad=True)
    up_kernel = tf.constant(w["3.weight"].transpose(2, 3, 1, 0))  # IOHW -> (*k, O, I)
    y = recipes.conv_transpose(y, up_kernel, w["3.bias"], strides=(2, 2),
                               pads=[(1, 1), (1, 1)], output_padding=(1, 1))
    y = recipes.pixel_shuffle(y, 2)
    y = recipes.adaptive_avg_pool(y, (5, 5))
    return y.numpy().transpose(0, 3, 1, 2)


def keras_port(x_nchw: np.ndarray, w: dict) -> np.ndarray:
    """The model in Keras 3 (keras.ops, channels last) with cnnspec.recipes.keras."""
    from keras import ops

    from cnnspec.recipes import keras as recipes

    x = ops.convert_to_tensor(x_nchw.transpose(0, 2, 3, 1))
    y = recipes.conv(x, ops.convert_to_tensor(w["0.weight"].transpose(2, 3, 1, 0)), w["0.bias"],
                     pads=[(1, 1), (1, 1)])
    y = recipes.max_pool(y, (3, 3), (2, 2), [(1, 1), (1, 1)], ceil_mode=True)
    y = recipes.avg_pool(y, (3, 3), (2, 2), [(1, 1), (1, 1)], count_include_pad=True)
    y = recipes.conv_transpose(y, ops.convert_to_tensor(w["3.weight"].transpose(2, 3, 1, 0)),
                               w["3.bias"], strides=(2, 2), pads=[(1, 1), (1, 1)],
                               output_padding=(1, 1))
    y = recipes.pixel_shuffle(y, 2)
    y = ops.adaptive_average_pool(y, (5, 5))  # Keras has it: torch's bins
    return np.asarray(ops.convert_to_numpy(y)).transpose(0, 3, 1, 2)


def jax_port(x_nchw: np.ndarray, w: dict) -> np.ndarray:
    """The model in JAX (lax, NCHW as torch) with cnnspec.recipes.jax."""
    from jax import lax

    from cnnspec.recipes import jax as recipes

    y = lax.conv_general_dilated(x_nchw, w["0.weight"], (1, 1), [(1, 1), (1, 1)],
                                 dimension_numbers=("NCHW", "OIHW", "NCHW"),
                                 precision=lax.Precision.HIGHEST)
    y = y + w["0.bias"].reshape(1, -1, 1, 1)
    y = recipes.max_pool(y, (3, 3), (2, 2), [(1, 1), (1, 1)], ceil_mode=True)
    y = recipes.avg_pool(y, (3, 3), (2, 2), [(1, 1), (1, 1)], count_include_pad=True)
    y = recipes.conv_transpose(y, w["3.weight"], w["3.bias"], strides=(2, 2),
                               pads=[(1, 1), (1, 1)], output_padding=(1, 1))
    y = recipes.pixel_shuffle(y, 2)
    y = recipes.adaptive_avg_pool(y, (5, 5))
    return np.asarray(y)


PORTS = {"tensorflow": tensorflow_port, "keras": keras_port, "jax": jax_port}


def compare() -> dict:
    """{port: (largest |port - float64 model|, largest allowed, torch float32's own error)}:
    each port and torch itself against the float64 model, bounded per element by the suite's
    policy for a float32 reduction of REDUCTION_LENGTH terms, its scale the float64 model run
    on |x| with |weights| (the magnitude of the summed terms)."""
    import torch

    from cnnspec.conformance.tolerance import policy

    model = torch_model()
    x = np.random.default_rng(0).standard_normal(INPUT_SHAPE).astype(np.float32)
    w = weights(model)
    with torch.no_grad():
        expected = torch_model(torch.float64)(torch.from_numpy(x.astype(np.float64))).numpy()
        magnitude = torch_model(torch.float64)
        for p in magnitude.parameters():
            p.abs_()
        scale = magnitude(torch.from_numpy(np.abs(x).astype(np.float64))).numpy()
        native = model(torch.from_numpy(x)).numpy()
    bound = policy("reduction", np.float32, REDUCTION_LENGTH).bound(expected, scale)
    torch_error = float(np.max(np.abs(native - expected) / bound))
    out = {}
    for name, port in PORTS.items():
        got = port(x, w)
        assert got.shape == expected.shape, f"{name}: shape {got.shape}, torch {expected.shape}"
        error = np.abs(got.astype(np.float64) - expected)
        out[name] = (float(error.max()), float(bound[np.unravel_index(np.argmax(error / bound),
                                                                      bound.shape)]),
                     float(np.max(error / bound)), torch_error)
    return out


def main() -> int:
    results = compare()
    ok = True
    for name, (error, allowed, ratio, torch_ratio) in results.items():
        ok &= ratio <= 1
        print(f"torch -> {name}: largest error {error:.3g} (bound there {allowed:.3g}; "
              f"error / bound {ratio:.3f}, torch float32's own {torch_ratio:.3f})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
