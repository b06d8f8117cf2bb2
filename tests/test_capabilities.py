"""Capabilities as data (adapters/capabilities.py): validated when built, a verdict per call."""

import pytest

from cnnspec.adapters import AdapterError, Capabilities, load
from cnnspec.adapters.capabilities import OPTIONS


def test_unknown_names_are_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="unknown float8.*float16"):
        Capabilities(dtypes={"float32", "float8"})
    with pytest.raises(ValueError, match="unknown ceil"):
        Capabilities(options={"max_pool": {"ceil"}})
    with pytest.raises(ValueError, match="unknown SAME"):
        Capabilities(padding_modes={"conv": {"SAME"}})


def test_each_field_decides_a_call_with_its_declared_reason():
    declared = Capabilities(
        ops={"conv", "max_pool", "relu"}, gradients={"conv"}, spatial_ranks={2},
        dtypes={"float32"}, padding_modes={"conv": {"VALID"}},
        options={"max_pool": OPTIONS - {"ceil_mode"}},
        reasons={"ceil_mode": "no ceil mode", "max_pool.VALID": "pools take pairs"})
    conv = dict(shape=(1, 1, 4, 4), dtype="float32", strides=(1, 1), pads="VALID",
                dilations=(1, 1), groups=1)
    assert declared.verdict("conv", conv) is None
    assert declared.verdict("conv", {**conv, "vjp": True}) is None
    assert "avg_pool" in declared.verdict("avg_pool", {})
    assert "gradient of relu" in declared.verdict("relu", {"vjp": True})
    assert "3 spatial axes" in declared.verdict("conv", {**conv, "shape": (1, 1, 2, 2, 2)})
    assert declared.verdict("relu", {"shape": (2, 3, 4, 5, 6), "dtype": "float32"}) is None
    assert "float16" in declared.verdict("conv", {**conv, "dtype": "float16"})
    assert "SAME_UPPER" in declared.verdict("conv", {**conv, "pads": "SAME_UPPER"})
    assert declared.verdict("max_pool", {"pads": "VALID"}) == "pools take pairs"
    assert declared.verdict("max_pool", {"ceil_mode": True}) == "no ceil mode"
    assert declared.verdict("max_pool", {"ceil_mode": False, "pads": ((1, 1),)}) is None


def test_an_adapter_with_a_malformed_capabilities_is_refused_when_loaded(tmp_path):
    module = tmp_path / "odd.py"
    module.write_text("from cnnspec.adapters.numpy_adapter import NumpyAdapter\n"
                      "class Odd(NumpyAdapter):\n    capabilities = {'dtypes': ['float32']}\n")
    with pytest.raises(AdapterError, match="its capabilities is a dict, not cnnspec"):
        load(f"{module}:Odd")


def test_an_op_the_adapter_has_no_method_for_is_unsupported_not_an_error(tmp_path):
    """An adapter implementing the protocol directly, written before an op joined it (here:
    without any op, pixel_shuffle among them)."""
    from cnnspec.conformance.runner import run

    module = tmp_path / "older.py"
    module.write_text("class Older:\n    name = 'older'\n\n"
                      "    def supports(self, op, **call):\n        return True\n\n"
                      "    def vjp(self, op, args, cotangent, **params):\n"
                      "        raise NotImplementedError\n")
    row = run(f"{module}:Older", prefixes=["upsample.pixel_shuffle"]).rules[0]
    assert row.status == "unsupported" and row.examples == row.declined == 0
    assert "the adapter has no method pixel_shuffle" in row.message


def test_keras_records_its_backend_and_declares_valid_same_padding_only():
    pytest.importorskip("keras")
    import keras

    from cnnspec.conformance.runner import adapter_info

    info = adapter_info(load("keras"))
    assert info["backend"] == keras.backend.backend()
    missing = info["capabilities"]["missing"]
    assert "explicit_pads" in missing["options"]["max_pool"]
    assert missing["padding_modes"]["conv"] == ["SAME_LOWER"]


def test_onnxruntime_is_forward_only_and_finds_its_missing_kernels():
    pytest.importorskip("onnxruntime")
    adapter = load("onnxruntime")
    assert adapter.capabilities.gradients == frozenset()
    assert "bfloat16" not in adapter.capabilities.dtypes
    assert "no float64 Conv kernel" in adapter.supports("conv", dtype="float64")
    assert adapter.supports("conv", dtype="float32") is True
