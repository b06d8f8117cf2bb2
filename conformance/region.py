"""The region the strategies draw in: the part of the protocol's domain that the adapter under
test declares (its `Capabilities`), set by the runner for the duration of one check.

    with region.inside(capabilities):
        test(adapter)           # dtypes(), spatial_ranks(...), pad pairs ... draw inside it

A strategy asked for something wholly outside the region (a check of float16 only, on a
float32-only adapter) raises `OutsideRegion` with the declared reason: the check is then
`unsupported` after no draw at all. OutsideRegion is a BaseException so that Hypothesis neither
reports it as a falsifying example nor shrinks through it. A strategy that draws from less
than it would (a dtype, a number of axes, a padding mode or an option left out) records the
declared reason in the set `inside` was given: the row then names every limit that removed
part of its rule's domain.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar

from cnnspec.adapters.capabilities import EVERYTHING, Capabilities

_ACTIVE: ContextVar[Capabilities] = ContextVar("cnnspec_region", default=EVERYTHING)
_NARROWED: ContextVar[set | None] = ContextVar("cnnspec_narrowed", default=None)


class OutsideRegion(BaseException):
    """A check asks for what the adapter declares unsupported; the message is the reason."""


@contextlib.contextmanager
def inside(capabilities: Capabilities, narrowed: set | None = None):
    """Strategies draw inside `capabilities`; the reasons of the limits that narrowed a draw
    are added to `narrowed`."""
    token, recording = _ACTIVE.set(capabilities), _NARROWED.set(narrowed)
    try:
        yield capabilities
    finally:
        _ACTIVE.reset(token)
        _NARROWED.reset(recording)


def _narrowed_by(reason: str) -> None:
    recording = _NARROWED.get()
    if recording is not None:
        recording.add(reason)


def active() -> Capabilities:
    return _ACTIVE.get()


def dtypes_within(names) -> tuple:
    """The dtype names among `names` the adapter declares; OutsideRegion when none is."""
    region = active()
    kept = tuple(n for n in names if n in region.dtypes)
    if not kept:
        missing = ", ".join(names)
        raise OutsideRegion(region.reason("dtypes", f"the adapter declares none of {missing}"))
    left_out = [n for n in names if n not in kept]
    if left_out:
        _narrowed_by(region.reason("dtypes", f"the adapter declares no {', '.join(left_out)}"))
    return kept


def ranks_within(low: int, high: int) -> tuple:
    """The numbers of spatial axes in [low, high] the adapter declares; OutsideRegion if none."""
    region = active()
    kept = tuple(r for r in range(low, high + 1) if r in region.spatial_ranks)
    if not kept:
        raise OutsideRegion(region.reason(
            "spatial_ranks", f"the adapter declares no {low}-{high} spatial axes"
            if low != high else f"the adapter declares no {low} spatial axes"))
    left_out = [str(r) for r in range(low, high + 1) if r not in kept]
    if left_out:
        _narrowed_by(region.reason("spatial_ranks", f"the adapter declares no "
                                                    f"{' or '.join(left_out)} spatial axes"))
    return kept


def allows(option: str, op: str) -> bool:
    """Whether calls of `op` may use `option`; when not, the draw is narrowed by its reason."""
    region = active()
    if region.allows(option, op):
        return True
    _narrowed_by(f"{op}: {region.option_reason(option, op)}")
    return False


def require(option: str, op: str) -> None:
    """OutsideRegion unless calls of `op` may use `option` (a check about that option)."""
    region = active()
    if not region.allows(option, op):
        raise OutsideRegion(region.option_reason(option, op))


def modes_within(op: str, modes) -> tuple:
    """The padding modes among `modes` the adapter declares for `op` (possibly none)."""
    region = active()
    for mode in modes:
        if mode not in region.padding_modes[op]:
            _narrowed_by(f"{op}: " + region.reason(
                mode, f"the adapter declares no {mode} padding for {op}", op))
    return tuple(m for m in modes if m in region.padding_modes[op])
