"""jiuzhu_sim.setops gives numpy's answers (it exists only because numpy 2.3+ takes a slow
hash path for plain ``np.unique`` and the set operations built on it)."""

import numpy as np
import pytest

from jiuzhu_sim import setops

RNG = np.random.default_rng(7)
FLOATS = RNG.normal(size=500)
FLOATS[::9] = np.nan
CASES = [
    np.array([], dtype=np.int64),
    np.array([3]),
    np.array([5, 1, 5, 2, 1, 9, -4, 0, 0]),
    RNG.integers(-50, 50, 1000),
    RNG.integers(0, 10**15, 2000),
    RNG.integers(0, 200, 300).astype(np.uint16),
    np.array([True, False, True]),
    FLOATS,
    np.array(["乙", "甲", "乙", "", "a"], dtype=object),
    np.array(["b", "a", "b"]),
    np.array(["2024-02-01", "2024-01-01", "2024-02-01"], dtype="datetime64[D]"),
    np.array(["2024-02-01", "NaT", "2024-01-01", "NaT"], dtype="datetime64[D]"),
]


@pytest.mark.parametrize("a", CASES, ids=range(len(CASES)))
def test_unique_is_numpys(a):
    got, want = setops.unique(a), np.unique(a)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


PAIRS = [
    (np.array([1, 2, 3, 4, 4]), np.array([4, 9, 1])),
    (np.array([], dtype=np.int64), np.array([1, 2])),
    (np.array([1, 2]), np.array([], dtype=np.int64)),
    (RNG.integers(0, 10**12, 3000), RNG.integers(0, 10**12, 50)),
    (RNG.integers(0, 40, 3000), RNG.integers(0, 40, 100)),   # pandas' hash path (> 16)
    (RNG.integers(0, 40, 3000).astype(np.int32), RNG.integers(0, 40, 100)),
    (np.array([0.0, 1.0, np.nan, 2.0]), np.array([0.0, 1.0])),
    (np.array(["a", "b", "c"], dtype=object), ["b", "z"]),
]


@pytest.mark.parametrize("a,b", PAIRS, ids=range(len(PAIRS)))
def test_set_operations_are_numpys(a, b):
    b = np.asarray(b)
    np.testing.assert_array_equal(setops.isin(a, b), np.isin(a, b))
    np.testing.assert_array_equal(setops.isin(a, b, invert=True), np.isin(a, b, invert=True))
    np.testing.assert_array_equal(setops.union1d(a, b), np.union1d(a, b))
    np.testing.assert_array_equal(setops.setdiff1d(a, b), np.setdiff1d(a, b))
    np.testing.assert_array_equal(setops.intersect1d(a, b), np.intersect1d(a, b))


def test_the_package_calls_setops_not_numpys_hashing_set_operations():
    """A plain ``np.unique(x)`` (no ``return_*``), ``np.isin``, ``np.in1d``, ``np.union1d``,
    ``np.setdiff1d`` or ``np.intersect1d`` in the package is the slow hash path on numpy 2.3+:
    it must go through :mod:`jiuzhu_sim.setops`."""
    import re
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src" / "jiuzhu_sim"
    offenders = []
    for path in src.rglob("*.py"):
        if path.name == "setops.py":
            continue
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"np\.(unique|isin|in1d|union1d|setdiff1d|intersect1d)\(", text):
            depth, j = 1, m.end()
            while depth and j < len(text):
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
            call = text[m.start():j]
            if m.group(1) == "unique" and "return_" in call:
                continue
            offenders.append(f"{path.relative_to(src)}:{text.count(chr(10), 0, m.start()) + 1}")
    assert not offenders, offenders


@pytest.mark.parametrize("a", [np.array([], dtype=np.int64), np.array([4]),
                               np.array([1, 1, 2, 5, 5, 5]), np.sort(RNG.integers(0, 30, 500))])
def test_sorted_counts_is_numpys_unique_with_counts(a):
    values, counts = setops.sorted_counts(a)
    want_values, want_counts = np.unique(a, return_counts=True)
    np.testing.assert_array_equal(values, want_values)
    np.testing.assert_array_equal(counts, want_counts)
