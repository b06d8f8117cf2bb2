"""`NAME+recipes`: a built-in adapter with the recipes of its framework filling what it lacks.

`with_recipes(base)` wraps the built-in adapter `base` (tensorflow, keras, jax, torch): a call
the base declares unsupported (its capabilities or its `supports`) runs the recipe that covers
it, if any; a call where the base deviates (a route's `replaces`, e.g. TF's DCR depth_to_space
for pixel_shuffle) always runs the recipe; everything else runs natively. The recipes are the
functions of `cnnspec.recipes.<framework>`, called in the framework's own layout (a bridge moves
NCHW to NHWC for TensorFlow and Keras) and differentiated by the framework's own autodiff. It is
its own adapter, named `<base>+recipes`, so the base's own verdict stays in its own results.
The base's deviations apply to it, less those a route replaces.

`recipe(op, arrays, params)` names the recipe a call runs (None: the base makes it), a pure
function of the call: the suite counts, per rule run, the examples each recipe ran on.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cnnspec.adapters import capabilities
from cnnspec.adapters.base import FrameworkAdapter, params_key
from cnnspec.adapters.capabilities import FORWARD_OPS, Capabilities
from cnnspec.adapters.protocol import ARRAYS, DIFFERENTIABLE

SUFFIX = "+recipes"


def _no_limit(call):
    return None


def _never(call):
    return False


@dataclass(frozen=True)
class Route:
    """One recipe serving one op: the capability options and padding modes it adds to the
    base's, why it cannot take a call (`limit`, or None), where it replaces a native call the
    base gets wrong (`replaces`), and the rules of the base's deviations it so removes."""

    op: str
    recipe: str  # the function's name in cnnspec.recipes.<target>
    options: frozenset = frozenset()
    modes: frozenset = frozenset()
    limit: Callable = _no_limit
    replaces: Callable = _never
    fixes: tuple = ()


def _any(key, above=1):
    return lambda call: any(v > above for v in call.get(key, ()))


def _rank(call):
    shape = call.get("shape")
    return len(shape) - 2 if shape else None


def _kernel_shorter_than_stride(call):
    """Keras 'valid' transposed conv: some axis with d*(k-1) + 1 < s (its own output_padding)."""
    shapes = call.get("shapes") or ()
    if len(shapes) < 2 or shapes[1] is None:
        return False
    kernel = shapes[1][2:]
    return any(d * (k - 1) + 1 < s for k, s, d in
               zip(kernel, call.get("strides", ()), call.get("dilations", ())))


def _two_d_without_dilation(call):
    if _tf_pool_kernels(call):
        return _tf_pool_kernels(call)
    if _rank(call) not in (None, 2):
        return "the max_pool_argmax recipe (tf.nn.max_pool_with_argmax) is 2-d"
    if any(d > 1 for d in call.get("dilations", ())):
        return "tf.nn.max_pool_with_argmax has no dilation"
    return None


def _tf_pool_kernels(call):
    """What TF's CPU pooling kernels lack whatever the padding (the recipes pool with them)."""
    if _rank(call) == 3 and call.get("dtype") in ("float16", "float64"):
        return f"TF has no {call['dtype']} 3-d pooling kernel on the CPU"
    return None


def _same(call):
    return isinstance(call.get("pads"), str) and call["pads"] != "VALID"


def _same_kernel_shorter_than_stride(call):
    """SAME pooling with a kernel shorter than its stride on some axis: TF's pooling does not
    clamp the SAME padding (o-1)*s + k - i at 0, so its windows shift into the input."""
    return _same(call) and any(k < s for k, s in zip(call.get("kernel_shape", ()),
                                                     call.get("strides", ())))


def _same_counting_padding(call):
    """avg_pool with SAME padding that counts it (TF and Keras never count padding), or with
    a kernel shorter than its stride."""
    return _same(call) and bool(call.get("count_include_pad")) \
        or _same_kernel_shorter_than_stride(call)


POOL_OPTIONS = frozenset({"explicit_pads", "asymmetric_pads", "ceil_mode", "dilations"})
AVG_OPTIONS = frozenset({"explicit_pads", "asymmetric_pads", "ceil_mode", "count_include_pad",
                         "exclude_pad"})
LOWER = frozenset({"SAME_LOWER"})
MODES = frozenset({"VALID", "SAME_UPPER", "SAME_LOWER"})
CHANNELS_LAST_ROUTES = (
    Route("max_pool", "max_pool", POOL_OPTIONS, LOWER, limit=_tf_pool_kernels,
          replaces=_same_kernel_shorter_than_stride),
    Route("avg_pool", "avg_pool", AVG_OPTIONS, LOWER, limit=_tf_pool_kernels,
          replaces=_same_counting_padding),
    Route("conv_transpose", "conv_transpose",
          frozenset({"explicit_pads", "asymmetric_pads", "groups", "dilations", "output_padding"}),
          LOWER),
    Route("pixel_shuffle", "pixel_shuffle", replaces=lambda call: True,
          fixes=("upsample.pixel_shuffle", "grad.pixel_shuffle")),
)
def _output_padding_too_large(call):
    limits = zip(call.get("output_padding", ()), call.get("strides", ()),
                 call.get("dilations", ()))
    if any(a >= max(s, d) for a, s, d in limits):
        return "output_padding must be smaller than max(stride, dilation)"
    return None


