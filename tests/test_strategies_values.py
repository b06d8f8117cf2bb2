"""Values are drawn through Hypothesis (issue 18, item 4): no seeded NumPy generator in the
strategies or the checks, every element a Hypothesis choice, so that a failing example shrinks
element by element; each style keeps its domain (ranges, ties, specials, distinctness)."""

import itertools
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import cnnspec.conformance
from cnnspec.conformance import strategies as S

SEEDED = re.compile(r"default_rng|\bnp\.random\b|\bnumpy\.random\b|RandomState|"
                    r"from numpy import random")
QUICK = settings(max_examples=60, database=None, deadline=None)


def seeded_generators(folder: Path) -> list[str]:
    """'path:line: text' for each line of `folder`'s Python files that reaches for NumPy's
    random generators."""
    return [f"{path.relative_to(folder)}:{number}: {line.strip()}"
            for path in sorted(folder.rglob("*.py"))
            for number, line in enumerate(path.read_text().splitlines(), 1)
            if SEEDED.search(line)]


def test_the_installed_strategies_and_checks_use_no_numpy_generator():
    folder = Path(cnnspec.conformance.__file__).parent
    assert (folder / "strategies.py").exists() and (folder / "checks" / "values.py").exists()
    assert seeded_generators(folder) == []


@pytest.mark.parametrize("planted", ["    rng = np.random.default_rng(seed)",
                                     "    x = numpy.random.normal(size=3)",
                                     "    state = RandomState(0)",
                                     "from numpy import random"])
def test_a_planted_generator_is_found(tmp_path, planted):
    copy = tmp_path / "conformance"
    shutil.copytree(Path(cnnspec.conformance.__file__).parent, copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    checks = copy / "checks" / "stability.py"
    checks.write_text(checks.read_text() + f"\n\ndef planted():\n{planted}\n")
    found = seeded_generators(copy)
    assert len(found) == 1 and found[0].startswith("checks/stability.py:")


def minimal(strategy, condition, max_examples=500):
    """The example Hypothesis shrinks to among those where `condition` holds, as the
    conformance runner finds counterexamples (a failing @given test)."""
    found = []

    @settings(database=None, max_examples=max_examples, deadline=None,
              phases=[Phase.generate, Phase.shrink])
    @given(strategy)
    def fails_where_the_condition_holds(value):
        if condition(value):
            found.append(value)
            raise AssertionError

    with pytest.raises(AssertionError):
        fails_where_the_condition_holds()
    return found[-1]  # the shrunk example, run last


def drawn(shape, dtype, style):
    return st.composite(lambda draw: S.values(draw, shape, dtype, style))()


@QUICK
@given(st.data())
def test_each_style_keeps_its_domain(data):
    shape = data.draw(st.tuples(st.integers(1, 3), st.integers(1, 40)))
    integers = data.draw(drawn(shape, "float64", "integers"))
    assert set(np.unique(integers)) <= set(range(-4, 5))
    assert set(np.unique(data.draw(drawn(shape, "float64", "ties")))) <= {-1.0, 0.0, 2.0}
    infinities = data.draw(drawn(shape, "float64", "infinities"))
    assert set(np.unique(infinities)) <= {-np.inf, -1.0, 0.0, 2.0, np.inf}
    normal = data.draw(drawn(shape, "float32", "normal"))
    assert normal.dtype == np.float32 and np.abs(normal).max() <= S.NORMAL_TOP
    wide = data.draw(drawn(shape, "float64", "wide"))
    assert np.abs(wide).max() <= S.NORMAL_TOP * 2.0**S.WIDE and np.isfinite(wide).all()


@pytest.mark.parametrize("style, wanted", [
    ("integers", lambda a: set(np.unique(a)) == set(range(-4, 5))),
    ("ties", lambda a: set(np.unique(a)) == {-1.0, 0.0, 2.0}),
    ("infinities", lambda a: {-np.inf, np.inf, -1.0, 2.0} <= set(np.unique(a))),
    ("normal", lambda a: len(np.unique(a)) == a.size and (a != np.round(a)).all()
     and np.abs(a).max() > 3),
    ("wide", lambda a: np.abs(a).max() > 64 and 0 < np.abs(a[a != 0]).min() < 0.1),
])
def test_each_style_reaches_its_values(style, wanted):
    minimal(drawn((30,), "float64", style), wanted, max_examples=2000)


@pytest.mark.parametrize("style", ["integers", "normal", "wide", "ties"])
def test_a_failing_array_shrinks_to_one_non_zero_element(style):
    """Any array with an element of magnitude 1 or more shrinks to one such element among
    zeros: each element shrinks on its own (a seeded array shrinks only as a whole)."""
    found = minimal(drawn((3, 8), "float32", style), lambda a: (np.abs(a) >= 1).any())
    assert np.count_nonzero(found) == 1 and np.abs(found).max() in (1.0, 2.0)


def test_max_pool_inputs_shrink_to_minus_infinity_alone_where_needed():
    found = minimal(drawn((12,), "float64", "infinities"), lambda a: np.isneginf(a).sum() >= 2)
    assert np.isneginf(found).sum() == 2 and np.count_nonzero(found[np.isfinite(found)]) == 0


@QUICK
@given(st.data())
def test_distinct_values_have_no_ties_in_a_dtype_that_holds_them(data):
    n = data.draw(st.integers(1, 300))
    for dtype in (np.float16, np.float64):
        x = data.draw(st.composite(lambda draw, d=dtype: S.distinct(draw, np.zeros(n, d)))())
        assert x.dtype == dtype and len(np.unique(x)) == n
        assert sorted(x.tolist()) == list(range(-(n // 2), n - n // 2))
    big = data.draw(st.composite(lambda draw: S.distinct(draw, np.zeros(300, "bfloat16")))())
    assert big.dtype == np.float32 and len(np.unique(big)) == 300


def test_every_ordering_is_reachable_and_the_simplest_is_the_identity():
    orderings = st.composite(lambda draw: tuple(S.orderings(draw, 3)))()
    for permutation in itertools.permutations(range(3)):
        minimal(orderings, lambda order, p=permutation: order == p, max_examples=2000)
    assert minimal(orderings, lambda order: True) == (0, 1, 2)


def test_codes_take_one_choice_per_array():
    """An array of any size is one Hypothesis choice (a byte string): drawing stays as cheap as
    the seeded generator it replaces."""
    from hypothesis.internal.conjecture.data import ConjectureData

    data = ConjectureData.for_choices([bytes(range(200)) * 3])
    got = data.draw(st.composite(lambda draw: S.codes(draw, 200, 3))())
    assert len(data.choices) == 1 and got[0] == 0x000102 and got[1] == 0x030405


def test_an_array_whose_shape_shrinks_keeps_its_elements():
    """The shape and the elements shrink together: the smallest array whose third element is
    not 0 has three elements, two of them 0."""
    arrays = st.composite(lambda draw: S.codes(draw, draw(st.integers(1, 60)), 3))()
    found = minimal(arrays, lambda a: a.size >= 3 and a[2] != 0)
    assert found.tolist() == [0, 0, 1]
