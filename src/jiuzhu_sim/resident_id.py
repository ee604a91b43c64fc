"""Resident ID check character (公民身份号码, GB 11643-1999), shared by the population
generator, the synthetic audit county and the audit's ``invalid_id`` check."""

from __future__ import annotations

import numpy as np

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK_CHARS = np.frombuffer(b"10X98765432", dtype=np.uint8)


def check_codes(digits: np.ndarray) -> np.ndarray:
    """ASCII codes of the check character for an (n, 17) array of digits: Σ dᵢwᵢ mod 11."""
    total = np.zeros(len(digits), dtype=np.int64)
    for i, weight in enumerate(ID_WEIGHTS):  # column by column: no (n, 17) int64 temporary
        total += weight * digits[:, i]
    return CHECK_CHARS[total % 11]


def check_codes_of_bodies(bodies: np.ndarray) -> np.ndarray:
    """The same for 17-digit bodies held as int64 numbers."""
    total = np.zeros(len(bodies), dtype=np.int64)
    rest = bodies.astype(np.int64).copy()
    for weight in ID_WEIGHTS[::-1]:
        total += (rest % 10) * weight
        rest //= 10
    return CHECK_CHARS[total % 11]


def check_character(first17: str) -> str:
    """The check character of 17 digits given as text (for tests and tools)."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return chr(CHECK_CHARS[total % 11])
