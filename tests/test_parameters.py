"""The parameter loader (parameters.py): inheritance, dated values, --set, derived values and
bad files — hand-worked against small parameter trees written in tmp_path."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from jiuzhu_sim.exceptions import ParameterError
from jiuzhu_sim.parameters import load_parameters, round_standard

NATIONAL = """
region: {code: "000000", name: 全国, name_en: China}
parameters:
  dibao.standard_ratio_to_minimum_wage:
    {unit: ratio, reference: "000", values: {"2020-01-01": 0.48}}
  dibao.rounding: {unit: rule, reference: "assumption: x", values: {"2020-01-01": ceil_yuan}}
  tekun.basic_ratio_to_dibao: {unit: ratio, reference: "000", values: {"2020-01-01": 1.3}}
  tekun.institutional_multiplier: {unit: ratio, reference: "000", values: {"2020-01-01": 1.5}}
  tekun.care_ratio_to_minimum_wage.self_care:
    {unit: ratio, reference: "000", values: {"2020-01-01": 0.1}}
  marginal.ratio_to_dibao: {unit: ratio, reference: "assumption: k", values: {"2020-01-01": 1.5}}
  review.max_months_between_checks: {unit: months, reference: "002", values: {"2020-01-01": 6}}
"""
PROVINCE = """
region: {code: "350000", name: 福建省, name_en: Fujian, parent: "000000"}
parameters:
  minimum_wage:
    unit: yuan/month
    reference: "published"
    values: {"2022-04-01": 2030, "2024-01-01": 2100}
"""
COUNTY = """
region: {code: "350581", name: 石狮市, name_en: Shishi, parent: "350000"}
parameters:
  minimum_wage:
    unit: yuan/month
    reference: "assumption: tier 2"
    values:
      "2022-04-01": 1960
      "2024-01-01": {value: 2000, reference: "assumption: 2024 raise"}
