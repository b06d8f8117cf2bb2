"""float64 reference nearest upsampling and pixel shuffle [upsample.nearest, upsample.pixel_shuffle]."""

from __future__ import annotations

from ..arguments import check_int, per_axis
from .windows import as_batch, as_cotangent


def upsample_nearest(x, *, scale_factors):
    """Repeats each element `r` times along each spatial axis: `y[..., h] = x[..., h // r]`.

    F.interpolate, nearest x2; PyTorch 'nearest' with integer factors.
    """
    x = as_batch("x", x)
    factors = per_axis("scale_factors", scale_factors, x.ndim - 2, at_least=1,
                       what="scale factor")
    for axis, r in enumerate(factors, start=2):
        x = x.repeat(r, axis=axis)
    return x


def upsample_nearest_vjp(x, cotangent, *, scale_factors):
    """`dx` of `upsample_nearest` [grad.upsample.nearest]: the sum of the cotangent over the
    r_1 x r_2 ... block each element was copied to, `dx[..., h] = sum_m dy[..., h*r + m]`."""
    x = as_batch("x", x)
    factors = per_axis("scale_factors", scale_factors, x.ndim - 2, at_least=1,
                       what="scale factor")
    dy = as_cotangent(cotangent, x.shape[:2] + tuple(i * r for i, r in zip(x.shape[2:], factors)))
    blocks = dy.reshape(x.shape[:2] + sum(((i, r) for i, r in zip(x.shape[2:], factors)), ()))
    return blocks.sum(axis=tuple(range(3, blocks.ndim, 2)))


def pixel_shuffle(x, *, upscale_factor):
    """`(N, C*r*r, H, W)` to `(N, C, H*r, W*r)`: `y[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j, h, w]`.

    PyTorch PixelShuffle, which is ONNX DepthToSpace in CRD mode (formulas.md section 9).
    """
    x = as_batch("x", x, min_spatial=2, max_spatial=2)
    r = check_int("upscale_factor", upscale_factor, at_least=1, what="upscale factor")
    n, c, h, w = x.shape
    if c % (r * r):
        raise ValueError(f"x.shape[1]={c}: must be divisible by upscale_factor**2 = {r * r}")
    y = x.reshape(n, c // (r * r), r, r, h, w).transpose(0, 1, 4, 2, 5, 3)
    return y.reshape(n, c // (r * r), h * r, w * r)


def pixel_shuffle_vjp(x, cotangent, *, upscale_factor):
    """`dx` of `pixel_shuffle` [grad.pixel_shuffle]: a permutation's transpose is its inverse,
    so `dx = pixel_unshuffle(dy, r)`."""
    x = as_batch("x", x, min_spatial=2, max_spatial=2)
    r = check_int("upscale_factor", upscale_factor, at_least=1, what="upscale factor")
    n, c, h, w = x.shape
    dy = as_cotangent(cotangent, (n, c // (r * r), h * r, w * r))
    return pixel_unshuffle(dy, downscale_factor=r)


def pixel_unshuffle(x, *, downscale_factor):
    """The inverse of `pixel_shuffle`: `(N, C, H*r, W*r)` to `(N, C*r*r, H, W)`."""
    x = as_batch("x", x, min_spatial=2, max_spatial=2)
    r = check_int("downscale_factor", downscale_factor, at_least=1, what="downscale factor")
    n, c, h, w = x.shape
    if h % r or w % r:
        raise ValueError(f"x.shape={x.shape}: H and W must be divisible by {r}")
    y = x.reshape(n, c, h // r, r, w // r, r).transpose(0, 1, 3, 5, 2, 4)
    return y.reshape(n, c * r * r, h // r, w // r)
