"""What an adapter can do, declared up front as data: the region of the protocol's domain the
suite draws its examples in.

    capabilities = Capabilities(
        ops=FORWARD_OPS - {"max_unpool"}, gradients=frozenset(),
        spatial_ranks=frozenset({2}), dtypes=frozenset({"float32"}),
        options={"max_pool": OPTIONS - {"ceil_mode"}, "avg_pool": OPTIONS - {"ceil_mode"}},
        reasons={"gradients": "ONNX Runtime runs inference only",
                 "ceil_mode": "the library's pooling has no ceil mode"})

Everything the fields leave out is `unsupported`, with the reason given in `reasons` (keyed by
the op, "gradients", "spatial_ranks", "dtypes", the padding mode or the option, or for one op
"<op>.<mode or option>"), without a single draw: the strategies draw inside the region, and a
check whose ops lie outside it does not run. An adapter's `supports(op, **call)` stays for
limits finer than these fields.

The options are the keyword values beyond the plain call (OPTIONS_USED says which calls use
each): one set for every op, or a mapping per op (an op it does not name has them all). Padding
modes are per op too (an op the mapping does not name has none).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cnnspec.spec.ops import OPS as TABLE
from cnnspec.spec.ops import taking

from . import protocol
from .protocol import DIFFERENTIABLE, OPS

DTYPES = ("float32", "float64", "float16", "bfloat16")
SPATIAL_RANKS = (1, 2, 3)
PAD_MODES = ("VALID", "SAME_UPPER", "SAME_LOWER")  # the protocol's names of native padding
PADDED_OPS = tuple(name for name, op in TABLE.items() if op.padded)
ELEMENTWISE = tuple(name for name, op in TABLE.items() if op.elementwise)


def _pairs(call):
    pads = call.get("pads")
    return () if pads is None or isinstance(pads, str) else tuple(tuple(p) for p in pads)


def _above_one(key):
    return lambda call: any(v > 1 for v in call.get(key, ()))


# Option name -> (the ops it applies to, whether a call uses it, what it is).
OPTIONS_USED = {
    "explicit_pads": (PADDED_OPS, lambda call: any(any(p) for p in _pairs(call)),
                      "explicit (begin, end) padding other than zero"),
    "asymmetric_pads": (PADDED_OPS, lambda call: any(b != e for b, e in _pairs(call)),
                        "explicit padding with begin != end on some axis"),
    "dilations": (taking("dilations"),
                  _above_one("dilations"), "dilations above 1 (for pooling: dilated windows)"),
    "groups": (taking("groups"), lambda call: call.get("groups", 1) > 1, "groups above 1"),
    "output_padding": (taking("output_padding"), lambda call: any(call.get("output_padding", ())),
                       "a transposed conv's output_padding above 0"),
    "ceil_mode": (taking("ceil_mode"), lambda call: bool(call.get("ceil_mode")), "ceil_mode=True"),
    "count_include_pad": (taking("count_include_pad"),
                          lambda call: bool(call.get("count_include_pad"))
                          and any(any(p) for p in _pairs(call)),
                          "count_include_pad=True with padding"),
    "exclude_pad": (taking("count_include_pad"), lambda call: call.get("count_include_pad") is False
                    and (call.get("pads") in ("SAME_UPPER", "SAME_LOWER")
                         or any(any(p) for p in _pairs(call))),
                    "count_include_pad=False with padding"),
    "max_unpool_output_size": (tuple(n for n, op in TABLE.items() if "output_size" in op.defaults),
                               lambda call: call.get("output_size") is not None,
                               "max_unpool's output_size"),
}
OPTIONS = frozenset(OPTIONS_USED)
FORWARD_OPS = frozenset(OPS)


@dataclass(frozen=True)
class Capabilities:
    """The region an adapter supports; the defaults are the whole protocol."""

    ops: frozenset = FORWARD_OPS
    gradients: frozenset = frozenset(DIFFERENTIABLE)  # ops whose `vjp` the adapter computes
    spatial_ranks: frozenset = frozenset(SPATIAL_RANKS)
    dtypes: frozenset = frozenset(DTYPES)
    padding_modes: MappingProxyType = field(default_factory=lambda: dict.fromkeys(
        PADDED_OPS, PAD_MODES))  # per op (or one set for every op that takes pads)
    options: frozenset = OPTIONS
    devices: tuple = ("cpu",)  # the device kinds it can run on ("cpu", "cuda"): for the reader;
    # the adapter's placement() refuses another one when it is built (--device)
    reasons: MappingProxyType = field(default_factory=dict)  # why each thing left out is

    def __post_init__(self):
        for name, universe in (("ops", FORWARD_OPS), ("gradients", set(DIFFERENTIABLE)),
                               ("spatial_ranks", set(SPATIAL_RANKS)), ("dtypes", set(DTYPES))):
            value = frozenset(getattr(self, name))
            unknown = sorted(map(str, value - set(universe)))
            if unknown:
                raise ValueError(f"Capabilities({name}=...): unknown {', '.join(unknown)}; the "
                                 f"protocol's are {', '.join(sorted(map(str, universe)))}")
            object.__setattr__(self, name, value)
        modes = self.padding_modes
        if not isinstance(modes, Mapping):
            modes = dict.fromkeys(PADDED_OPS, modes)
        unknown = sorted(set(modes) - set(PADDED_OPS)) + sorted(
            str(m) for ms in modes.values() for m in ms if m not in PAD_MODES)
        if unknown:
            raise ValueError(f"Capabilities(padding_modes=...): unknown {unknown[0]}; ops "
                             f"{', '.join(PADDED_OPS)} map to modes of {', '.join(PAD_MODES)}")
        modes = {op: frozenset(modes.get(op, ())) for op in PADDED_OPS}
        object.__setattr__(self, "padding_modes", MappingProxyType(modes))
        options = self.options
        if not isinstance(options, Mapping):
            options = dict.fromkeys(FORWARD_OPS, options)
        unknown = sorted(set(options) - FORWARD_OPS) + sorted(
            str(o) for os in options.values() for o in os if o not in OPTIONS)
        if unknown:
            raise ValueError(f"Capabilities(options=...): unknown {unknown[0]}; the options are "
                             f"{', '.join(sorted(OPTIONS))}, per op or for all")
        options = {op: frozenset(options.get(op, OPTIONS)) for op in FORWARD_OPS}
        object.__setattr__(self, "options", MappingProxyType(options))
        object.__setattr__(self, "reasons", MappingProxyType(dict(self.reasons)))

    def reason(self, key: str, default: str, op: str | None = None) -> str:
        """The declared reason for `key` ("<op>.<key>" first), else `default`."""
        return self.reasons.get(f"{op}.{key}") or self.reasons.get(key, default)

    def op_verdict(self, op: str, vjp: bool = False) -> str | None:
        """Why `op` (its gradient when `vjp`) lies outside, or None."""
        if op not in self.ops:
            return self.reason(op, f"the adapter declares no {op}")
        if vjp and op not in self.gradients:
            return self.reason("gradients", f"the adapter declares no gradient of {op}", op)
        return None

    def verdict(self, op: str, call: dict) -> str | None:
        """Why the call `op(**call)` lies outside the region, or None. `call` holds the call's
        keywords, `dtype` and `shape` of the input, and `vjp=True` for a gradient."""
        outside = self.op_verdict(op, bool(call.get("vjp")))
        if outside:
            return outside
        shape, dtype = call.get("shape"), call.get("dtype")
        if shape is not None and op not in ELEMENTWISE and len(shape) - 2 not in self.spatial_ranks:
            return self.reason("spatial_ranks", f"the adapter declares {len(shape) - 2} spatial "
                                                f"axes unsupported")
        if dtype is not None and dtype not in self.dtypes:
            return self.reason("dtypes", f"the adapter declares no {dtype}")
        pads = call.get("pads")
        if isinstance(pads, str) and pads not in self.padding_modes.get(op, ()):
            return self.reason(pads, f"the adapter declares no {pads} padding for {op}", op)
        for name, (ops, used, _) in OPTIONS_USED.items():
            if name not in self.options[op] and op in ops and used(call):
                return self.option_reason(name, op)
        return None

    def option_reason(self, option: str, op: str) -> str:
        """Why calls of `op` may not use `option`: the declared reason, else a default."""
        return self.reason(option, f"the adapter declares no {OPTIONS_USED[option][2]} for {op}",
                           op)

    def allows(self, option: str, op: str) -> bool:
        """Whether calls of `op` may use `option` (one of OPTIONS)."""
        return option in self.options[op] or op not in OPTIONS_USED[option][0]

    def as_dict(self) -> dict:
        """For the results: what lies outside the whole protocol, each with its reason."""
        out = {}
        for name, universe in (("ops", FORWARD_OPS), ("gradients", set(DIFFERENTIABLE) & self.ops),
                               ("spatial_ranks", set(SPATIAL_RANKS)), ("dtypes", set(DTYPES))):
            missing = sorted(universe - getattr(self, name), key=str)
            if missing:
                out[name] = missing
        options = {op: sorted(o for o in OPTIONS - self.options[op] if op in OPTIONS_USED[o][0])
                   for op in sorted(self.ops)}
        if any(options.values()):
            out["options"] = {op: missing for op, missing in options.items() if missing}
        modes = {op: sorted(set(PAD_MODES) - self.padding_modes[op]) for op in PADDED_OPS
                 if op in self.ops and set(PAD_MODES) - self.padding_modes[op]}
        if modes:
            out["padding_modes"] = modes
        return {"missing": out, "reasons": dict(self.reasons)} if out else {}


EVERYTHING = Capabilities()


def protocol_version(adapter) -> int:
    """The protocol version the adapter was written for: its `protocol_version` attribute, 1
    without one; a ValueError naming the value when it is no version this cnnspec knows."""
    version = getattr(adapter, "protocol_version", None)
    if version is None:
        return 1
    if isinstance(version, bool) or not isinstance(version, int) or not (
            1 <= version <= protocol.PROTOCOL_VERSION):
        raise ValueError(f"adapter {getattr(adapter, 'name', adapter)!r}: protocol_version="
                         f"{version!r}: this cnnspec knows protocols 1 to "
                         f"{protocol.PROTOCOL_VERSION}; upgrade cnnspec, or give one of those")
    return version


def within_version(declared: Capabilities, version: int) -> Capabilities:
    """`declared` less the ops and gradients added to the protocol after `version`, each with
    the reason "added in protocol N" (a reason the adapter gave itself is kept)."""
    later = {}  # reason key -> the version that added it
    ops, gradients = set(declared.ops), set(declared.gradients)
    for added, what in sorted(protocol.ADDED_IN.items()):
        if added <= version:
            continue
        for op in set(what["ops"]) & ops:
            later[op] = added
            ops.discard(op), gradients.discard(op)
        for op in set(what["gradients"]) & gradients:
            later[f"{op}.gradients"] = added
            gradients.discard(op)
    if ops == set(declared.ops) and gradients == set(declared.gradients):
        return declared
    reasons = {key: f"added in protocol {added}; the adapter was written for protocol {version}"
               for key, added in later.items()} | dict(declared.reasons)
    return dataclasses.replace(declared, ops=frozenset(ops), gradients=frozenset(gradients),
                               reasons=reasons)


def of(adapter) -> Capabilities:
    """The adapter's declared capabilities (its `capabilities` attribute), else the protocol's
    ops it has a method for (an op added to the protocol after it was written is unsupported,
    not an AttributeError), less what protocol versions after its own added; a ValueError
    naming the attribute when it is not a Capabilities."""
    declared = getattr(adapter, "capabilities", None)
    if declared is None:
        has = frozenset(op for op in OPS if callable(getattr(adapter, op, None)))
        declared = EVERYTHING if has == FORWARD_OPS else Capabilities(
            ops=has, gradients=frozenset(DIFFERENTIABLE) & has,
            reasons={op: f"the adapter has no method {op}" for op in FORWARD_OPS - has})
    if not isinstance(declared, Capabilities):
        raise ValueError(f"adapter {getattr(adapter, 'name', adapter)!r}: its capabilities is a "
                         f"{type(declared).__name__}, not cnnspec.adapters.Capabilities")
    return within_version(declared, protocol_version(adapter))
