"""Protocol versions: an adapter written for an older protocol gets what later versions added as
`unsupported` ("added in protocol N"), never called; a built-in declares the current one."""

import pytest

from cnnspec.adapters import AdapterError, capabilities, load, protocol
from cnnspec.adapters.numpy_adapter import NumpyAdapter
from cnnspec.conformance.runner import run

NEW_IN_2 = protocol.ADDED_IN[2]["gradients"]


class WrittenForProtocolOne(NumpyAdapter):
    """A library adapter from before protocol 2 (no protocol_version): its autodiff has none of
    the gradients protocol 2 added, and calling one raises, as keras.ops did."""

    name = "protocol-one"
    protocol_version = None

    def vjp(self, op, args, cotangent, **params):
        if op in NEW_IN_2:
            raise AttributeError(f"module 'mylib.ops' has no attribute {op!r}")
        return super().vjp(op, args, cotangent, **params)


class FrozenToday(NumpyAdapter):
    """An adapter written for today's protocol, kept as it is while the protocol grows."""

    name = "frozen-today"
    protocol_version = protocol.PROTOCOL_VERSION


def rows(adapter, *prefixes):
    return {row.id: row for row in run("tests:" + adapter.name, adapter=adapter,
                                       prefixes=list(prefixes)).rules}


def test_an_adapter_without_a_version_gets_protocol_twos_gradients_as_unsupported():
    got = rows(WrittenForProtocolOne(), "grad.pixel_shuffle", "grad.upsample.nearest",
               "grad.adaptive_pool", "grad.tanh")
    for rule_id in ("grad.pixel_shuffle", "grad.upsample.nearest", "grad.adaptive_pool"):
        assert got[rule_id].status == "unsupported", (rule_id, got[rule_id].message)
        assert "added in protocol 2; the adapter was written for protocol 1" in (
            got[rule_id].message or ""), got[rule_id].message
    assert got["grad.tanh"].status == "pass"  # what protocol 1 had is checked as ever
    declared = capabilities.of(WrittenForProtocolOne())
    assert set(NEW_IN_2).isdisjoint(declared.gradients) and set(NEW_IN_2) <= declared.ops


def test_an_adapter_frozen_at_todays_protocol_meets_a_future_op_as_unsupported(monkeypatch):
    """The protocol grows by a version in which (as if they were new) elu and tanh's gradient
    arrive: the frozen adapter's rows for them are unsupported, naming that version; its
    other rows and the current protocol's adapters are as before."""
    future = protocol.PROTOCOL_VERSION + 1
    monkeypatch.setattr(protocol, "PROTOCOL_VERSION", future)
    monkeypatch.setattr(protocol, "ADDED_IN", {**protocol.ADDED_IN,
                                               future: {"ops": ("elu",), "gradients": ("tanh",)}})
    got = rows(FrozenToday(), "activation.elu", "grad.tanh", "activation.relu")
    reason = f"added in protocol {future}; the adapter was written for protocol {future - 1}"
    assert got["activation.elu"].status == got["grad.tanh"].status == "unsupported"
    assert reason in got["activation.elu"].message and reason in got["grad.tanh"].message
    assert got["activation.relu"].status == "pass"
    current = type("Current", (NumpyAdapter,), {"protocol_version": future})()
    assert capabilities.of(current) == capabilities.EVERYTHING


def test_the_built_in_adapters_and_the_template_declare_the_current_protocol():
    from cnnspec.adapters import template
    from cnnspec.adapters.registry import BUILTIN

    assert template.MyLibrary.protocol_version == protocol.PROTOCOL_VERSION
    for name, (target, *_) in BUILTIN.items():
        module, _, attribute = target.partition(":")
        try:
            cls = getattr(__import__(module, fromlist=[attribute]), attribute)
        except ImportError:
            continue  # the framework is not installed: its adapter cannot be imported
        assert cls.protocol_version == protocol.PROTOCOL_VERSION, name


@pytest.mark.parametrize("version", [0, 99, "2", True])
def test_a_version_this_cnnspec_does_not_know_is_refused_in_one_line(version):
    adapter = type("Odd", (NumpyAdapter,), {"protocol_version": version})()
    with pytest.raises(ValueError, match=rf"protocol_version={version!r}: this cnnspec knows "
                                         rf"protocols 1 to {protocol.PROTOCOL_VERSION}"):
        capabilities.of(adapter)


def test_loading_an_adapter_of_an_unknown_version_names_it(tmp_path):
    path = tmp_path / "future.py"
    path.write_text("from cnnspec.adapters.numpy_adapter import NumpyAdapter\n"
                    "class Future(NumpyAdapter):\n    protocol_version = 99\n")
    with pytest.raises(AdapterError, match="protocol_version=99: this cnnspec knows"):
        load(f"{path}:Future")


def test_the_adapter_guide_tabulates_every_version():
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[1] / "docs" / "writing-an-adapter.md").read_text()
    for version, added in protocol.ADDED_IN.items():
        row = next(line for line in guide.splitlines() if line.startswith(f"| {version} |"))
        assert all(f"`{op}`" in row for op in (*added["ops"], *added["gradients"])), row
    assert f"| {protocol.PROTOCOL_VERSION} |" in guide
