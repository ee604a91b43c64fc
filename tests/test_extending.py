"""docs/extending.md: every worked example runs (a benefit rule, a region, an audit check)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "extending.md"


def _sections() -> dict[str, list[str]]:
    """``## `` section title → its ```python blocks, in order."""
    out: dict[str, list[str]] = {}
    for part in re.split(r"^## ", DOC.read_text(encoding="utf-8"), flags=re.M)[1:]:
        title = part.splitlines()[0].strip()
        out[title] = re.findall(r"^```python\n(.*?)^```", part, flags=re.M | re.S)
    return out


def test_the_doc_has_the_three_examples():
    sections = _sections()
    assert list(sections) == ["1. A benefit rule", "2. A region", "3. An audit check"]
    assert all(len(blocks) >= 3 for blocks in sections.values())


@pytest.mark.parametrize("title", list(_sections()))
def test_worked_example_runs(title, tmp_path):
    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    namespace = {"PARAMS": params, "TMP": scratch, "__name__": "extending_example"}
    for n, block in enumerate(_sections()[title], start=1):
        exec(compile(block, f"{DOC.name} [{title}] block {n}", "exec"), namespace)  # noqa: S102