def _torch_avg_pool3d_half(call):
    if _rank(call) == 3 and call.get("dtype") in ("float16", "bfloat16"):
        return f"torch has no {call['dtype']} avg_pool3d on the CPU"
    return None


SYMMETRIC_ONLY = frozenset({"asymmetric_pads"})
ROUTES = {
    "tensorflow": CHANNELS_LAST_ROUTES + (
        Route("conv", "conv", frozenset({"explicit_pads", "asymmetric_pads"}), LOWER,
              replaces=lambda call: _rank(call) == 2 and _any("strides")(call),
              fixes=("conv.cross_correlation", "conv.matches_reference",
                     "conv.grouped_is_split_concat")),
        Route("max_pool_argmax", "max_pool_argmax",
              frozenset({"explicit_pads", "asymmetric_pads", "ceil_mode"}), LOWER,
              limit=_two_d_without_dilation),
        Route("adaptive_avg_pool", "adaptive_avg_pool"),
        Route("adaptive_max_pool", "adaptive_max_pool", limit=_tf_pool_kernels),
        Route("max_unpool", "max_unpool", frozenset({"max_unpool_output_size", "explicit_pads",
                                                     "asymmetric_pads"}), LOWER),
    ),
    "keras": (
        Route("max_pool", "max_pool", POOL_OPTIONS, LOWER, limit=_tf_pool_kernels,
              replaces=_same_kernel_shorter_than_stride),
        Route("avg_pool", "avg_pool", AVG_OPTIONS, LOWER, limit=_tf_pool_kernels,
              replaces=_same_counting_padding),
        Route("conv", "conv", frozenset({"explicit_pads", "asymmetric_pads"}), LOWER,
              replaces=lambda call: _rank(call) == 2 and _any("strides")(call),
              fixes=("conv.cross_correlation", "conv.matches_reference",
                     "conv.grouped_is_split_concat")),
        Route("conv_transpose", "conv_transpose",
              frozenset({"explicit_pads", "asymmetric_pads", "groups", "dilations",
                         "output_padding"}), LOWER,
              replaces=lambda call: call.get("pads") == "VALID" and _kernel_shorter_than_stride(call),
              fixes=("conv_transpose.output_size", "conv_transpose.zero_insert_flip",
                     "conv_transpose.matrix_transpose")),
        Route("pixel_shuffle", "pixel_shuffle", replaces=lambda call: True,
              fixes=("upsample.pixel_shuffle", "grad.pixel_shuffle")),
        Route("adaptive_max_pool", "adaptive_max_pool", limit=_tf_pool_kernels,
              replaces=lambda call: 1 in call.get("output_size", ()) or 1 in (call.get("shape") or ())[2:],
              fixes=("pool.adaptive_bins", "grad.adaptive_pool")),
    ),
    "jax": (
        Route("max_pool", "max_pool", frozenset({"ceil_mode"})),
        Route("avg_pool", "avg_pool", frozenset({"ceil_mode", "exclude_pad"})),
        Route("conv_transpose", "conv_transpose", frozenset({"groups"}), LOWER,
              limit=_output_padding_too_large),
        Route("max_pool_argmax", "max_pool_argmax"),
        Route("adaptive_avg_pool", "adaptive_avg_pool"),
        Route("adaptive_max_pool", "adaptive_max_pool"),
        Route("max_unpool", "max_unpool"),
        Route("pixel_shuffle", "pixel_shuffle"),
    ),
    "torch": (
        Route("conv", "conv", modes=LOWER),
        Route("conv_transpose", "conv_transpose", SYMMETRIC_ONLY, MODES),
        Route("max_pool", "max_pool", SYMMETRIC_ONLY, MODES),
        Route("max_pool_argmax", "max_pool_argmax", SYMMETRIC_ONLY, MODES),
        Route("avg_pool", "avg_pool", SYMMETRIC_ONLY, MODES, limit=_torch_avg_pool3d_half),
        Route("max_unpool", "max_unpool", SYMMETRIC_ONLY, MODES),
    ),
}


# bridges: the canonical NCHW arrays in the recipes' layout, and the framework's autodiff -------