"""


def _tree(tmp_path, **extra: str):
    root = tmp_path / "params"
    files = {"national/core.yaml": NATIONAL, "regions/fj/province.yaml": PROVINCE,
             "regions/fj/shishi.yaml": COUNTY, **extra}
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_inheritance_child_replaces_parent_and_national_defaults_flow_down(tmp_path):
    root = _tree(tmp_path)
    county = load_parameters("350581", "2023-01-01", params_dir=root)
    province = load_parameters("Fujian", "2023-01-01", params_dir=root)
    assert county["minimum_wage"] == 1960 and province["minimum_wage"] == 2030
    assert county["review.max_months_between_checks"] == 6  # from the national file
    assert county.values["minimum_wage"].source.endswith("shishi.yaml")


def test_dated_values_apply_from_their_date(tmp_path):
    root = _tree(tmp_path)
    assert load_parameters("350581", "2023-12-31", params_dir=root)["minimum_wage"] == 1960
    later = load_parameters("350581", "2024-01-01", params_dir=root)
    assert later["minimum_wage"] == 2000
    assert later.reference("minimum_wage") == "assumption: 2024 raise"
    # 2000 × 0.48 = 960 exactly
    assert later["dibao.standard"] == 960


def test_before_the_first_date_is_an_error_naming_file_and_key(tmp_path):
    root = _tree(tmp_path)
    with pytest.raises(ParameterError) as exc:
        load_parameters("350581", "2021-01-01", params_dir=root)
    assert "shishi.yaml" in str(exc.value) and "minimum_wage" in str(exc.value)


def test_derived_standards(tmp_path):
    # ceil(1960 × 0.48 = 940.8) = 941; tekun ceil(941 × 1.3 = 1223.3) = 1224;
    # institutional ceil(1224 × 1.5) = 1836; care ceil(1960 × 0.1) = 196; marginal 1411.5
    p = load_parameters("350581", "2023-01-01", params_dir=_tree(tmp_path))
    assert p["dibao.standard"] == 941 and p["dibao.standard.rural"] == 941
    assert p["tekun.basic_standard.urban"] == 1224
    assert p["tekun.institutional_basic_standard.rural"] == 1836
    assert p["tekun.care_standard.self_care"] == 196
    assert p["marginal.threshold.urban"] == 1411.5
    assert p.reference("dibao.standard").startswith("derived")


def test_explicit_published_standard_overrides_the_derived_one(tmp_path):
    root = _tree(tmp_path, **{"regions/fj/nanan.yaml": """
        region: {code: "350583", name: 南安市, parent: "350000"}
        parameters:
          dibao.standard: {unit: yuan/person/month, reference: "published", values: {"2022-04-01": 900}}
          dibao.standard.rural: {unit: yuan/person/month, reference: "published", values: {"2022-04-01": 850}}
        """})
    p = load_parameters("350583", "2023-01-01", params_dir=root)
    # urban follows dibao.standard 900; rural explicit 850; tekun rural ceil(850 × 1.3) = 1105
    assert p["dibao.standard.urban"] == 900 and p["dibao.standard.rural"] == 850
    assert p["tekun.basic_standard.rural"] == 1105


def test_set_recomputes_derived_values(tmp_path):
    p = load_parameters("350581", "2023-01-01", ["dibao.standard_ratio_to_minimum_wage=0.45"],
                        params_dir=_tree(tmp_path))
    # ceil(1960 × 0.45 = 882) = 882; tekun ceil(882 × 1.3 = 1146.6) = 1147;
    # institutional ceil(1147 × 1.5 = 1720.5) = 1721; marginal 882 × 1.5 = 1323
    assert p["dibao.standard"] == 882
    assert p["tekun.basic_standard.urban"] == 1147
    assert p["tekun.institutional_basic_standard.urban"] == 1721
    assert p["marginal.threshold.rural"] == 1323
    assert p.values["dibao.standard_ratio_to_minimum_wage"].source == "--set"


def test_set_dibao_standard_sets_urban_and_rural(tmp_path):
    p = load_parameters("350581", "2023-01-01", params_dir=_tree(tmp_path)).with_overrides(
        {"dibao.standard": 1000})
    # tekun ceil(1000 × 1.3) = 1300; marginal 1500
    assert p["dibao.standard.urban"] == 1000 and p["dibao.standard.rural"] == 1000
    assert p["tekun.basic_standard.rural"] == 1300 and p["marginal.threshold.urban"] == 1500


def test_set_unknown_key_and_non_number_are_errors(tmp_path):
    p = load_parameters("350581", "2023-01-01", params_dir=_tree(tmp_path))
    with pytest.raises(ParameterError, match="no.such"):
        p.with_overrides(["no.such=1"])
    with pytest.raises(ParameterError, match="expected a number"):
        p.with_overrides(["minimum_wage=lots"])
    with pytest.raises(ParameterError, match="KEY=VALUE"):
        p.with_overrides(["minimum_wage"])


def test_region_file_given_as_path_inherits_from_its_parent(tmp_path):
    root = _tree(tmp_path)
    own = tmp_path / "mine.yaml"
    own.write_text(textwrap.dedent("""
        region: {code: "350599", name: 试点, parent: "350000"}
        parameters:
          minimum_wage: {unit: yuan/month, reference: "assumption: test", values: {"2022-04-01": 2000}}
        """), encoding="utf-8")
    p = load_parameters(str(own), "2023-01-01", params_dir=root)
    assert p["minimum_wage"] == 2000 and p["dibao.standard"] == 960  # 2000 × 0.48


@pytest.mark.parametrize("text, fragment", [
    ("region: {code: \"350581\"\nparameters: [", "not valid YAML"),
    ("""
region: {code: "350581", parent: "350000"}
parameters:
  minimum_wage: {unit: yuan/month, values: {"2022-04-01": 1}}
""", "reference"),
    ("""
region: {code: "350581", parent: "350000"}
parameters:
  minimum_wage: {unit: yuan/month, reference: x, values: {}}
""", "values"),
    ("""
region: {code: "350581", parent: "350000"}
parameters:
  minimum_wage: {unit: yuan/month, reference: x, values: {"April 2022": 1}}
""", "YYYY-MM-DD"),
    ("""
region: {code: 350581, parent: "350000"}
parameters: {}
""", None),
    ("""
