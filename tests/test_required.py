"""A test that needs what is missing skips on a developer's machine and fails under CI."""

import pytest

import required


@pytest.mark.parametrize("variable", ["CI", "CNNSPEC_REQUIRE_SOMETHING"])
def test_what_ci_requires_fails_instead_of_skipping(monkeypatch, variable):
    for name in ("CI", "CNNSPEC_REQUIRE_SOMETHING"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, "1")
    with pytest.raises(pytest.fail.Exception, match=f"no such thing, and {variable} is set"):
        required.missing("no such thing", "CNNSPEC_REQUIRE_SOMETHING")
    with pytest.raises(pytest.fail.Exception, match="cannot be imported"):
        required.module("no_such_module_cnnspec", "CNNSPEC_REQUIRE_SOMETHING")


def test_what_nothing_requires_is_skipped_saying_why(monkeypatch):
    for name in ("CI", "CNNSPEC_REQUIRE_SOMETHING"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(pytest.skip.Exception, match="no such thing"):
        required.missing("no such thing", "CNNSPEC_REQUIRE_SOMETHING")
    assert required.module("json", "CNNSPEC_REQUIRE_SOMETHING").dumps([]) == "[]"