class Bridge:
    """Moves canonical (channels-first) native arrays into a recipe's layout and back."""

    channels_last = False

    def __init__(self, base):
        self.base = base

    def last(self, x):
        return x

    def first(self, y):
        return y

    def kernel(self, w):
        return w

    def compile(self, fn):
        return fn

    def vjp(self, forward, args, cotangent):
        return self.base.native_vjp(forward, args, cotangent)


class TensorflowBridge(Bridge):
    channels_last = True

    def __init__(self, base):
        super().__init__(base)
        import tensorflow as tf

        self.transpose = tf.transpose

    def last(self, x):
        return self.transpose(x, [0, *range(2, len(x.shape)), 1])

    def first(self, y):
        rank = len(y.shape)
        return self.transpose(y, [0, rank - 1, *range(1, rank - 1)])

    def kernel(self, w):
        """OIHW (conv) to (*k, I, O); IOHW (transposed conv) to (*k, O, I)."""
        return self.transpose(w, [*range(2, len(w.shape)), 1, 0])


class JaxBridge(Bridge):
    """Channels first, as the recipes; each recipe jitted, gradients by `jax.vjp`."""

    def __init__(self, base):
        super().__init__(base)
        import jax

        self.jax = jax

    def compile(self, fn):
        return self.jax.jit(fn)

    def vjp(self, forward, args, cotangent):
        _, pullback = self.jax.vjp(forward, *args)
        return pullback(cotangent)


class KerasBridge(TensorflowBridge):
    """Channels last through `keras.ops.transpose`; gradients by the backend's autodiff (the
    keras adapter's)."""

    def __init__(self, base):
        Bridge.__init__(self, base)
        from keras import ops

        self.transpose = ops.transpose


BRIDGES = {"tensorflow": TensorflowBridge, "keras": KerasBridge, "jax": JaxBridge, "torch": Bridge}


def _signature(fn) -> frozenset:
    return frozenset(inspect.signature(fn).parameters)


def call_keys(arrays, params: dict, vjp: bool = False) -> dict:
    """What `supports` receives for a call (as the suite's probe gives it)."""
    keys = dict(params)
    given = [None if a is None else np.asarray(a) for a in arrays]
    keys["dtypes"] = tuple(None if a is None else a.dtype.name for a in given)
    keys["shapes"] = tuple(None if a is None else a.shape for a in given)
    keys["dtype"], keys["shape"] = keys["dtypes"][0], keys["shapes"][0]
    if vjp:
        keys["vjp"] = True
    return keys


def widened(declared: Capabilities, routes, differentiable: bool) -> Capabilities:
    """The base's capabilities with what the routes add: their ops (and gradients, where the
    base has autodiff), options and padding modes."""
    added = {route.op for route in routes}
    modes = {op: set(declared.padding_modes[op]) for op in declared.padding_modes}
    options = {op: set(declared.options[op]) for op in FORWARD_OPS}
    for route in routes:
        if route.op in modes:
            modes[route.op] |= route.modes | (MODES if route.op not in declared.ops else set())
        options[route.op] |= route.options
    gradients = declared.gradients | (added & set(DIFFERENTIABLE) if differentiable else set())
    return Capabilities(ops=declared.ops | added, gradients=gradients,
                        spatial_ranks=declared.spatial_ranks, dtypes=declared.dtypes,
                        padding_modes={op: m for op, m in modes.items() if m},
                        options=options, devices=declared.devices,
                        reasons=declared.reasons)


