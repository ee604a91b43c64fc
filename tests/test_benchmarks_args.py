"""The anchored benchmark scripts parse their arguments (the benchmarks themselves are not
run by the tests: they take minutes and build a virtual environment)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str):
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def test_simulate_benchmark_arguments():
    bench = _load("bench_simulate_csv")
    args = bench.parse_args([])
    assert args.households == 1_000_000 and args.repeat == 3
    args = bench.parse_args(["--households", "5000", "--repeat", "1", "--venv", "/tmp/v"])
    assert (args.households, args.repeat, str(args.venv)) == (5000, 1, "/tmp/v")
    with pytest.raises(SystemExit):
        bench.parse_args(["--households", "0"])


def test_audit_benchmark_arguments():
    bench = _load("bench_audit_duckdb")
    args = bench.parse_args([])
    assert args.people == 200_000 and args.repeat == 3
    assert bench.parse_args(["--people", "20000"]).people == 20_000
    with pytest.raises(SystemExit):
        bench.parse_args(["--repeat", "0"])


def test_province_benchmark_keeps_and_reuses_its_data(tmp_path):
    bench = _load("bench_audit_province")
    args = bench.parse_args([])
    assert args.rows == 20_000_000 and args.data is None and not args.linkage_only
    args = bench.parse_args(["--rows", "2000000", "--data", str(tmp_path), "--linkage-only"])
    assert (args.rows, args.data, args.linkage_only) == (2_000_000, tmp_path, True)
    with pytest.raises(SystemExit):  # one run or the other, not neither
        bench.parse_args(["--no-linkage", "--linkage-only"])
    # nothing generated there yet: generate; a province of another size: refused
    assert bench._reuse(tmp_path, 2_000_000) is None
    (tmp_path / "payments.parquet").write_bytes(b"")
    # 2,000,000 rows / 12 months / 4 counties / 0.92 payments per person-month → 45,290
    (tmp_path / "people_per_county.txt").write_text("45290")
    with pytest.raises(SystemExit):
        bench._reuse(tmp_path, 5_000_000)


def test_output_comparison_arguments_and_verdicts(tmp_path):
    bench = _load("compare_outputs")
    args = bench.parse_args(["--base", "e07aa98"])
    assert (args.base, args.people, args.households) == ("e07aa98", 20_000, 50_000)
    with pytest.raises(SystemExit):  # the earlier commit is required
        bench.parse_args([])
    import json
    import zipfile

    base, new = tmp_path / "base", tmp_path / "new"
    for folder, cell, seconds in ((base, "1", 3.2), (new, "1", 4.7)):
        folder.mkdir()
        (folder / "findings.csv").write_text(f"a\n{cell}\n")
        (folder / "summary.json").write_text(json.dumps(
            {"findings_total": 1, "timings_seconds": {"read": seconds}}))
        with zipfile.ZipFile(folder / "l.xlsx", "w") as z:
            z.writestr("xl/sheet1.xml", "<x/>")
    # only the run's timings differ: all the same
    assert all(line.startswith("same") for line in bench.same_outputs(base, new))
    (new / "findings.csv").write_text("a\n2\n")  # one byte
    with zipfile.ZipFile(new / "l.xlsx", "w") as z:
        z.writestr("xl/sheet1.xml", "<y/>")
    (new / "summary.json").write_text(json.dumps({"findings_total": 2}))
    (new / "extra.csv").write_text("")
    lines = bench.same_outputs(base, new)
    assert [line.split(":")[0].split(" (")[0] for line in lines] == [
        "DIFF extra.csv", "DIFF findings.csv", "DIFF l.xlsx", "DIFF summary.json"]
