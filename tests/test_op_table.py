"""The op table (cnnspec.spec.ops) is the one statement of the protocol's ops: the `Adapter`
Protocol class spells every op's signature as the table gives it, every built-in adapter (and
the `cnnspec new-adapter` template) has a call for every op it declares, taking the table's
arrays and keywords, and every op's minimal call runs on the reference and the NumPy adapter."""

import importlib
import re
import inspect

import numpy as np
import pytest

from cnnspec.adapters import capabilities, protocol, template
from cnnspec.adapters.base import FrameworkAdapter
from cnnspec.adapters.numpy_adapter import NumpyAdapter
from cnnspec.adapters.registry import BUILTIN
from cnnspec.spec import reference
from cnnspec.spec.ops import OPS as TABLE
from cnnspec.spec.ops import KEYWORDS, minimal_arrays

POSITIONAL = inspect.Parameter.POSITIONAL_OR_KEYWORD
KEYWORD = inspect.Parameter.KEYWORD_ONLY


def parameters(function) -> tuple:
    """(array names, each optional or not; keyword-only names, each with its default or
    `inspect.Parameter.empty`) of a function's signature, `self` left out."""
    params = [p for p in inspect.signature(function).parameters.values() if p.name != "self"]
    arrays = [(p.name, p.default is None) for p in params if p.kind == POSITIONAL]
    keywords = [(p.name, p.default) for p in params if p.kind == KEYWORD]
    return arrays, keywords


def table_parameters(name: str) -> tuple:
    op = TABLE[name]
    return ([(a.name, a.optional) for a in op.arrays],
            [(k, op.defaults.get(k, inspect.Parameter.empty)) for k in op.keywords])


def protocol_ops() -> set:
    """The methods of the Protocol class that are not the adapter's own (supports, vjp)."""
    return {name for name, value in vars(protocol.Adapter).items()
            if inspect.isfunction(value) and not name.startswith("_")} - {"supports", "vjp"}


def test_the_protocol_class_lists_every_op_of_the_table_and_no_other():
    assert protocol_ops() == set(TABLE)


@pytest.mark.parametrize("name", list(TABLE))
def test_the_protocol_class_spells_each_op_as_the_table_does(name):
    method = getattr(protocol.Adapter, name)
    assert parameters(method) == table_parameters(name), name


@pytest.mark.parametrize("name", list(TABLE))
def test_the_adapter_base_gives_each_op_the_tables_signature(name):
    assert parameters(getattr(FrameworkAdapter, name)) == table_parameters(name), name


def built_in(name: str):
    """An instance of the built-in adapter `name` (skipped where its framework is missing)."""
    target, distribution, _ = BUILTIN[name]
    pytest.importorskip(distribution)
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)()


def accepts(function, name: str) -> bool:
    """Whether `function` binds every array (the optional ones given) and keyword of op `name`."""
    op = TABLE[name]
    try:
        inspect.signature(function).bind(*(None for _ in op.arrays),
                                         **dict.fromkeys(op.keywords))
    except TypeError:
        return False
    return True


def held_to_the_table(adapter) -> list:
    """What of `adapter` disagrees with the table: an op it declares (its capabilities) that it
    has no call for, whose public method or native call does not take the table's arrays and
    keywords, or (an adapter calling its framework in its own `call`, without native_<op>)
    whose minimal call fails; empty when none does."""
    wrong = []
    declared = capabilities.of(adapter)
    for name in sorted(declared.ops):
        method = getattr(adapter, name, None)
        if not callable(method) or not accepts(method, name):
            wrong.append(f"{adapter.name}.{name}: no method taking the table's arguments")
            continue
        native = getattr(adapter, f"native_{name}", None)
        if native is not None:
            if not accepts(native, name):
                wrong.append(f"{adapter.name}.native_{name}: does not take the table's "
                             f"arguments {TABLE[name].keywords}")
        elif type(adapter).call is FrameworkAdapter.call:
            wrong.append(f"{adapter.name}: declares {name} but has no native_{name}")
        else:  # its own call: the minimal call, in a dtype it declares
            dtype = "float32" if "float32" in declared.dtypes else sorted(declared.dtypes)[0]
            arrays, keywords = minimal_arrays(name, dtype=dtype)
            if adapter.supports(name, dtype=dtype, shape=arrays[0].shape, **keywords) is True:
                out = np.asarray(method(*arrays, **keywords))
                if out.ndim != arrays[0].ndim:
                    wrong.append(f"{adapter.name}.{name}: the minimal call gave {out.shape}")
    return wrong