class RecipesAdapter(FrameworkAdapter):
    """`<base>+recipes` (see the module doc)."""

    def __init__(self, base, routes, bridge: Bridge, module):
        self.base, self.bridge, self.module = base, bridge, module
        self.name = f"{base.name}{SUFFIX}"
        self.framework, self.version = base.framework, base.version
        self.protocol_version = capabilities.protocol_version(base)  # the base's protocol
        self.recipes_for = base.name
        if getattr(base, "backend", None):
            self.backend = base.backend
        self.routes = {}
        for route in routes:
            self.routes.setdefault(route.op, []).append(route)
        declared = capabilities.of(base)
        self.capabilities = widened(declared, routes, bool(declared.gradients))
        self._compiled: dict = {}
        super().__init__(base.device)

    def placement(self, device: str) -> str:
        return device

    def to_native(self, array):
        return self.base.to_native(array)

    def to_numpy(self, value) -> np.ndarray:
        return self.base.to_numpy(value)

    # which calls run a recipe ----------------------------------------------------------------

    def native_verdict(self, op: str, call: dict):
        """Why the base cannot make the call natively (its capabilities or supports), or None."""
        outside = capabilities.of(self.base).verdict(op, call)
        if outside:
            return outside
        verdict = self.base.supports(op, **call)
        return None if verdict is True else verdict

    def route(self, op: str, call: dict) -> Route | None:
        """The route that serves the call: one that replaces the base's deviating call, or one
        that covers a call the base cannot make; None to run natively."""
        native = None
        for route in self.routes.get(op, ()):
            if route.limit(call):
                continue
            if route.replaces(call):
                return route
            if native is None:
                native = self.native_verdict(op, call) or False
            if native:
                return route
        return None

    def supports(self, op: str, **call) -> bool | str:
        if self.route(op, call) is not None:
            return True
        return self.native_verdict(op, call) or True

    def replaces_deviation(self, rule: str, when: dict) -> bool:
        """Whether a route replaces every call of the base's deviation `rule` / `when`."""
        op = when.get("op")
        ops = op.get("in", ()) if isinstance(op, dict) else (op,)
        return bool(ops) and all(any(rule in route.fixes for route in self.routes.get(o, ()))
                                 for o in ops)

    # running ----------------------------------------------------------------------------------

    def recipe(self, op: str, arrays, params: dict, *, vjp: bool = False) -> str | None:
        """The import path of the recipe that makes this call (its gradient when `vjp`), or
        None when the base makes it natively."""
        route = self.route(op, call_keys(arrays, params, vjp=vjp))
        return None if route is None else f"{self.module.__name__}.{route.recipe}"

    def _recipe_forward(self, route: Route, params: dict):
        """The recipe as a function of the op's native arrays (canonical layout)."""
        fn = getattr(self.module, route.recipe)
        accepted = _signature(fn)
        keywords = {k: v for k, v in params.items() if k in accepted}
        bridge = self.bridge
        op = route.op

        def forward(*tensors):
            tensors = tensors + (None,) * (len(ARRAYS[op]) - len(tensors))
            if op in ("conv", "conv_transpose"):
                x, w, b = tensors
                return bridge.first(fn(bridge.last(x), bridge.kernel(w), b, **keywords))
            if op == "max_unpool":
                x, indices = tensors
                return bridge.first(fn(bridge.last(x), bridge.last(indices), **keywords))
            return bridge.first(fn(bridge.last(tensors[0]), **keywords))
        return forward

    def _compiled_fn(self, kind: str, route: Route, params: dict, build):
        key = (kind, route.op, route.recipe, params_key(params))
        if key not in self._compiled:
            self._compiled[key] = self.bridge.compile(build())
        return self._compiled[key]

    def call(self, op: str, arrays, params: dict):
        route = self.route(op, call_keys(arrays, params))
        if route is None:
            return self.base.call(op, arrays, params)
        fn = self._compiled_fn("forward", route, params,
                               lambda: self._recipe_forward(route, params))
        return self.to_numpy(fn(*(self.to_native(a) for a in arrays)))

    def vjp(self, op: str, args: tuple, cotangent, **params) -> tuple:
        route = self.route(op, call_keys(args, params, vjp=True))
        if route is None:
            return self.base.vjp(op, args, cotangent, **params)
        forward = self._recipe_forward(route, params)
        bridge = self.bridge

        def build():
            def pullback(arrays, cotangent):
                return bridge.vjp(forward, arrays, cotangent)
            return pullback
        fn = self._compiled_fn("vjp", route, params, build)
        grads = fn(tuple(self.to_native(a) for a in args), self.to_native(cotangent))
        return tuple(np.zeros_like(np.asarray(a)) if g is None else self.to_numpy(g)
                     for g, a in zip(grads, args))


def with_recipes(base) -> RecipesAdapter:
    """`base` (a built-in adapter) wrapped with its framework's recipes; a ValueError naming
    the adapter when there are none for it."""
    target = base.name
    if target not in ROUTES:
        raise ValueError(f"adapter {target + SUFFIX!r}: cnnspec has recipes for "
                         f"{', '.join(sorted(ROUTES))} only")
    module = importlib.import_module(f"cnnspec.recipes.{target}")
    routes = ROUTES[target]
    return RecipesAdapter(base, routes, BRIDGES[target](base), module)



def recipes_by_rule() -> dict:
    """Where each built-in with recipes has one, rule by rule, for the report's links:
    {NAME: {"adapter": "NAME+recipes", "rules": {rule id: [recipe import paths]}}}. A route
    serves a rule when its op is one the rule's checks call or require
    (cnnspec.conformance.registry), or the rule is one its replacement fixes."""
    from cnnspec.conformance.registry import all_checks

    ops = {rule_id: {op for check in checks for op, _ in check.calls}
           | {op for check in checks for op, _ in check.requires}
           for rule_id, checks in all_checks().items()}
    out = {}
    for target, routes in ROUTES.items():
        rules: dict = {}
        for rule_id, called in ops.items():
            for route in routes:
                if route.op in called or rule_id in route.fixes:
                    path = f"cnnspec.recipes.{target}.{route.recipe}"
                    if path not in rules.setdefault(rule_id, []):
                        rules[rule_id].append(path)
        out[target] = {"adapter": f"{target}{SUFFIX}", "rules": rules}
    return out
