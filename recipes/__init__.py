"""Recipes: how to write, in one framework's own ops, a behaviour it lacks or does otherwise
(PyTorch's ceil-mode pooling in TensorFlow, TF's SAME padding in PyTorch, ...), verified by
the suite itself: `cnnspec run --adapter tensorflow+recipes` runs the catalogue with them.

`cnnspec.recipes.tensorflow`, `.keras`, `.jax` and `.torch` each import their framework (and
the standard library) only, so that a function can be pasted into a model; `adapter` builds
the `NAME+recipes` adapters from them.
"""