region: {code: "3505", parent: "350000"}
parameters: {}
""", "six digits"),
    ("""
region: {code: "350581", parent: "359999"}
parameters: {}
""", "parent region 359999"),
])
def test_bad_files_are_one_line_errors_naming_the_file(tmp_path, text, fragment):
    root = _tree(tmp_path, **{"regions/fj/shishi.yaml": text})
    if fragment is None:  # an unquoted numeric code is still six digits: loads fine
        load_parameters("350581", "2023-01-01", params_dir=root)
        return
    with pytest.raises(ParameterError) as exc:
        load_parameters("350581", "2023-01-01", params_dir=root)
    message = exc.value.one_line()
    assert fragment in message and "shishi.yaml" in message and "\n" not in message


def test_same_name_twice_for_one_region_is_an_error(tmp_path):
    root = _tree(tmp_path, **{"national/other.yaml": """
        region: {code: "000000", name: 全国}
        parameters:
          review.max_months_between_checks: {unit: months, reference: x, values: {"2020-01-01": 3}}
        """})
    with pytest.raises(ParameterError, match="defined twice"):
        load_parameters("350581", "2023-01-01", params_dir=root)


def test_rounding_rules():
    assert round_standard(940.8, "ceil_yuan") == 941
    assert round_standard(960.0000001, "ceil_yuan") == 960  # binary noise is not a yuan
    assert round_standard(940.5, "round_yuan") == 941
    assert round_standard(941.0, "ceil_ten_yuan") == 950
    with pytest.raises(ParameterError):
        round_standard(1.0, "banker")


# --- per-region tables (params/tables) -----------------------------------------------------

TABLES_INDEX = """
tables:
  minimum_wage: {file: minimum_wage.csv, unit: yuan/month, description: 最低工资 minimum wage}
