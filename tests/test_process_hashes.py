"""household_hashes: IDs of one width are hashed in numpy straight from Arrow's buffers;
the numbers must be pandas' (the process model's draws, and so every simulate output, hang
on them). pandas' own hash_pandas_object is the reference; SipHash-2-4 itself is checked
against the example of its paper."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from jiuzhu_sim.population.process import (
    _HASH_KEY,
    _fixed_width_hashes,
    _siphash_fixed_width,
    household_hashes,
)


def _pandas(ids) -> np.ndarray:
    return pd.util.hash_pandas_object(pd.Series(ids).astype("str"), index=False,
                                      hash_key=_HASH_KEY, categorize=False
                                      ).to_numpy().astype(np.uint64)


def test_siphash_is_the_papers_example():
    """Aumasson & Bernstein, "SipHash: a fast short-input PRF", appendix A: key 00 01 … 0f,
    message 00 01 … 0e (15 bytes) → a129ca6149be45e5. Three copies back to back: three
    equal answers."""
    message = bytes(range(15))
    data = np.frombuffer(message * 3, dtype=np.uint8)
    out = _siphash_fixed_width(data, 0, 15, 3, bytes(range(16)))
    assert [hex(int(h)) for h in out] == ["0xa129ca6149be45e5"] * 3


@pytest.mark.parametrize("width", [8, 9, 15, 16, 17, 18, 23, 24, 25, 40])
def test_fixed_width_ids_hash_as_pandas_hashes_them(width):
    """Every width class (a whole number of words, or a tail of 1–7 bytes), many rows
    (more than one pass of rows), read from several Arrow chunks as the CSV reader leaves
    them."""
    rng = np.random.default_rng(width)
    alphabet = np.frombuffer(b"0123456789ABCDEFXxH", dtype=np.uint8)
    ids = rng.choice(alphabet, (70_000, width)).view(f"S{width}").ravel().astype(str).tolist()
    chunked = pa.chunked_array([pa.array(ids[:30_000], pa.large_string()),
                                pa.array(ids[30_000:], pa.large_string())])
    series = pd.Series(pd.arrays.ArrowStringArray(chunked))
    assert _fixed_width_hashes(series.astype("str")) is not None  # the numpy path ran
    assert (household_hashes(series) == _pandas(ids)).all()


def test_a_sliced_arrow_array_hashes_from_its_own_offset():
    ids = [f"H35058{i:09d}" for i in range(1000)]
    sliced = pa.array(ids, pa.large_string()).slice(137, 500)
    series = pd.Series(pd.arrays.ArrowStringArray(sliced))
    assert (household_hashes(series) == _pandas(ids[137:637])).all()


@pytest.mark.parametrize("ids", [
    ["户1000001", "户1000002"],                         # Chinese: 3 + 7 bytes, one width
    ["H1", "H22", "H333"],                              # mixed widths: pandas
    ["short", "shrt2"],                                 # under 8 bytes: pandas
    ["350581198001010035", None, "35058119800101003x"],  # a missing ID: pandas
    [350581198001010035, 350581198001010036],           # numbers, hashed as their text
])
def test_other_ids_hash_as_pandas_hashes_them(ids):
    assert (household_hashes(pd.Series(ids)) == _pandas(ids)).all()
