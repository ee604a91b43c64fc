"""The parameter loader (parameters.py): inheritance, dated values, --set, derived values and
bad files — hand-worked against small parameter trees written in tmp_path."""

from __future__ import annotations

import textwrap

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