@pytest.mark.parametrize("name", list(BUILTIN))
def test_every_built_in_adapter_has_a_call_taking_the_tables_arguments_for_each_op_it_declares(
        name):
    assert held_to_the_table(built_in(name)) == []


def test_the_adapter_template_is_held_to_the_table():
    adapter = template.MyLibrary()
    assert capabilities.of(adapter).ops == {"relu", "sigmoid", "softmax"}
    assert held_to_the_table(adapter) == []


def test_an_adapter_whose_native_call_lacks_a_keyword_of_the_table_is_caught():
    class Stale(template.MyLibrary):
        name = "stale"

        def native_softmax(self, x):  # written before softmax took `axis`
            return x

    assert held_to_the_table(Stale()) == [
        "stale.native_softmax: does not take the table's arguments ('axis',)"]


def every_minimal_call():
    return [(name, axes) for name, op in TABLE.items() for axes in op.spatial_axes]


@pytest.mark.parametrize("name, spatial_axes", every_minimal_call())
def test_the_minimal_call_runs_on_the_reference_and_the_numpy_adapter(name, spatial_axes):
    op = TABLE[name]
    arrays, keywords = minimal_arrays(name, spatial_axes)
    assert [a.shape for a in arrays] == list(op.minimal_call(spatial_axes).shapes)
    expected = getattr(reference, op.reference)(*arrays, **keywords)
    got = getattr(NumpyAdapter(), name)(*arrays, **keywords)
    assert got.shape == expected.shape and got.ndim == 2 + spatial_axes
    assert got.dtype == (np.float32 if op.output_dtype == "input" else np.dtype(op.output_dtype))
    np.testing.assert_array_equal(got, expected.astype(got.dtype))
    if op.differentiable:
        grads = reference.vjp(name, arrays, np.ones_like(expected), **keywords)
        assert [g.shape for g in grads] == [a.shape for a in arrays]
    else:
        with pytest.raises(ValueError, match="has no reference gradient"):
            reference.vjp(name, arrays, np.ones_like(expected), **keywords)


def test_the_protocol_views_and_versions_follow_the_table():
    assert list(protocol.OPS) == list(TABLE)
    # a released version never changes (adapters written for it rely on it): protocol 2 added
    # the gradients of the adaptive pools, nearest upsampling and pixel shuffle, nothing else
    assert protocol.PROTOCOL_VERSION >= 2 and set(protocol.ADDED_IN) == set(
        range(2, protocol.PROTOCOL_VERSION + 1))
    assert protocol.ADDED_IN[2] == {"ops": (), "gradients": (
        "adaptive_avg_pool", "adaptive_max_pool", "upsample_nearest", "pixel_shuffle")}


def guide_rows() -> dict:
    """{op: its keywords cell} of the adapter guide's table "The ops" (a row may name several
    ops; "as `max_pool`" is the named op's cell)."""
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[1] / "docs" / "writing-an-adapter.md").read_text(
        encoding="utf-8")
    section = guide.split("## The ops", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            for name in re.findall(r"`([a-z0-9_]+)`", cells[0]):
                rows[name] = cells[2]
    return {name: rows[m.group(1)] if (m := re.match(r"as `([a-z0-9_]+)`", cell)) else cell
            for name, cell in rows.items()}


def test_the_adapter_guide_tabulates_every_op_with_the_tables_keywords():
    rows = guide_rows()
    assert set(rows) == set(TABLE)
    for name, cell in rows.items():
        named = [k for k in re.findall(r"`([a-z_]+)", cell) if k in KEYWORDS]
        assert named == list(TABLE[name].keywords), (name, cell)
