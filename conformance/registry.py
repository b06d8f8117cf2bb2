"""The registry of property checks: each names the rule it checks, its strategies, and the
pinned hard cases that always run first.

    @check("pool.output_size.ceil", case=pool_cases(ceil_mode=True),
           examples=[{"case": PYTORCH_116420}])
    def pool_ceil_shape(op, case):
        op.expect_equal("out.shape", op.max_pool(case.x, **case.params).shape, case.out_shape)

The decorator keeps the check on its function (`CHECKS_OF`); `all_checks()` imports the check
modules and reads them from their functions (and tuples of functions a factory made), so the
registry is an object built for its caller, not a table filled at import. Every example gets a
fresh `Probe` (`op`) bound to the adapter and the rule's run (the
`RuleRun` the runner binds into the check's test: `check.test(settings, run=run)(adapter)`).
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import textwrap
from dataclasses import dataclass

from hypothesis import example, given
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import StopTest, UnsatisfiedAssumption

from cnnspec.adapters import OPS
from cnnspec.spec import RULES

from .local_constants import ignore_local_constants
from .context import RuleRun
from .probe import Probe

CHECK_MODULES = ("geometry", "values", "gradients", "stability", "architecture")


@dataclass(frozen=True)
class Check:
    rule_id: str
    name: str
    run_example: object  # (run, adapter, **drawn) -> None: one example, with a fresh Probe
    strategies: dict
    examples: tuple  # pinned cases, run first
    requires: tuple  # (op, params) the adapter must support for the check to mean anything
    body: object = None  # the check function, (probe, **drawn) -> None

    @functools.cached_property
    def calls(self) -> frozenset:
        """(op, is_vjp) every example makes (`calls_of`), read on first use: by then the
        check's module is imported whole, so helpers defined below the check are found."""
        return calls_of(self.body) if self.body else frozenset()

    @property
    def signature(self) -> inspect.Signature:
        """What Hypothesis reads: the adapter, then the body's drawn arguments."""
        drawn = list(inspect.signature(self.body).parameters.values())[1:]
        return inspect.Signature(
            [inspect.Parameter("adapter", inspect.Parameter.POSITIONAL_OR_KEYWORD), *drawn])

    def test(self, profile_settings, seed=None, *, run: RuleRun):
        """A new Hypothesis test of this check under `profile_settings`, its examples counted
        into the rule's `run`: call it with the adapter. (Its source and signature are what a
        derandomized profile's seed is a digest of: `hypothesis.internal.reflection.
        function_digest`; the run is bound, not a parameter, so that the seed stays that of the
        check's arguments.)"""
        inner = functools.partial(self.run_example, run)

        def test(adapter, *args, **kwargs):
            inner(adapter, *args, **kwargs)

        test.__signature__ = self.signature
        test.__name__ = test.__qualname__ = self.name
        if not self.strategies:
            return test
        ignore_local_constants()  # the examples: a function of the strategies and seed only
        for pinned in reversed(self.examples):
            test = example(**pinned)(test)
        test = profile_settings(given(**self.strategies)(test))
        return hypothesis_seed(seed)(test) if seed is not None else test


CHECKS_OF = "cnnspec_checks"  # the attribute of a check function: its Check objects