"""
REGIONS_CSV = "region_code,name,name_en,parent\n350582,晋江市,Jinjiang,350000\n"


def _table_tree(tmp_path, rows: str, **extra: str):
    files = {"tables/tables.yaml": TABLES_INDEX,
             "tables/minimum_wage.csv": "region_code,effective_date,value,reference\n" + rows,
             "tables/regions.csv": REGIONS_CSV}
    files.update(extra)
    # the province's minimum wage moves to the table
    files.setdefault("regions/fj/province.yaml", """
        region: {code: "350000", name: 福建省, name_en: Fujian, parent: "000000"}
        parameters: {}
        """)
    return _tree(tmp_path, **files)


def test_table_value_is_inherited_and_a_nearer_yaml_value_wins(tmp_path):
    root = _table_tree(tmp_path, "350000,2022-04-01,2030,published tier 1\n"
                                 "350000,2024-01-01,2100,published 2024\n")
    # Jinjiang (regions.csv, no YAML) inherits Fujian's table row: ceil(2030 × 0.48) = 975
    p = load_parameters("350582", "2023-06-01", params_dir=root)
    assert p["minimum_wage"] == 2030 and p["dibao.standard"] == 975
    assert p.values["minimum_wage"].source == "params/tables/minimum_wage.csv row 1"
    assert p.values["minimum_wage"].since == "2022-04-01"
    # from 2024: 2100 → ceil(1008.0) = 1008
    assert load_parameters("350582", "2024-02-01", params_dir=root)["dibao.standard"] == 1008
    # Shishi's own YAML value (1960) beats the province's table row; the chain records both
    s = load_parameters("350581", "2023-06-01", params_dir=root)
    assert s["minimum_wage"] == 1960
    chain = s.chains["minimum_wage"]
    assert [(e["region_code"], e["status"]) for e in chain] == [("350000", "overridden"),
                                                                 ("350581", "used")]
    assert chain[0]["value"] == 2030 and chain[0]["source"].endswith("minimum_wage.csv row 1")
    assert [r["region_code"] for r in s.inheritance] == ["000000", "350000", "350581"]


def test_before_the_first_table_row_is_an_error_naming_the_table(tmp_path):
    root = _table_tree(tmp_path, "350000,2022-04-01,2030,published\n")
    # the dibao standard derives from it, so loading stops with the table's one line
    with pytest.raises(ParameterError, match="minimum_wage.csv, key minimum_wage: region "
                                             "350000 has no row in force on 2021-01-01 "
                                             r"\(its first row applies from 2022-04-01\)"):
        load_parameters("350582", "2021-01-01", params_dir=root)


@pytest.mark.parametrize("rows,fragment", [
    ("350000,2022-04-01,2030,a\n350000,2022-04-01,2040,b\n",
     "row 2, key effective_date: overlap: region 350000 has two rows for 2022-04-01"),
    ("350000,2022-04-01,2030,a\n350099,2022-04-01,2040,b\n",
     "row 2, key region_code: unknown region code '350099'"),
    ("35000,2022-04-01,2030,a\n", "row 1, key region_code: region code '35000' must be six"),
    ("350000,2022-04-01,2030,\n", "row 1, key reference: missing reference"),
    ("350000,2022-04-01,2030,assumption\n", "row 1, key reference: missing reference"),
    ("350000,2022/04/01,2030,a\n", "row 1, key effective_date: effective_date is not"),
    ("350000,2022-04-01,lots,a\n", "row 1, key value: value must be a number"),
])
def test_bad_table_rows_are_one_line_errors(tmp_path, rows, fragment):
    root = _table_tree(tmp_path, rows)
    with pytest.raises(ParameterError) as exc:
        load_parameters("350581", "2023-06-01", params_dir=root)
    line = exc.value.one_line()
    assert line.startswith("params/tables/minimum_wage.csv, ") and fragment in line
    assert "\n" not in line


def test_end_dates_gap_and_overlap(tmp_path):
    head = "region_code,effective_date,value,reference,end_date\n"
    gap = head + ("350000,2022-04-01,2030,a,2022-12-31\n"
                  "350000,2023-02-01,2100,b,\n")
    root = _tree(tmp_path, **{"tables/tables.yaml": TABLES_INDEX,
                              "tables/minimum_wage.csv": gap})
    with pytest.raises(ParameterError, match="row 2, key effective_date: gap: region 350000 "
                                             "has no value from 2023-01-01 to 2023-01-31"):
        load_parameters("350581", "2023-06-01", params_dir=root)
    overlap = head + ("350000,2022-04-01,2030,a,2023-01-15\n"
                      "350000,2023-01-01,2100,b,\n")
    (root / "tables/minimum_wage.csv").write_text(overlap, encoding="utf-8")
    from jiuzhu_sim.parameters import _load_tables, _load_tree

    _load_tree.cache_clear()
    _load_tables.cache_clear()
    with pytest.raises(ParameterError, match="row 1, key end_date: overlap"):
        load_parameters("350581", "2023-06-01", params_dir=root)


def test_a_name_in_a_table_and_in_yaml_for_one_region_is_an_error(tmp_path):
    root = _table_tree(tmp_path, "350581,2022-04-01,2030,published\n")
    with pytest.raises(ParameterError, match="row 1.*also defined in params/regions/fj/"
                                             "shishi.yaml"):
        load_parameters("350581", "2023-06-01", params_dir=root)


def test_vectorised_lookup_by_region_and_date(tmp_path):
    from jiuzhu_sim.parameters import load_tables, lookup_table

    head = "region_code,effective_date,value,reference,end_date\n"
    root = _table_tree(tmp_path, "", **{
        "tables/minimum_wage.csv": head + "350000,2022-04-01,2030,a,\n"
                                          "350582,2022-04-01,1900,b,2023-12-31\n"
                                          "350582,2021-01-01,1800,c,2022-03-31\n"})
    table = load_tables(root)["minimum_wage"]
    codes = ["350582", "350582", "350582", "350000", "350582"]
    dates = ["2021-06-01", "2022-04-01", "2023-12-31", "2030-01-01", "2024-01-01"]
    got = table.lookup(codes, dates)
    # rows apply from their date; 350582's last row ends 2023-12-31 → no value after (NaN)
    np.testing.assert_array_equal(got, [1800, 1900, 1900, 2030, np.nan])
    # with inheritance: Shishi (no rows) takes Fujian's 2030
    np.testing.assert_array_equal(
        lookup_table("minimum_wage", ["350581", "350582"], "2023-06-01", params_dir=root),
        [2030, 1900])


def test_unknown_region_codes_in_a_lookup_are_one_line_errors(tmp_path):
    from jiuzhu_sim.parameters import load_tables, lookup_table

    root = _table_tree(tmp_path, "350582,2022-04-01,1900,b\n")
    table = load_tables(root)["minimum_wage"]
    # the table alone has no rows for 350000 or 999999: both named, with the count
    with pytest.raises(ParameterError) as exc:
        table.lookup(["350582", "999999", "350000", "999999"], "2023-01-01")
    line = exc.value.one_line()
    assert line.startswith("params/tables/minimum_wage.csv, key region_code: ")
    assert "'999999', '350000' (2 in all)" in line
    # through the tree: a code that is no region at all is named (first five, then "…")
    bad = [f"99999{i}" for i in range(7)]
    with pytest.raises(ParameterError, match=r"params/tables/minimum_wage.csv, key region_code:"
                                             r" unknown region code\(s\) '999990', '999991', "
                                             r"'999992', '999993', '999994', … \(7 in all\)"):
        lookup_table("minimum_wage", ["350582", *bad], "2023-01-01", params_dir=root)
    # Shishi (350581) is a known region, but neither it nor Fujian has rows: an error too
    with pytest.raises(ParameterError, match=r"'350581' \(1 in all\) have no rows in this "
                                             r"table, nor does any parent region"):
        lookup_table("minimum_wage", ["350581", "350582"], "2023-01-01", params_dir=root)


def test_lookup_speed_million_households_thousands_of_regions(tmp_path, capsys):
    """Synthetic (not real) table: 3,000 regions × 4 dated rows; 1,000,000 households."""
    import time

    from jiuzhu_sim.parameters import read_region_table

    rng = np.random.default_rng(0)
    codes = np.array([f"{350000 + i:06d}" for i in range(1, 3001)])
    dates = ["2020-01-01", "2021-07-01", "2022-04-01", "2024-01-01"]
    frame = pd.DataFrame({"region_code": np.repeat(codes, 4), "effective_date": dates * 3000,
                          "value": rng.integers(1500, 2600, 12000),
                          "reference": "synthetic: benchmark only"})
    path = tmp_path / "synthetic_minimum_wage.csv"
    frame.to_csv(path, index=False)
    start = time.perf_counter()
    table = read_region_table(path, "minimum_wage", set(codes))
    load_seconds = time.perf_counter() - start
    hh_codes = codes[rng.integers(0, 3000, 1_000_000)]
    hh_days = np.datetime64("2020-01-01") + rng.integers(0, 2000, 1_000_000)
    start = time.perf_counter()
    values = table.lookup(hh_codes, hh_days)
    lookup_seconds = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n[synthetic] table 12,000 rows / 3,000 regions loaded+validated in "
              f"{load_seconds:.3f} s; 1,000,000 households looked up in {lookup_seconds:.3f} s")
    # spot check against a direct reading of the table
    i = 12345
    rows = frame[(frame.region_code == hh_codes[i])
                 & (pd.to_datetime(frame.effective_date) <= pd.Timestamp(hh_days[i]))]
    assert values[i] == rows.value.iloc[-1]
    assert not np.isnan(values).any() and values.dtype == np.float64
    assert lookup_seconds < 10


def test_regional_parameters_keep_overrides(tmp_path):
    from jiuzhu_sim.parameters import regional_parameters

    root = _table_tree(tmp_path, "350000,2022-04-01,2030,published\n")
    run = load_parameters("350581", "2023-06-01", ["dibao.standard_ratio_to_minimum_wage=0.5"],
                          params_dir=root)
    by = regional_parameters(run, ["350581", "350582"])
    assert by["350581"] is run
    # Shishi ceil(1960 × 0.5) = 980; Jinjiang ceil(2030 × 0.5) = 1015
    assert run["dibao.standard"] == 980 and by["350582"]["dibao.standard"] == 1015
    fixed = run.with_overrides(["dibao.standard=900"])
    assert regional_parameters(fixed, ["350582"])["350582"]["dibao.standard.rural"] == 900


def test_shipped_tables_load_and_every_row_has_a_reference():
    from jiuzhu_sim.parameters import load_tables

    tables = load_tables()
    assert "minimum_wage" in tables
    wage = tables["minimum_wage"]
    assert all(str(r).startswith(("published:", "assumption:")) for r in wage.reference)
    # Fujian tier 1 from 2022-04-01 (public announcement cited in params): 2030
    assert wage.lookup(["350000"], "2023-01-01")[0] == 2030


def test_money_rounding_rules():
    from jiuzhu_sim.rules import round_money

    x = np.array([382.0833333, 12.345, 0.0])
    np.testing.assert_array_equal(round_money(x, "fen"), [382.08, 12.35, 0.0])
    np.testing.assert_array_equal(round_money(x, "jiao"), [382.1, 12.3, 0.0])
    np.testing.assert_array_equal(round_money(x, "yuan"), [382.0, 12.0, 0.0])
    np.testing.assert_array_equal(round_money(x, "ceil_yuan"), [383.0, 13.0, 0.0])
    assert round_money(x, "fen").dtype == np.float64
    with pytest.raises(ParameterError, match="dibao.benefit_rounding"):
        round_money(x, "bankers")


def test_household_parameters_follow_each_households_region_and_date(tmp_path):
    from jiuzhu_sim.parameters import household_parameters

    root = _table_tree(tmp_path, "350000,2022-04-01,2030,published tier 1\n"
                                 "350000,2024-01-01,2100,published 2024\n")
    run = load_parameters("350581", "2023-06-01", params_dir=root)
    codes = ["350581", "350582", "350582", "350581", "350582"]
    dates = ["2023-06-01", "2023-06-01", "2024-02-01", "2024-02-01", "2023-07-15"]
    index, resolved = household_parameters(run, codes, dates)
    # Shishi (its YAML): ceil(1960 × 0.48) = ceil(940.8) = 941; from 2024 ceil(2000 × 0.48) = 960
    # Jinjiang (Fujian's table rows): ceil(2030 × 0.48) = ceil(974.4) = 975; 2024: 2100 × 0.48
    # = 1008
    assert [resolved[i]["dibao.standard"] for i in index] == [941, 975, 1008, 960, 975]
    assert resolved[index[0]] is run  # the run's region on the run's date: the run's values
    # Jinjiang on 2023-06-01 and 2023-07-15: same table row, same YAML values → one resolution
    assert index[1] == index[4] and len(resolved) == 4
    wage = resolved[index[2]].values["minimum_wage"]
    assert wage.source == "params/tables/minimum_wage.csv row 2" and wage.since == "2024-01-01"
    # the vectorised path gives what resolving each (region, date) on its own gives
    for code, date, i in zip(codes, dates, index, strict=True):
        alone = load_parameters(code, date, params_dir=root)
        for name in ("dibao.standard.urban", "tekun.basic_standard.rural",
                     "tekun.care_standard.self_care", "marginal.threshold.urban"):
            assert resolved[i][name] == alone[name], (code, date, name)


def test_household_parameters_errors(tmp_path):
    from jiuzhu_sim.parameters import household_parameters

    root = _table_tree(tmp_path, "350000,2022-04-01,2030,published\n")
    run = load_parameters("350581", "2023-06-01", params_dir=root)
    with pytest.raises(ParameterError, match=r"unknown region code\(s\) '999999', '888888' "
                                             r"\(2 in all\)"):
        household_parameters(run, ["350582", "999999", "888888", "999999"])
    # Jinjiang before Fujian's first row: the table's one line, naming the household's date
    with pytest.raises(ParameterError, match="minimum_wage.csv, key minimum_wage: region "
                                             "350000 has no row in force on 2021-06-01"):
        household_parameters(run, ["350582", "350581"], ["2021-06-01", "2023-06-01"])


def test_a_table_can_back_a_dotted_name(tmp_path):
    from jiuzhu_sim.parameters import household_parameters

    index_yaml = TABLES_INDEX + ("  dibao.standard.urban: {file: urban.csv, "
                                 "unit: yuan/person/month}\n")
    root = _table_tree(tmp_path, "350000,2022-04-01,2030,published\n", **{
        "tables/tables.yaml": index_yaml,
        "tables/urban.csv": "region_code,effective_date,value,reference\n"
                            "350582,2022-04-01,1000,test: not a real standard\n"})
    p = load_parameters("350582", "2023-06-01", params_dir=root)
    # urban from the table; rural derived: ceil(2030 × 0.48) = 975
    assert p["dibao.standard.urban"] == 1000 and p["dibao.standard.rural"] == 975
    assert p.values["dibao.standard.urban"].source == "params/tables/urban.csv row 1"
    # what derives from it follows: tekun basic ceil(1000 × 1.3) = 1300; marginal 1000 × 1.5
    assert p["tekun.basic_standard.urban"] == 1300 and p["marginal.threshold.urban"] == 1500
    # the simulation's vectorised path agrees, and --set dibao.standard=900 sets both areas
    run = load_parameters("350581", "2023-06-01", params_dir=root)
    index, resolved = household_parameters(run, ["350582"])
    assert resolved[index[0]]["dibao.standard.urban"] == 1000
    fixed = run.with_overrides(["dibao.standard=900"])
    index, resolved = household_parameters(fixed, ["350582"])
    assert resolved[index[0]]["dibao.standard.urban"] == 900
    assert resolved[index[0]]["dibao.standard.rural"] == 900


# --- before a region's first dated value, its parent's value applies (POLICY.md §10) ------

def test_before_a_regions_first_value_its_parents_value_applies(tmp_path):
    root = _tree(tmp_path, **{"regions/fj/quangang.yaml": """
        region: {code: "350505", name: 泉港区, parent: "350000"}
        parameters:
          review.max_months_between_checks:
            {unit: months, reference: "assumption: test", values: {"2022-08-18": 3}}
        """})
    # Quangang's own 3 applies from 2022-08-18; before it the national 6 (its parent chain's)
    before = load_parameters("350505", "2022-06-01", params_dir=root)
    after = load_parameters("350505", "2022-09-01", params_dir=root)
    assert before["review.max_months_between_checks"] == 6
    assert before.values["review.max_months_between_checks"].source.endswith("core.yaml")
    assert after["review.max_months_between_checks"] == 3
    statuses = [(e["region_code"], e["status"])
                for e in before.chains["review.max_months_between_checks"]]
    assert statuses == [("000000", "used"), ("350505", "not_yet")]
    # Shishi's 1960 starts 2022-04-01 like Fujian's 2030: on 2021-01-01 nobody has a value,
    # so it stays an error naming the nearest definition (shishi.yaml)
    with pytest.raises(ParameterError, match="shishi.yaml"):
        load_parameters("350581", "2021-01-01", params_dir=root)


def test_before_a_countys_first_table_row_the_provinces_row_applies(tmp_path):
    from jiuzhu_sim.parameters import household_parameters, lookup_table

    root = _table_tree(tmp_path, "350000,2020-01-01,1800,published 2020\n"
                                 "350000,2022-04-01,2030,published 2022\n"
                                 "350582,2022-04-01,1960,published county\n")
    # Jinjiang 2021: its own row starts 2022-04-01 → Fujian's 2020 row, 1800;
    # dibao ceil(1800 × 0.48 = 864) = 864. From 2022-04-01 its own 1960 → ceil(940.8) = 941
    early = load_parameters("350582", "2021-06-01", params_dir=root)
    assert early["minimum_wage"] == 1800 and early["dibao.standard"] == 864
    assert early.values["minimum_wage"].source == "params/tables/minimum_wage.csv row 1"
    np.testing.assert_array_equal(
        lookup_table("minimum_wage", ["350582", "350582"], ["2021-06-01", "2022-05-01"],
                     params_dir=root), [1800, 1960])
    run = load_parameters("350000", "2023-06-01", params_dir=root)
    index, resolved = household_parameters(run, ["350582", "350582"],
                                           ["2021-06-01", "2022-05-01"])
    assert [resolved[i]["dibao.standard"] for i in index] == [864, 941]
