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
    assert main(["params", "show", "350581", "--date", "2021-01-01"]) == 2
    err = capsys.readouterr().err.strip()
    assert "shishi.yaml" in err and "minimum_wage" in err and len(err.splitlines()) == 1


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
    assert "params/tables/minimum_wage.csv row 1 = 2030" in lines[i + 1]
    assert "350500 params/regions/fujian/quanzhou/city.yaml = 1960" in lines[i + 1]


def test_params_show_json_has_chain_and_derivation(capsys):
    import json

    assert main(["params", "show", "350000", "--date", "2023-06-01", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    std = doc["values"]["dibao.standard"]
    # Fujian tier 1: ceil(2030 × 0.48) = ceil(974.4) = 975
    assert std["value"] == 975 and std["inputs"][0]["source"].endswith("minimum_wage.csv row 1")
    assert [r["region_code"] for r in doc["inheritance"]] == ["000000", "350000"]


def test_params_diff_two_dates_of_one_region(capsys):
    # Quangang's 42000 screening threshold (001, quangang.yaml) applies from 2022-08-18; the
    # nearest definition wins, so before that date Quangang has no value of its own
    assert main(["params", "diff", "350505@2022-06-01", "350505@2022-09-01"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines()
                if x.startswith("screening.medical_self_paid_threshold "))
    assert "(none)" in line and "42000" in line and "quangang.yaml" in line
    assert "350505@2022-06-01" in out and "350505@2022-09-01" in out
    assert main(["params", "diff", "350505", "350505", "--date-a", "2022-06-01",
                 "--date-b", "2022-09-01"]) == 0
    assert "42000" in capsys.readouterr().out
