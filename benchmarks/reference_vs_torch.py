"""Times the float64 reference against torch's float32 ops on fixed shapes (issue: speed).

    python benchmarks/reference_vs_torch.py [--repeat N]

Prints one row per op: the median wall time of the reference and of torch (CPU, float32, the
threads torch picks), and their ratio. The target of the spec issue is conv at x (8,16,32,32),
w (32,16,3,3), padding 1, within 3x torch. Needs torch (`pip install -e '.[torch]'` in the clone).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from cnnspec.spec import reference as ref


def median_seconds(fns, repeat, rounds=3):
    """Median wall time of each of `fns`: after a warm-up call of each, `rounds` rounds of a block
    of `repeat` calls per function. Blocks, not alternation: numpy's OpenBLAS threads and torch's
    OpenMP threads spin for a while after each call, and alternating calls make each pool fight the
    other's spinning threads (both ops ran 2-2.5x slower). The warm-up matters too: the first large
    buffers freed raise glibc's mmap threshold, after which torch's outputs stop costing fresh pages
    (torch's conv here went from 1.8 ms to 0.6 ms once the reference had run once)."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, spent in zip(fns, times):
            for _ in range(repeat):
                start = time.perf_counter()
                fn()
                spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


def cases(torch):
    F = torch.nn.functional
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 16, 32, 32))
    w = rng.normal(size=(32, 16, 3, 3))
    wt = rng.normal(size=(16, 32, 3, 3))
    xt, w32, wt32 = (torch.tensor(a, dtype=torch.float32) for a in (x, w, wt))
    conv = dict(strides=(1, 1), pads=((1, 1), (1, 1)), dilations=(1, 1), groups=1)
    yield ("conv 3x3 p1", lambda: ref.conv(x, w, **conv), lambda: F.conv2d(xt, w32, padding=1))
    yield ("conv_transpose 3x3 s2 p1", lambda: ref.conv_transpose(
        x, wt, strides=(2, 2), pads=((1, 1), (1, 1)), dilations=(1, 1), groups=1,
        output_padding=(1, 1)), lambda: F.conv_transpose2d(xt, wt32, stride=2, padding=1,
                                                           output_padding=1))
    pool = dict(kernel_shape=(3, 3), strides=(2, 2), pads=((1, 1), (1, 1)), ceil_mode=True)
    yield ("max_pool 3x3 s2 p1 ceil", lambda: ref.max_pool(x, dilations=(1, 1), **pool),
           lambda: F.max_pool2d(xt, 3, 2, 1, ceil_mode=True))
    yield ("avg_pool 3x3 s2 p1 ceil", lambda: ref.avg_pool(x, count_include_pad=True, **pool),
           lambda: F.avg_pool2d(xt, 3, 2, 1, ceil_mode=True))
    dy = rng.normal(size=(8, 32, 32, 32))
    xg, wg = xt.clone().requires_grad_(), w32.clone().requires_grad_()

    def torch_conv_vjp():
        xg.grad = wg.grad = None
        F.conv2d(xg, wg, padding=1).backward(torch.tensor(dy, dtype=torch.float32))

    yield ("conv vjp (dx, dw)", lambda: ref.vjp("conv", (x, w), dy, **conv), torch_conv_vjp)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}")
    print(f"{'op':<26} {'reference f64':>14} {'torch f32':>10} {'ratio':>6}")
    for name, reference_fn, torch_fn in cases(torch):
        ours, theirs = median_seconds((reference_fn, torch_fn), args.repeat)
        print(f"{name:<26} {ours * 1e3:>11.2f} ms {theirs * 1e3:>7.2f} ms {ours / theirs:>5.1f}x")


if __name__ == "__main__":
    main()
