"""Report notebooks are committed clean: no outputs, one cell tagged ``parameters``."""

from __future__ import annotations

import ast

import nbformat
import pytest

from jiuzhu_sim import report

NOTEBOOKS = sorted(report.notebook_dir().glob("*.ipynb"))
REPORT_NOTEBOOKS = [p for p in NOTEBOOKS if p.name in report.NOTEBOOKS.values()]
# the explorers (jiuzhu explore, docs/explore.md) declare their own parameters
EXPLORE_PARAMETERS = {"explore_scenarios.ipynb": {"region", "date", "households", "seed",
                                                  "save_dir"},
                      "explore_audit.ipynb": {"audit_dir", "mask", "export_dir"}}


def test_the_three_report_notebooks_exist():
    names = {p.name for p in NOTEBOOKS}
    assert set(report.NOTEBOOKS.values()) <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs_or_execution_counts(path):
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i} has outputs"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"
    assert "papermill" not in nb.metadata, f"{path.name} was saved after a papermill run"
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)


def _parameter_names(path) -> set[str]:
    nb = nbformat.read(str(path), as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    assert nb.metadata["kernelspec"]["name"] == report.KERNEL_NAME
    return {t.id for node in ast.parse(cells[0].source).body if isinstance(node, ast.Assign)
            for t in node.targets}


@pytest.mark.parametrize("path", REPORT_NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_one_parameters_cell_with_every_report_parameter(path):
    assert set(report.PARAMETER_TYPES) <= _parameter_names(path)


def test_every_notebook_is_a_report_or_an_explorer():
    assert {p.name for p in NOTEBOOKS} == (set(report.NOTEBOOKS.values())
                                           | set(EXPLORE_PARAMETERS))


@pytest.mark.parametrize("name", sorted(EXPLORE_PARAMETERS))
def test_explorer_notebook_has_one_parameters_cell_with_its_parameters(name):
    assert _parameter_names(report.notebook_dir() / name) == EXPLORE_PARAMETERS[name]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin(path):
    """Narration over library calls: no function or class definitions in code cells."""
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        defs = [n for n in ast.walk(tree)
                if isinstance(n, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)]
        assert not defs, f"{path.name}: move {defs[0].name} into src/jiuzhu_sim"
