"""The region the strategies draw in: the part of the protocol's domain that the adapter under
test declares (its `Capabilities`), set by the runner for the duration of one check.

    with region.inside(capabilities):
        test(adapter)           # dtypes(), spatial_ranks(...), pad pairs ... draw inside it

A strategy asked for something wholly outside the region (a check of float16 only, on a
float32-only adapter) raises `OutsideRegion` with the declared reason: the check is then
`unsupported` after no draw at all. OutsideRegion is a BaseException so that Hypothesis neither
reports it as a falsifying example nor shrinks through it.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar

from cnnspec.adapters.capabilities import EVERYTHING, Capabilities

_ACTIVE: ContextVar[Capabilities] = ContextVar("cnnspec_region", default=EVERYTHING)


class OutsideRegion(BaseException):
    """A check asks for what the adapter declares unsupported; the message is the reason."""


@contextlib.contextmanager
def inside(capabilities: Capabilities):
    token = _ACTIVE.set(capabilities)
    try:
        yield capabilities
    finally:
        _ACTIVE.reset(token)


def active() -> Capabilities:
    return _ACTIVE.get()


def dtypes_within(names) -> tuple:
    """The dtype names among `names` the adapter declares; OutsideRegion when none is."""
    region = active()
    kept = tuple(n for n in names if n in region.dtypes)
    if not kept:
        missing = ", ".join(names)
        raise OutsideRegion(region.reason("dtypes", f"the adapter declares none of {missing}"))
    return kept


def ranks_within(low: int, high: int) -> tuple:
    """The numbers of spatial axes in [low, high] the adapter declares; OutsideRegion if none."""
    region = active()
    kept = tuple(r for r in range(low, high + 1) if r in region.spatial_ranks)
    if not kept:
        raise OutsideRegion(region.reason(
            "spatial_ranks", f"the adapter declares no {low}-{high} spatial axes"
            if low != high else f"the adapter declares no {low} spatial axes"))
    return kept


def allows(option: str, op: str) -> bool:
    return active().allows(option, op)


def require(option: str, op: str) -> None:
    """OutsideRegion unless calls of `op` may use `option` (a check about that option)."""
    region = active()
    if not region.allows(option, op):
        raise OutsideRegion(region.option_reason(option, op))


def modes_within(op: str, modes) -> tuple:
    """The padding modes among `modes` the adapter declares for `op` (possibly none)."""
    return tuple(m for m in modes if m in active().padding_modes[op])
