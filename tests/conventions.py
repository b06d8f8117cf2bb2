"""A library that follows the other allowed behaviour where a rule allows several: the NumPy
control, but max pooling ignores NaN (as TensorFlow's CPU kernels do) instead of propagating it."""

from __future__ import annotations

import numpy as np

from cnnspec.adapters.numpy_adapter import NumpyAdapter


class IgnoresNanInMaxPool(NumpyAdapter):
    name = "ignores-nan"

    def max_pool(self, x, **params):
        x = np.asarray(x)
        nan = np.isnan(x.astype(np.float64))
        out = super().max_pool(np.where(nan, np.array(-np.inf, x.dtype), x), **params)
        # a window of only NaN (and padding) stays NaN
        all_nan = super().max_pool(np.where(nan, np.array(1, x.dtype), np.array(0, x.dtype)),
                                   **params) == 1
        everything = super().max_pool(np.ones_like(x), **params) == 1
        return np.where(all_nan & everything & np.isneginf(out.astype(np.float64)),
                        np.array(np.nan, x.dtype), out)
