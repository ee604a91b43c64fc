"""The command line's own behaviour: usage errors and the `params` subcommand (CONTRACT §1)."""

from __future__ import annotations

import pytest

from jiuzhu_sim.cli import main


def test_unknown_subcommand_is_exit_2_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1


def test_bad_month_is_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["audit", "somewhere", "--start", "2024-13", "--end", "2024-06", "--out", "x"])
    assert exc.value.code == 2
    assert "YYYY-MM" in capsys.readouterr().err


def test_params_show_lists_derived_standard_with_reference(capsys):
    # Shishi 2023: minimum wage 1960 (params/regions/fujian/quanzhou/shishi.yaml),
    # dibao standard = ceil(1960 × 0.48) = ceil(940.8) = 941 (狮民〔2022〕51号).
    assert main(["params", "show", "350581", "--date", "2023-01-01"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("dibao.standard "))
    assert "941.0" in line and "derived" in line


def test_params_show_unknown_region_exit_2(capsys):
    assert main(["params", "show", "nowhere"]) == 2
    err = capsys.readouterr().err
    assert "unknown region" in err and "Traceback" not in err


def test_params_show_before_first_date_names_file_and_key(capsys):
    # Shishi's minimum wage and Fujian's both start 2020-01-01: in 2019 no level has a value
    assert main(["params", "show", "350581", "--date", "2019-06-01"]) == 2
    err = capsys.readouterr().err.strip()
    assert "shishi.yaml" in err and "minimum_wage" in err and len(err.splitlines()) == 1


def test_params_show_before_a_regions_first_value_uses_the_parents(capsys):
    # Quangang (001, from 2022-08-18) and every Fujian region before 2022-04-01 used to exit 2
    assert main(["params", "show", "350505", "--date", "2022-06-01"]) == 0
    lines = capsys.readouterr().out.splitlines()
    line = next(x for x in lines if x.startswith("screening.medical_self_paid_threshold "))
    assert "40000" in line and "params/national/screening.yaml" in line
    # Shishi on 2021-06-01: its own 2020 wage 1720; the ratio before its own 48% (from
    # 2022-04-01) is the national assumption 0.45: ceil(1720 × 0.45 = 774) = 774
    assert main(["params", "show", "350581", "--date", "2021-06-01"]) == 0
    lines = capsys.readouterr().out.splitlines()
    std = next(x for x in lines if x.startswith("dibao.standard "))
    assert " 774" in std


def test_params_set_unknown_key_exit_2(capsys):
    assert main(["params", "show", "350581", "--date", "2023-01-01", "--set", "no.such=1"]) == 2
    assert "no.such" in capsys.readouterr().err


def test_params_diff_shows_minimum_wage(capsys):
    assert main(["params", "diff", "350581", "450326", "--date", "2023-08-01"]) == 0
    out = capsys.readouterr().out
    # Shishi 1960 (Fujian tier 2 assumption) vs Yongfu 1430 (Guangxi tier 3 assumption)
    line = next(x for x in out.splitlines() if x.startswith("minimum_wage"))
    assert "1960" in line and "1430" in line


def test_params_show_names_source_file_and_inheritance_chain(capsys):
    assert main(["params", "show", "350581", "--date", "2023-06-01"]) == 0
    out = capsys.readouterr().out
    assert "inheritance: 000000 全国 → 350000 福建省 → 350500 泉州市 → 350581 石狮市" in out
    lines = out.splitlines()
    i = next(n for n, x in enumerate(lines) if x.startswith("minimum_wage "))
    # Shishi's own value (shishi.yaml, 1960 from 2022-04-01) ...
    assert "1960" in lines[i] and "2022-04-01" in lines[i]
    assert "params/regions/fujian/quanzhou/shishi.yaml" in lines[i]
    # ... replaced Fujian's tier-1 row of the table (2030) and Quanzhou's city.yaml (1960)
    assert "params/tables/minimum_wage.csv row 2 = 2030" in lines[i + 1]
    assert "350500 params/regions/fujian/quanzhou/city.yaml = 1960" in lines[i + 1]


def test_params_show_json_has_chain_and_derivation(capsys):
    import json

    assert main(["params", "show", "350000", "--date", "2023-06-01", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    std = doc["values"]["dibao.standard"]
    # Fujian tier 1 with the national assumption ratio 0.45 (Fujian has no ratio of its own;
    # 48% is Shishi's, 000): ceil(2030 × 0.45) = ceil(913.5) = 914
    assert std["value"] == 914 and std["inputs"][0]["source"].endswith("minimum_wage.csv row 2")
    assert [r["region_code"] for r in doc["inheritance"]] == ["000000", "350000"]


def test_params_diff_two_dates_of_one_region(capsys):
    # Quangang's 42000 screening threshold (001, quangang.yaml) applies from 2022-08-18;
    # before that date the parent's value applies: the national assumption 40000
    assert main(["params", "diff", "350505@2022-06-01", "350505@2022-09-01"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    i = next(n for n, x in enumerate(lines)
             if x.startswith("screening.medical_self_paid_threshold "))
    assert "40000" in lines[i] and "42000" in lines[i] and "quangang.yaml" in lines[i]
    assert ("350505 泉港区 has no value of its own yet on 2022-06-01 → falls back to 000000 "
            "全国 = 40000 (assumption)") in lines[i + 1]
    assert "350505@2022-06-01" in out and "350505@2022-09-01" in out
    assert main(["params", "diff", "350505", "350505", "--date-a", "2022-06-01",
                 "--date-b", "2022-09-01"]) == 0
    assert "42000" in capsys.readouterr().out


def test_params_diff_shows_where_yongfu_falls_back(capsys):
    """POLICY §10: Shishi's own 130% tekun basic ratio (000) is not Yongfu's; Yongfu has no
    value of its own and falls back to the national assumption — the diff says so."""
    assert main(["params", "diff", "350581", "450326", "--date", "2023-08-01"]) == 0
    lines = capsys.readouterr().out.splitlines()
    i = next(n for n, x in enumerate(lines) if x.startswith("tekun.basic_ratio_to_dibao "))
    assert "shishi.yaml" in lines[i] and "params/national/tekun.yaml" in lines[i]
    assert lines[i + 1].strip().startswith(
        "↳ 450326 永福县 has no value of its own → falls back to 000000 全国 = 1.3 "
        "(assumption)")


def test_a_2020_nanan_audit_runs(tmp_path, capsys):
    """Seed 003 is about Nan'an in 2020: the audit needs Nan'an's 2020 standards. Nan'an's
    2020 minimum wage is 1720 (nanan.yaml, Fujian tier 2 from 2020-01-01, an assumption);
    the ratio is the national assumption 0.45: ceil(1720 × 0.45 = 774.0) = 774."""
    from jiuzhu_sim.parameters import load_parameters

    p = load_parameters("350583", "2020-06-01")
    assert p["minimum_wage"] == 1720 and p["dibao.standard"] == 774
    data, out = tmp_path / "data", tmp_path / "out"
    assert main(["synth", "audit", "--out", str(data), "--households", "40", "--params",
                 "350583", "--start", "2020-01", "--end", "2020-06",
                 "--date", "2020-03-01"]) == 0
    assert main(["audit", str(data), "--start", "2020-01", "--end", "2020-06", "--params",
                 "350583", "--out", str(out)]) == 0
    assert (out / "findings.csv").is_file()


def test_cli_turns_off_numpy_huge_page_advice_unless_the_user_chose(monkeypatch):
    """jiuzhu's commands run with numpy's huge-page advice off (docs/performance.md: 2–3 s
    of system time per benchmark run), unless NUMPY_MADVISE_HUGEPAGE says otherwise."""
    from numpy._core.multiarray import _set_madvise_hugepage

    from jiuzhu_sim.cli import _no_huge_page_advice

    before = _set_madvise_hugepage(True)
    try:
        monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
        _no_huge_page_advice()
        assert _set_madvise_hugepage(True) is False  # it was off
        monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")
        _no_huge_page_advice()
        assert _set_madvise_hugepage(True) is True  # the user's choice kept
    finally:
        _set_madvise_hugepage(before)


def test_cli_uses_arrows_jemalloc_pool_unless_the_user_chose(monkeypatch):
    """jiuzhu's commands put their Arrow buffers in Arrow's jemalloc pool (docs/performance.md:
    mimalloc's purges of freed memory were 5–7 s of system time per benchmark run), unless
    ARROW_DEFAULT_MEMORY_POOL names the pool."""
    import pyarrow as pa

    from jiuzhu_sim.cli import _arrow_memory_pool

    before = pa.default_memory_pool()
    try:
        pa.set_memory_pool(pa.system_memory_pool())
        monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
        _arrow_memory_pool()
        assert pa.default_memory_pool().backend_name == "jemalloc"
        pa.set_memory_pool(pa.system_memory_pool())
        monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
        _arrow_memory_pool()
        assert pa.default_memory_pool().backend_name == "system"  # the user's choice kept
    finally:
        pa.set_memory_pool(before)