def calls_of(function, probe: str | None = None, bound=None) -> frozenset:
    """The adapter calls `function` makes on every example, read from its source: `op.<op>(...)`
    and `getattr(op, "<op>")(...)` are (op, False), `op.vjp("<op>", ...)` and
    `op.raises("<op>", ...)` name their op, and a helper of the same module that is handed the
    probe is read too, with the constants it is handed (its defaults, its closure's) bound. Calls under an
    `if` (such as `if op.supports(...)`) and calls whose op is not spelled out are left out: the
    runner decides up front only on what is certain; the probe declines the rest call by call."""
    definition = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
    probe = probe or definition.args.args[0].arg
    bound = {**_defaults(function), **(bound or {})}

    def constant(node):
        if isinstance(node, ast.Constant):
            return node.value
        return bound.get(node.id) if isinstance(node, ast.Name) else None

    found = set()
    for node in _unconditional(definition):
        if not isinstance(node, ast.Call):
            continue
        target = node.func
        if isinstance(target, ast.Attribute) and _is_name(target.value, probe):
            if target.attr in OPS:
                found.add((target.attr, False))
            elif target.attr in ("vjp", "raises") and node.args and constant(node.args[0]) in OPS:
                found.add((constant(node.args[0]), target.attr == "vjp"))
        elif (isinstance(target, ast.Call) and _is_name(target.func, "getattr")
              and _is_name(target.args[0], probe) and constant(target.args[1]) in OPS):
            found.add((constant(target.args[1]), False))
        elif isinstance(target, ast.Name):
            helper = function.__globals__.get(target.id)
            if not (inspect.isfunction(helper) and helper.__module__ == function.__module__):
                continue
            names = list(inspect.signature(helper).parameters)
            handed = dict(zip(names, node.args))
            handed.update({k.arg: k.value for k in node.keywords if k.arg})
            receives = [name for name, arg in handed.items() if _is_name(arg, probe)]
            if receives:
                constants = {name: constant(arg) for name, arg in handed.items()
                             if isinstance(constant(arg), str)}
                found |= calls_of(helper, receives[0], constants)
    return frozenset(found)


def _defaults(function) -> dict:
    """The strings a function's source may name its op by: its defaults and closure variables."""
    known = {name: p.default for name, p in inspect.signature(function).parameters.items()}
    known.update(inspect.getclosurevars(function).nonlocals)
    return {name: value for name, value in known.items() if isinstance(value, str)}


def _is_name(node, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _unconditional(node):
    """The nodes under `node` that run whenever it does: an if's test, not its branches."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.If, ast.IfExp)):
            yield child.test
            yield from _unconditional(child.test)
            continue
        yield child
        yield from _unconditional(child)


def check(rule_id: str, *, requires=(), examples=(), **strategies):
    if rule_id not in RULES:
        raise ValueError(f"check for unknown rule id {rule_id!r}")
    if examples and not strategies:
        raise ValueError(f"check for {rule_id}: pinned examples need strategies")

    def register(body):
        def run_example(run: RuleRun, adapter, *args, **kwargs):
            if run.rule_id != rule_id:
                raise ValueError(f"check for {rule_id} given the run of {run.rule_id}")
            probe = Probe(adapter, run)
            run.start_example()
            try:
                body(probe, *args, **kwargs)
            except UnsatisfiedAssumption:  # declined, or set aside as a declared deviation
                run.finish_example(kwargs, probe.declined, probe.client.recipes, error=None)
                raise
            except StopTest:  # Hypothesis abandoned the example
                raise
            except BaseException as error:
                run.finish_example(kwargs, probe.declined, probe.client.recipes, error=error)
                raise
            run.finish_example(kwargs, probe.declined, probe.client.recipes, error=None)
        made = Check(rule_id, body.__name__, run_example, dict(strategies), tuple(examples),
                     tuple(requires), body)
        setattr(body, CHECKS_OF, (*getattr(body, CHECKS_OF, ()), made))
        return body

    return register


def all_checks() -> dict[str, list[Check]]:
    """Every check, by rule id, in the catalogue's order; within a rule, in the order of the
    check modules and of their source (a new dict on each call)."""
    found: dict[str, list[Check]] = {}
    for name in CHECK_MODULES:
        module = importlib.import_module(f"cnnspec.conformance.checks.{name}")
        for value in vars(module).values():
            for function in value if isinstance(value, tuple) else (value,):
                if getattr(function, "__module__", None) != module.__name__:
                    continue  # imported from elsewhere
                for made in getattr(function, CHECKS_OF, ()):
                    found.setdefault(made.rule_id, []).append(made)
    return {rule_id: found[rule_id] for rule_id in RULES if rule_id in found}
