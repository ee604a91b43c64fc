"""Where the inputs are: file names and suffixes, without numpy, pandas or Arrow (the
command line uses them before it imports those, cli._start_hashing_inputs)."""

from __future__ import annotations

from pathlib import Path

from jiuzhu_sim.exceptions import UserInputError

SUFFIXES = (".parquet", ".csv", ".xlsx")

AUDIT_INPUTS = ("roster", "payments", "deaths", "guardians", "staff_relatives", "medical",
                "disability", "monitoring", "households", "assistance", "alerts")
"""The audit's inputs (CONTRACT §5) in the order they are read: the keys of
``audit.io.SCHEMAS`` (tests/test_manifest.py)."""


def find_input(folder: Path | str, base: str, required: bool = True) -> Path | None:
    """The file named ``base`` with a known suffix in ``folder`` (Parquet, CSV, xlsx)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserInputError("input folder not found", file=str(folder))
    for suffix in SUFFIXES:
        candidate = folder / f"{base}{suffix}"
        if candidate.is_file():
            return candidate
    if required:
        raise UserInputError(f"required input '{base}' not found (looked for "
                             f"{', '.join(base + s for s in SUFFIXES)})", file=str(folder))
    return None


def audit_input_files(folder: Path | str) -> list[Path]:
    """The files an audit of ``folder`` reads, in order (none when it is not a folder)."""
    if not Path(folder).is_dir():
        return []
    return [p for name in AUDIT_INPUTS if (p := find_input(folder, name, required=False))]
