"""Administrative-process model: from entitlements to enrollment (CONTRACT §4 ``enrolled``).

Rules say who is entitled; the process decides who is actually on the roll. Three
mechanisms, all parameters in ``params/national/process.yaml`` (assumptions with ranges):

1. **Measurement error** (核查误差): the assessor sees assessed per-capita income ×
   a lognormal factor with mean 1 and log-sd ``process.income_measurement_sigma``.
   A household is *measured eligible* when it is single-person type (identified by a
   disability certificate or diagnosis, not by income), or its assets pass and measured
   income < standard.
2. **Take-up** (申请): a measured-eligible household is enrolled with probability
   ``process.take_up_probability``.
3. **Discretion** (裁量, 人情保): a measured-ineligible household whose assets pass and whose
   measured income is < standard × (1 + ``process.discretion_band``) is enrolled with
   probability ``process.discretion_inclusion_probability``.
4. **Gradual exit** (渐退): a household in its grace period (``gradual_exit`` in
   households_out) is already on the roll — it was paid ``previous_dibao_benefit`` — so it
   stays enrolled without a new application or income test.

Random numbers are hash-based per household (splitmix64 of the household id's hash and a
key drawn from ``rng``): the draw is deterministic per seed and does not depend on row order.
Rules themselves never draw random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_HASH_KEY = "jiuzhu_sim_proc1"  # 16 characters, required by pandas' hash_array
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclass
class ProcessDraw:
    enrolled: np.ndarray  # bool per household
    measured_per_capita_income: np.ndarray  # what the assessor saw (yuan/person/month)
    measured_eligible: np.ndarray  # bool


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def household_hashes(household_id) -> np.ndarray:
    """uint64 hash of each household ID (as text): the per-household part of every draw.

    pandas' ``hash_pandas_object`` of the text (SipHash-2-4 of each cell's UTF-8 bytes
    under ``_HASH_KEY``, then pandas' bit mix); IDs of one byte width (8 or more bytes, as
    Arrow holds them after the CSV reader) are hashed by :func:`_siphash_fixed_width` in
    numpy instead, the same numbers without a Python string per ID and without the GIL
    (tests/test_process_hashes.py)."""
    text = pd.Series(household_id).astype("str")
    hashes = _fixed_width_hashes(text)
    if hashes is None:
        # categorize=False: the same hashes (pandas' categorize only hashes each distinct
        # value once), without factorizing a million distinct IDs first
        return pd.util.hash_pandas_object(text, index=False, hash_key=_HASH_KEY,
                                          categorize=False).to_numpy().astype(np.uint64)
    with np.errstate(over="ignore"):  # pandas' mix of the 64 bits (hashing._hash_ndarray)
        hashes ^= hashes >> np.uint64(30)
        hashes *= np.uint64(0xBF58476D1CE4E5B9)
        hashes ^= hashes >> np.uint64(27)
        hashes *= np.uint64(0x94D049BB133111EB)
        hashes ^= hashes >> np.uint64(31)
    return hashes


def _fixed_width_hashes(text: pd.Series) -> np.ndarray | None:
    """SipHash-2-4 (pandas' key) of every cell of an Arrow-backed text Series whose cells
    all have one UTF-8 width of at least 8 bytes, read in place from Arrow's buffers; None
    otherwise (other widths, a missing cell, not Arrow-backed)."""
    from jiuzhu_sim.io import fixed_width_text

    fixed = fixed_width_text(text)
    if fixed is None:
        return None
    width, parts = fixed
    key = _HASH_KEY.encode("utf-8")
    return np.concatenate([_siphash_fixed_width(data, start, width, n, key)
                           for data, start, n in parts])


# SipHash-2-4's initial state constants ("somepseudorandomlygeneratedbytes")
_SIP_INIT = (0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573)
# rows hashed per pass (the state arrays stay in the CPU cache)
_SIP_ROWS = 1 << 16


def _rotate_left(v: np.ndarray, bits: int, scratch: np.ndarray) -> None:
    np.left_shift(v, np.uint64(bits), out=scratch)
    np.right_shift(v, np.uint64(64 - bits), out=v)
    np.bitwise_or(v, scratch, out=v)


def _sip_round(v0, v1, v2, v3, scratch) -> None:
    np.add(v0, v1, out=v0)
    _rotate_left(v1, 13, scratch)
    np.bitwise_xor(v1, v0, out=v1)
    _rotate_left(v0, 32, scratch)
    np.add(v2, v3, out=v2)
    _rotate_left(v3, 16, scratch)
    np.bitwise_xor(v3, v2, out=v3)
    np.add(v0, v3, out=v0)
    _rotate_left(v3, 21, scratch)
    np.bitwise_xor(v3, v0, out=v3)
    np.add(v2, v1, out=v2)
    _rotate_left(v1, 17, scratch)
    np.bitwise_xor(v1, v2, out=v1)
    _rotate_left(v2, 32, scratch)


def _siphash_fixed_width(data: np.ndarray, start: int, width: int, n: int,
                         key: bytes) -> np.ndarray:
    """SipHash-2-4 with the 16-byte ``key`` of ``n`` messages of ``width`` (≥ 8) bytes each,
    stored back to back in ``data`` from byte ``start``: the reference algorithm (8-byte
    little-endian words, the last partial word with the length in its top byte), on all
    messages at once."""
    k0, k1 = int.from_bytes(key[:8], "little"), int.from_bytes(key[8:16], "little")
    out = np.empty(n, dtype=np.uint64)
    tail = width % 8
    length_byte = np.uint64((width & 0xFF) << 56)
    for low in range(0, n, _SIP_ROWS):
        m = min(_SIP_ROWS, n - low)
        base = start + low * width

        def word(at: int, m=m, base=base) -> np.ndarray:  # from byte ``at`` of each, 8 bytes
            return np.ndarray((m,), dtype="<u8", buffer=data, offset=base + at,
                              strides=(width,))

        v0, v1 = np.full(m, k0 ^ _SIP_INIT[0], np.uint64), np.full(m, k1 ^ _SIP_INIT[1], np.uint64)
        v2, v3 = np.full(m, k0 ^ _SIP_INIT[2], np.uint64), np.full(m, k1 ^ _SIP_INIT[3], np.uint64)
        scratch = np.empty(m, dtype=np.uint64)
        # the full words, then the last: the bytes after them (read as the top of the
        # message's last 8 bytes, shifted down) and the length
        last = (word(width - 8) >> np.uint64(8 * (8 - tail)) if tail
                else np.zeros(m, dtype=np.uint64)) | length_byte
        for block in [*(word(8 * j) for j in range(width // 8)), last]:
            np.bitwise_xor(v3, block, out=v3)
            _sip_round(v0, v1, v2, v3, scratch)
            _sip_round(v0, v1, v2, v3, scratch)
            np.bitwise_xor(v0, block, out=v0)
        np.bitwise_xor(v2, np.uint64(0xFF), out=v2)
        for _ in range(4):
            _sip_round(v0, v1, v2, v3, scratch)
        hashes = out[low:low + m]
        np.bitwise_xor(v0, v1, out=hashes)
        hashes ^= v2
        hashes ^= v3
    return out


def uniforms_from_hashes(hashes: np.ndarray, key: int, streams: int) -> np.ndarray:
    """(streams, n) uniforms in (0, 1) from :func:`household_hashes` and a key."""
    base = _splitmix64(hashes ^ np.uint64(key))
    out = np.empty((streams, len(hashes)), dtype="float64")
    for s in range(streams):
        with np.errstate(over="ignore"):
            bits = _splitmix64(base + np.uint64(s + 1) * np.uint64(0xD1B54A32D192ED03))
        out[s] = ((bits >> np.uint64(11)).astype("float64") + 0.5) / float(1 << 53)
    return out


def household_uniforms(household_id, key: int, streams: int) -> np.ndarray:
    """(streams, n) uniforms in (0, 1), a pure function of (household id, key, stream)."""
    return uniforms_from_hashes(household_hashes(household_id), key, streams)


def process_key(rng: np.random.Generator) -> int:
    """The run's key for :func:`uniforms_from_hashes`: one draw from the seeded ``rng``."""
    return int(rng.integers(0, 2**63 - 1))


def draw_process_arrays(uniforms: np.ndarray, assessed_per_capita_income: np.ndarray,
                        standard: np.ndarray, single: np.ndarray, assets_pass: np.ndarray,
                        has_unit: np.ndarray, gradual_exit: np.ndarray, params) -> ProcessDraw:
    """The process model on arrays (see the module doc); ``uniforms`` is (4, n) from
    :func:`uniforms_from_hashes`. Variants of one scenario share the uniforms (common
    random numbers)."""
    take_up = float(params["process.take_up_probability"])
    sigma = float(params["process.income_measurement_sigma"])
    band = float(params["process.discretion_band"])
    p_disc = float(params["process.discretion_inclusion_probability"])
    u = uniforms
    # Box–Muller normal from two uniforms; mean-one lognormal factor
    z = np.sqrt(-2.0 * np.log(u[0])) * np.cos(2.0 * np.pi * u[1])
    factor = np.exp(sigma * z - 0.5 * sigma * sigma)
    measured = assessed_per_capita_income * factor
    measured_eligible = single | gradual_exit | (assets_pass & has_unit & (measured < standard))
    in_band = (~measured_eligible & assets_pass & has_unit
               & (measured < standard * (1.0 + band)))
    enrolled = (gradual_exit | (measured_eligible & (u[2] < take_up))
                | (in_band & (u[3] < p_disc)))
    return ProcessDraw(enrolled=enrolled, measured_per_capita_income=measured,
                       measured_eligible=measured_eligible)


def draw_process(households_out: pd.DataFrame, params, rng: np.random.Generator) -> ProcessDraw:
    """Measured income, measured eligibility and enrollment per household (see module doc).

    ``households_out`` needs: household_id, assessed_per_capita_income, dibao_standard,
    dibao_type, assets_pass, assessed_members; optional gradual_exit.
    """
    u = household_uniforms(households_out["household_id"], process_key(rng), 4)
    n = len(households_out)
    return draw_process_arrays(
        u, households_out["assessed_per_capita_income"].to_numpy(dtype="float64"),
        households_out["dibao_standard"].to_numpy(dtype="float64"),
        households_out["dibao_type"].to_numpy(dtype=object) == "single",
        households_out["assets_pass"].to_numpy(dtype=bool),
        households_out["assessed_members"].to_numpy() > 0,
        (households_out["gradual_exit"].to_numpy(dtype=bool)
         if "gradual_exit" in households_out else np.zeros(n, dtype=bool)), params)


def draw_enrollment(households_out: pd.DataFrame, params, rng: np.random.Generator) -> np.ndarray:
    """Bool per household: enrolled by the process model (see :func:`draw_process`)."""
    return draw_process(households_out, params, rng).enrolled
