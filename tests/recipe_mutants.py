"""Recipe mutants: a `NAME+recipes` adapter whose recipe module has one recipe with a planted
bug, and the rule that must catch it (`RECIPE_MUTANTS`). Loaded as
`cnnspec run --adapter tests/recipe_mutants.py:ClassName`, each built with no arguments.
"""

from __future__ import annotations

import types

from cnnspec.adapters import get
from cnnspec.recipes import adapter as recipes_adapter


def _mutated(target: str, **replaced):
    """The module cnnspec.recipes.<target> with the functions `replaced` swapped in."""
    import importlib

    original = importlib.import_module(f"cnnspec.recipes.{target}")
    module = types.ModuleType(original.__name__)
    module.__dict__.update({k: v for k, v in vars(original).items() if not k.startswith("__")})
    module.__dict__.update(replaced)
    return module


def _adapter(target: str, **replaced):
    base = get(target)
    bridge = recipes_adapter.BRIDGES[target](base)
    built = recipes_adapter.RecipesAdapter(base, recipes_adapter.ROUTES[target], bridge,
                                           _mutated(target, **replaced))
    built.name = f"{built.name} (mutant)"
    return built


def _tf_pixel_shuffle_dcr(x, upscale_factor):
    """PixelShuffle as depth_to_space as it stands: DCR where the rule is CRD."""
    import tensorflow as tf

    return tf.nn.depth_to_space(x, upscale_factor) if upscale_factor > 1 else x


def _tf_avg_pool_counting_overhang(x, kernel_shape, strides, pads, ceil_mode=False,
                                   count_include_pad=True):
    """Average pooling whose divisor counts the ceil-mode overhang as padding too."""
    import tensorflow as tf

    from cnnspec.recipes import tensorflow as recipes

    sizes = [int(n) for n in x.shape[1:-1]]
    pairs = recipes.explicit_pads(pads, sizes, kernel_shape, strides, [1] * len(sizes))
    fitted = [[b, e + (recipes.ceil_extra(i, k, s, (b, e)) if ceil_mode else 0)]
              for i, k, s, (b, e) in zip(sizes, kernel_shape, strides, pairs)]
    layout = {3: "NWC", 4: "NHWC", 5: "NDHWC"}[len(x.shape)]
    total = tf.nn.avg_pool(tf.pad(x, [[0, 0], *fitted, [0, 0]]), list(kernel_shape),
                           list(strides), "VALID", data_format=layout)
    counted = tf.ones([1, *sizes, 1], dtype=x.dtype)
    counted = tf.pad(counted, [[0, 0], *fitted, [0, 0]], constant_values=int(count_include_pad))
    share = tf.nn.avg_pool(counted, list(kernel_shape), list(strides), "VALID",
                           data_format=layout)
    return total / share


def _torch_max_pool_zero_padded(x, kernel_shape, strides, pads, dilations=None,
                                ceil_mode=False):
    """Max pooling that pads with zeros instead of -inf."""
    import torch.nn.functional as F

    from cnnspec.recipes import torch as recipes

    dilations = list(dilations or [1] * (x.dim() - 2))
    _, fitted, _ = recipes._fitted(x, kernel_shape, strides, pads, dilations, ceil_mode)
    padded = F.pad(x, [p for pair in reversed(fitted) for p in pair], value=0.0)
    pool = getattr(F, f"max_pool{x.dim() - 2}d")
    return pool(padded, tuple(kernel_shape), tuple(strides), 0, tuple(dilations))


def _jax_conv_transpose_unflipped(x, w, b=None, strides=None, pads="VALID", dilations=None,
                                  groups=1, output_padding=None):
    """The transposed conv with the kernel flipped twice, i.e. not at all."""
    import jax.numpy as jnp

    from cnnspec.recipes import jax as recipes

    flipped = jnp.flip(w, axis=tuple(range(2, w.ndim)))
    return recipes.conv_transpose(x, flipped, b, strides, pads, dilations, groups,
                                  output_padding)


class TensorflowPixelShuffleDCR:
    def __new__(cls, device="cpu"):
        return _adapter("tensorflow", pixel_shuffle=_tf_pixel_shuffle_dcr)


class TensorflowAvgPoolCountsOverhang:
    def __new__(cls, device="cpu"):
        return _adapter("tensorflow", avg_pool=_tf_avg_pool_counting_overhang)


class TorchMaxPoolZeroPadded:
    def __new__(cls, device="cpu"):
        return _adapter("torch", max_pool=_torch_max_pool_zero_padded)


class JaxConvTransposeUnflipped:
    def __new__(cls, device="cpu"):
        return _adapter("jax", conv_transpose=_jax_conv_transpose_unflipped)


# mutant -> (the recipe it plants a bug in, the rule that names the bug)
RECIPE_MUTANTS = {
    "TensorflowPixelShuffleDCR": ("cnnspec.recipes.tensorflow.pixel_shuffle",
                                  "upsample.pixel_shuffle"),
    "TensorflowAvgPoolCountsOverhang": ("cnnspec.recipes.tensorflow.avg_pool",
                                        "pool.avg_count_include_pad"),
    "TorchMaxPoolZeroPadded": ("cnnspec.recipes.torch.max_pool", "pool.max_padding_never_wins"),
    "JaxConvTransposeUnflipped": ("cnnspec.recipes.jax.conv_transpose",
                                  "conv_transpose.zero_insert_flip"),
}
