"""simulate(): outputs, summary, process model, invariants, files and CLI errors (CONTRACT §1, §3, §4)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import nanan_standard_table
from jiuzhu_sim.cli import main
from jiuzhu_sim.simulation import (
    HOUSEHOLDS_OUT_COLUMNS,
    compute_entitlements,
    simulate,
    simulate_files,
)

CONTRACT_HOUSEHOLD_COLUMNS = [
    "household_id", "members", "per_capita_income", "assessed_per_capita_income",
    "dibao_standard", "dibao_eligible", "dibao_type", "dibao_members", "dibao_monthly_benefit",
    "tekun_persons", "tekun_monthly_benefit", "marginal", "enrolled"]
CONTRACT_PERSON_COLUMNS = ["person_id", "household_id", "dibao_covered", "tekun",
                           "tekun_monthly_benefit"]


def _four_households(make_frames):
    # A: 1 member income 441 → 941 − 441 = 500, enrolled, weight 2
    # B: income 741 → 200, not enrolled
    # C: income 1000 → ineligible (marginal), enrolled
    # D: income 2000 → ineligible, not enrolled
    return make_frames([
        {"household_id": "A", "weight": 2, "enrolled_dibao": True,
         "members": [{"monthly_income": 441}]},
        {"household_id": "B", "weight": 1, "enrolled_dibao": False,
         "members": [{"monthly_income": 741}]},
        {"household_id": "C", "weight": 1, "enrolled_dibao": True,
         "members": [{"monthly_income": 1000}]},
        {"household_id": "D", "weight": 1, "enrolled_dibao": False,
         "members": [{"monthly_income": 2000}]},
    ])


def test_contract_columns_first_and_in_order(sim_params, sim_frames):
    persons, households = _four_households(sim_frames)
    result = simulate(persons, households, sim_params)
    assert list(result.households.columns[:13]) == CONTRACT_HOUSEHOLD_COLUMNS
    assert list(result.persons.columns[:5]) == CONTRACT_PERSON_COLUMNS


def test_summary_hand_worked_with_observed_enrollment(sim_params, sim_frames):
    persons, households = _four_households(sim_frames)
    s = simulate(persons, households, sim_params).summary
    assert s["households"] == 5 and s["persons"] == 5  # weights 2 + 1 + 1 + 1
    assert s["eligible_households"] == 3 and s["enrolled_households"] == 3
    assert s["coverage_rate"] == pytest.approx(2 / 3, abs=1e-6)  # A(2) of A(2) + B(1)
    assert s["exclusion_error_rate"] == pytest.approx(1 / 3, abs=1e-6)  # B
    assert s["inclusion_error_rate"] == pytest.approx(1 / 3, abs=1e-6)  # C of A(2) + C
    # C is paid max(941 − 1000, 0.2 × 941) = 188.2; A is paid 500 × weight 2
    assert s["monthly_cost"]["by_program"]["dibao"] == 1188.2
    assert s["annual_cost"]["total"] == 14258.4  # 1188.2 × 12
    assert s["leakage_rate"] == pytest.approx(188.2 / 1188.2, abs=1e-6)
    assert s["entitled_monthly_cost"]["dibao"] == 1200.0  # 2 × 500 + 200
    # poverty: before, persons A(2) and B poor of 5 → 0.6; after, A reaches 941 → 1/5
    assert s["poverty"]["before"]["fgt0"] == pytest.approx(0.6)
    assert s["poverty"]["after"]["fgt0"] == pytest.approx(0.2)
    assert s["cgh_index"] == pytest.approx(1000 / 1188.2 / 0.4, abs=1e-6)
    assert s["enrollment_source"].startswith("observed")
    assert any(r["name"] == "dibao.standard" for r in s["parameters"])


def test_zero_denominators_give_null_not_crash(sim_params, sim_frames):
    persons, households = sim_frames([{"household_id": "rich", "enrolled_dibao": False,
                                        "members": [{"monthly_income": 5000}]}])
    s = simulate(persons, households, sim_params).summary
    for key in ("coverage_rate", "exclusion_error_rate", "inclusion_error_rate",
                "leakage_rate", "cgh_index"):
        assert s[key] is None
    assert "null" in json.dumps(s["coverage_rate"])


def test_tekun_cost_in_summary(sim_params, sim_frames):
    # one dispersed self-care tekun elderly: 1224 + 196 = 1420/month, × 12 = 17040/year
    persons, households = sim_frames([{"household_id": "T", "members": [
        {"age": 70, "work_capacity": False, "has_supporter": False}]}])
    s = simulate(persons, households, sim_params).summary
    assert s["monthly_cost"]["by_program"]["tekun"] == 1420
    assert s["annual_cost"]["by_program"]["tekun"] == 17040
    assert s["tekun_persons"] == 1


def test_process_model_is_deterministic_per_seed(sim_params, sim_random_frames):
    persons, households = sim_random_frames(2000, seed=4)
    a = simulate(persons, households, sim_params, seed=7).households
    b = simulate(persons, households, sim_params, seed=7).households
    c = simulate(persons, households, sim_params, seed=8).households
    pd.testing.assert_frame_equal(a, b)
    assert (a.enrolled != c.enrolled).any()
    # the process enrolls most eligible households, and some ineligible ones near the line
    s = simulate(persons, households, sim_params, seed=7).summary
    assert 0.5 < s["coverage_rate"] < 1.0 and 0 < s["inclusion_error_rate"] < 0.5


def test_results_do_not_depend_on_row_order(sim_params, sim_random_frames):
    persons, households = sim_random_frames(1500, seed=5)
    rng = np.random.default_rng(0)
    a = simulate(persons, households, sim_params, seed=3)
    b = simulate(persons.iloc[rng.permutation(len(persons))].reset_index(drop=True),
                 households.iloc[rng.permutation(len(households))].reset_index(drop=True),
                 sim_params, seed=3)
    ha = a.households.sort_values("household_id").reset_index(drop=True)
    hb = b.households.sort_values("household_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(ha, hb, check_exact=False, atol=0.005)
    for key in ("eligible_households", "enrolled_households", "coverage_rate", "cgh_index"):
        assert a.summary[key] == pytest.approx(b.summary[key], rel=1e-9)


# --- property tests ------------------------------------------------------------------

PERSON = st.fixed_dictionaries({
    "age": st.integers(0, 95),
    "monthly_income": st.floats(0, 3000, allow_nan=False).map(lambda x: round(x, 2)),
    "disability_grade": st.integers(0, 4),
    "disability_type": st.sampled_from(["", "physical", "intellectual", "mental"]),
    "serious_illness": st.booleans(),
    "work_capacity": st.booleans(),
    "has_supporter": st.booleans(),
    "in_school": st.booleans(),
    "college_student": st.booleans(),
    "institutional": st.booleans(),
    "medical_expense_annual": st.sampled_from([0.0, 3000.0, 20000.0]),
})
HOUSEHOLD = st.fixed_dictionaries({
    "urban": st.booleans(),
    "financial_assets": st.sampled_from([0.0, 20000.0, 60000.0]),
    "non_essential_vehicle": st.booleans(),
    "dwellings": st.integers(0, 2),
    "members": st.lists(PERSON, min_size=1, max_size=4),
})
POPULATION = st.lists(HOUSEHOLD, min_size=1, max_size=8).map(
    lambda hs: [{**h, "household_id": f"h{i}"} for i, h in enumerate(hs)])
FAST = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(households=POPULATION)
def test_benefits_never_negative(sim_params, households, sim_frames):
    persons, hh = sim_frames(households)
    out = compute_entitlements(persons, hh, sim_params)
    assert (out.households.dibao_monthly_benefit >= 0).all()
    assert (out.households.tekun_monthly_benefit >= 0).all()
    assert (out.persons.tekun_monthly_benefit >= 0).all()
    assert not (out.persons.tekun & out.persons.dibao_covered).any()


@FAST
@given(households=POPULATION, raise_by=st.floats(1, 400))
def test_raising_the_standard_never_reduces_eligibility(sim_params, households, raise_by,
                                                         sim_frames):
    # counted over dibao or tekun: a member can move from the dibao unit to tekun when the
    # tekun basic standard (130% of dibao) rises past their income
    persons, hh = sim_frames(households)
    low = compute_entitlements(persons, hh, sim_params).households
    high = compute_entitlements(persons, hh, sim_params.with_overrides(
        {"dibao.standard": 941 + raise_by})).households

    def entitled(h):
        return int((h.dibao_eligible | (h.tekun_persons > 0)).sum())

    assert entitled(high) >= entitled(low)
    assert int(high.dibao_eligible.sum()) >= int(low.dibao_eligible.sum()) - int(
        (high.tekun_persons > low.tekun_persons).sum())


@FAST
@given(households=POPULATION, rnd=st.randoms())
def test_row_order_property(sim_params, households, rnd, sim_frames):
    persons, hh = sim_frames(households)
    a = compute_entitlements(persons, hh, sim_params).households.set_index("household_id")
    pi = list(range(len(persons)))
    hi = list(range(len(hh)))
    rnd.shuffle(pi)
    rnd.shuffle(hi)
    b = compute_entitlements(persons.iloc[pi], hh.iloc[hi], sim_params).households
    b = b.set_index("household_id").loc[a.index]
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=0.005)


# --- files ---------------------------------------------------------------------------


def _write_inputs(tmp_path, make_random_frames, n=300, seed=2, fmt="csv"):
    persons, households = make_random_frames(n, seed)
    if fmt == "parquet":
        pp, hp = tmp_path / "persons.parquet", tmp_path / "households.parquet"
        persons.to_parquet(pp)
        households.to_parquet(hp)
    else:
        pp, hp = tmp_path / "persons.csv", tmp_path / "households.csv"
        persons.to_csv(pp, index=False)
        households.to_csv(hp, index=False)
    return pp, hp


def test_same_seed_gives_byte_identical_files(tmp_path, sim_params, sim_random_frames):
    pp, hp = _write_inputs(tmp_path, sim_random_frames)
    outs = []
    for name in ("a", "b"):
        simulate_files(pp, hp, tmp_path / name, sim_params, seed=11, command=["test"])
        outs.append(tmp_path / name)
    for f in ("households_out.csv", "persons_out.csv"):
        assert (outs[0] / f).read_bytes() == (outs[1] / f).read_bytes()
    sa = json.loads((outs[0] / "summary.json").read_text(encoding="utf-8"))
    sb = json.loads((outs[1] / "summary.json").read_text(encoding="utf-8"))
    sa["manifest"].pop("started"), sb["manifest"].pop("started")
    assert sa == sb
    assert sa["manifest"]["seed"] == 11 and len(sa["manifest"]["inputs"]) == 2
    for key in ("households", "persons", "eligible_households", "eligible_persons",
                "enrolled_households", "coverage_rate", "exclusion_error_rate",
                "inclusion_error_rate", "leakage_rate", "monthly_cost", "annual_cost",
                "parameters", "manifest"):
        assert key in sa
    assert set(sa["annual_cost"]["by_program"]) == {"dibao", "tekun", "marginal"}
    assert sa["manifest"]["parameters_sha256"] and sa["manifest"]["inputs"][0]["sha256"]
    # the digests hashed on a background thread are the files' SHA-256
    import hashlib

    for entry in sa["manifest"]["inputs"]:
        assert entry["sha256"] == hashlib.sha256(Path(entry["path"]).read_bytes()).hexdigest()


def test_simulate_draws_enrolment_with_the_process_model(sim_params, sim_random_frames):
    """simulate_population draws on its columns before building the frame; the draw must be
    population/process.draw_process's on the finished households_out, and paid the
    engine's paid_dibao of it."""
    from jiuzhu_sim.population.process import draw_process
    from jiuzhu_sim.rules import engine

    persons, households = sim_random_frames(400, 8)
    res = simulate(persons, households, sim_params, seed=5)
    h = res.households
    draw = draw_process(h, sim_params, np.random.default_rng(5))
    np.testing.assert_array_equal(h["enrolled"].to_numpy(), draw.enrolled)
    np.testing.assert_array_equal(
        h["paid_dibao_monthly_benefit"].to_numpy(),
        engine.paid_dibao(h["enrolled"], h["dibao_eligible"], h["dibao_monthly_benefit"],
                          h["dibao_standard"], h["measured_per_capita_income"],
                          h["assessed_members"], sim_params))
    assert h["enrolled"].any() and (~h["enrolled"]).any()


def test_parquet_in_and_out(tmp_path, sim_params, sim_random_frames):
    pp, hp = _write_inputs(tmp_path, sim_random_frames, fmt="parquet")
    s = simulate_files(pp, hp, tmp_path / "o", sim_params, seed=1, fmt="parquet")
    out = pd.read_parquet(tmp_path / "o" / "households_out.parquet")
    assert list(out.columns) == HOUSEHOLDS_OUT_COLUMNS and len(out) == s["households"] == 300


def test_gb18030_and_xlsx_inputs(tmp_path, sim_params, sim_frames):
    persons, households = sim_frames([{"household_id": "户1", "members": [
        {"monthly_income": 441}]}])
    persons.to_csv(tmp_path / "p.csv", index=False, encoding="gb18030")
    households.to_excel(tmp_path / "h.xlsx", index=False)
    simulate_files(tmp_path / "p.csv", tmp_path / "h.xlsx", tmp_path / "o", sim_params)
    out = pd.read_csv(tmp_path / "o" / "households_out.csv", encoding="utf-8-sig",
                      dtype={"region_code": str})
    assert out.household_id[0] == "户1" and out.dibao_monthly_benefit[0] == 500
    assert out.region_code[0] == "350581"


def test_cli_simulate_end_to_end(tmp_path, capsys, sim_random_frames):
    pp, hp = _write_inputs(tmp_path, sim_random_frames, n=50)
    code = main(["simulate", "--persons", str(pp), "--households", str(hp), "--out",
                 str(tmp_path / "o"), "--date", "2023-06-01", "--seed", "3",
                 "--set", "dibao.standard=1000"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["households"] == 50
    h = pd.read_csv(tmp_path / "o" / "households_out.csv", encoding="utf-8-sig")
    assert (h.dibao_standard == 1000).all()


# --- bad inputs: exit 2, one line naming file, row and column --------------------------


def _bad_case(tmp_path, capsys, persons, households):
    pp, hp = tmp_path / "persons.csv", tmp_path / "households.csv"
    persons.to_csv(pp, index=False)
    households.to_csv(hp, index=False)
    code = main(["simulate", "--persons", str(pp), "--households", str(hp), "--out",
                 str(tmp_path / "o"), "--date", "2023-06-01"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def _good(make_frames):
    return make_frames([{"household_id": f"h{i}", "members": [{}, {}]} for i in range(3)])


def test_missing_column(tmp_path, capsys, sim_frames):
    persons, households = _good(sim_frames)
    err = _bad_case(tmp_path, capsys, persons.drop(columns="age"), households)
    assert "persons.csv" in err and "column age" in err and "missing" in err


def test_non_numeric_income(tmp_path, capsys, sim_frames):
    persons, households = _good(sim_frames)
    persons["monthly_income"] = persons["monthly_income"].astype(object)
    persons.loc[3, "monthly_income"] = "abc"
    err = _bad_case(tmp_path, capsys, persons, households)
    assert "persons.csv" in err and "row 4" in err and "column monthly_income" in err


def test_duplicate_person_id(tmp_path, capsys, sim_frames):
    persons, households = _good(sim_frames)
    persons.loc[5, "person_id"] = persons.loc[0, "person_id"]
    err = _bad_case(tmp_path, capsys, persons, households)
    assert "persons.csv" in err and "row 6" in err and "column person_id" in err
    assert "duplicate" in err


def test_person_whose_household_is_missing(tmp_path, capsys, sim_frames):
    persons, households = _good(sim_frames)
    persons.loc[2, "household_id"] = "nowhere"
    err = _bad_case(tmp_path, capsys, persons, households)
    assert "persons.csv" in err and "row 3" in err and "column household_id" in err
    assert "nowhere" in err


def test_unknown_region_code(tmp_path, capsys, sim_frames):
    persons, households = _good(sim_frames)
    households.loc[1, "region_code"] = "999999"
    err = _bad_case(tmp_path, capsys, persons, households)
    assert "households.csv" in err and "row 2" in err and "column region_code" in err


def test_unknown_category_word_names_its_first_row(tmp_path, capsys, sim_frames):
    """Rows 2 and 5 hold the same unknown word: the message names row 2 (the first), with
    the word as cleaned (stripped, lower case)."""
    persons, households = _good(sim_frames)
    persons["disability_type"] = persons["disability_type"].astype(object)
    persons.loc[[1, 4], "disability_type"] = " Deaf "
    err = _bad_case(tmp_path, capsys, persons, households)
    assert "row 2" in err and "column disability_type" in err
    assert "unknown disability type 'deaf'" in err
    persons, households = _good(sim_frames)
    persons["care_level"] = persons["care_level"].astype(object)
    persons.loc[3, "care_level"] = "bedridden"
    err = _bad_case(tmp_path, capsys, persons, households)
    assert "row 4" in err and "column care_level" in err and "'bedridden'" in err


def test_with_several_mistakes_the_first_check_in_order_is_reported(tmp_path, capsys,
                                                                    sim_frames):
    """The persons' ID and category checks run on another thread while the households are
    checked; the error reported is still the first in the checks' order: a household's
    bad weight before a duplicate person ID, a duplicate person ID before an unknown care
    level, an unknown disability type before an unknown care level."""
    def broken(weight=False, duplicate=False, disability=False):
        persons, households = _good(sim_frames)
        persons["care_level"] = persons["care_level"].astype(object)
        persons.loc[1, "care_level"] = "bedridden"
        if weight:
            households["weight"] = ["1", "1", "-1"]
        if duplicate:
            persons.loc[5, "person_id"] = persons.loc[0, "person_id"]
        if disability:
            persons["disability_type"] = persons["disability_type"].astype(object)
            persons.loc[4, "disability_type"] = "deaf"
        return _bad_case(tmp_path, capsys, persons, households)

    err = broken(weight=True, duplicate=True, disability=True)
    assert "households.csv" in err and "row 3" in err and "column weight" in err
    err = broken(duplicate=True, disability=True)
    assert "row 6" in err and "column person_id" in err and "duplicate" in err
    err = broken(disability=True)
    assert "row 5" in err and "unknown disability type 'deaf'" in err
    err = broken()
    assert "row 2" in err and "column care_level" in err and "'bedridden'" in err


def test_category_words_are_read_case_and_space_blind(sim_frames):
    """' Intellectual ' → intellectual (code 4 in DISABILITY_TYPES order, intellectual_mental
    true); 'FULL_CARE' → full_care (code 2); blank care → self_care (0); blank type → −1."""
    from jiuzhu_sim.rules import DISABILITY_TYPES
    from jiuzhu_sim.simulation import prepare_population

    persons, households = _good(sim_frames)
    persons = persons.astype({"disability_type": object, "care_level": object})
    persons.loc[0, ["disability_type", "care_level"]] = [" Intellectual ", "FULL_CARE"]
    persons.loc[1, ["disability_type", "care_level"]] = ["", ""]
    persons.loc[2, ["disability_type", "care_level"]] = [None, None]
    pop = prepare_population(persons, households, region_codes={"350581"})
    assert pop.disability_type_code[0] == DISABILITY_TYPES.index("intellectual")
    assert pop.intellectual_mental[0] and not pop.intellectual_mental[1:].any()
    assert list(pop.care_code[:3]) == [2, 0, 0]
    assert list(pop.disability_type_code[1:3]) == [-1, -1]


@pytest.mark.parametrize("cells", [["a1", " b2"], ["a1", "b2\t"], ["a1", "b2\u3000"],
                                   ["a1", "\u00a0b2"], ["", "  "], ["户 ", "b2"]])
def test_strip_text_strips_whenever_a_cell_could_need_it(cells):
    from jiuzhu_sim.io import strip_text

    series = pd.Series(cells, dtype="str")
    assert list(strip_text(series)) == [c.strip() for c in cells]


def test_strip_text_leaves_clean_ids_untouched():
    import pyarrow as pa

    from jiuzhu_sim.io import strip_text

    chunked = pa.chunked_array([["350581199105120022", ""], ["H1"]])
    series = pd.Series(pd.arrays.ArrowStringArray(chunked))
    assert strip_text(series) is series


def test_negative_money(tmp_path, capsys, sim_frames):
    persons, households = _good(sim_frames)
    households.loc[2, "financial_assets"] = -5
    err = _bad_case(tmp_path, capsys, persons, households)
    assert "households.csv" in err and "row 3" in err and "column financial_assets" in err


def test_negative_expense(tmp_path, capsys, sim_frames):
    persons, households = _good(sim_frames)
    persons.loc[0, "medical_expense_annual"] = -1
    err = _bad_case(tmp_path, capsys, persons, households)
    assert "row 1" in err and "column medical_expense_annual" in err


def test_bad_boolean_and_category(tmp_path, capsys, sim_frames):
    persons, households = _good(sim_frames)
    persons["care_level"] = persons["care_level"].astype(object)
    persons.loc[4, "care_level"] = "sometimes"
    err = _bad_case(tmp_path, capsys, persons, households)
    assert "row 5" in err and "column care_level" in err


def test_household_without_members(tmp_path, capsys, sim_frames):
    persons, households = _good(sim_frames)
    err = _bad_case(tmp_path, capsys, persons[persons.household_id != "h1"], households)
    assert "households.csv" in err and "row 2" in err and "column household_id" in err


def test_process_without_noise_full_take_up_enrolls_exactly_the_eligible(sim_params,
                                                                         sim_random_frames):
    persons, households = sim_random_frames(800, seed=9)
    params = sim_params.with_overrides({"process.income_measurement_sigma": 0.0,
                                        "process.take_up_probability": 1.0,
                                        "process.discretion_inclusion_probability": 0.0})
    h = simulate(persons, households, params, seed=1).households
    assert (h.enrolled == h.dibao_eligible).all()
    s = simulate(persons, households, params, seed=1).summary
    assert s["coverage_rate"] == 1.0 and s["inclusion_error_rate"] == 0.0
    assert s["leakage_rate"] == 0.0


def test_process_discretion_only_enrolls_ineligible_near_the_line(sim_params, sim_random_frames):
    # no take-up, certain discretion inside a 10% band above the standard (941 → 1035.1)
    persons, households = sim_random_frames(800, seed=9)
    params = sim_params.with_overrides({"process.income_measurement_sigma": 0.0,
                                        "process.take_up_probability": 0.0,
                                        "process.discretion_inclusion_probability": 1.0})
    h = simulate(persons, households, params, seed=1).households
    enrolled = h[h.enrolled]
    assert len(enrolled) > 0 and not enrolled.dibao_eligible.any()
    assert (enrolled.assessed_per_capita_income >= 941).all()
    assert (enrolled.assessed_per_capita_income < 1035.1).all()
    # paid at least the floor 0.2 × 941 = 188.2 per assessed member
    assert (enrolled.paid_dibao_monthly_benefit
            >= 188.2 * enrolled.assessed_members - 0.005).all()


# --- households of several regions in one run (each gets its own region's standard) ----------


def _three_regions(make_frames, **extra):
    # one member, no income, in Shishi, Nan'an (Quanzhou) and Yongfu (Guangxi)
    return make_frames([
        {"household_id": "S", "region_code": "350581", "members": [{}], **extra},
        {"household_id": "N", "region_code": "350583", "members": [{}], **extra},
        {"household_id": "Y", "region_code": "450326", "urban": False, "members": [{}],
         **extra}])


def test_each_household_gets_its_own_regions_standard(sim_params, sim_frames):
    # Shishi: ceil(1960 × 0.48) = 941; Nan'an (no ratio of its own; 48% is Shishi's, 000):
    # national assumption ceil(1810 × 0.45) = ceil(814.5) = 815;
    # Yongfu: ceil(1430 × 0.45) = ceil(643.5) = 644 (its own ratio, yongfu.yaml)
    persons, households = _three_regions(sim_frames)
    h = simulate(persons, households, sim_params).households.set_index("household_id")
    assert list(h.dibao_standard) == [941, 815, 644]
    assert list(h.dibao_monthly_benefit) == [941, 815, 644]
    # marginal threshold follows: 644 × 1.5 = 966
    assert h.loc["Y", "marginal_threshold"] == 966


def test_set_dibao_standard_overrides_every_region(sim_params, sim_frames):
    persons, households = _three_regions(sim_frames)
    params = sim_params.with_overrides(["dibao.standard=900"])
    result = simulate(persons, households, params)
    assert list(result.households.dibao_standard) == [900, 900, 900]
    assert set(result.summary["regional_standards"]) == {"350581", "350583", "450326"}


def test_tekun_care_standard_follows_the_region(sim_params, sim_frames):
    # Yongfu rural, 70, alone: basic ceil(644 × 1.3) = ceil(837.2) = 838, care ceil(1430 ×
    # 0.1) = 143 → 981; Shishi: 1224 + 196 = 1420
    persons, households = sim_frames([
        {"household_id": "S", "members": [{"age": 70, "work_capacity": False,
                                           "has_supporter": False}]},
        {"household_id": "Y", "region_code": "450326", "urban": False,
         "members": [{"age": 70, "work_capacity": False, "has_supporter": False}]}])
    h = simulate(persons, households, sim_params).households.set_index("household_id")
    assert h.loc["S", "tekun_monthly_benefit"] == 1420
    assert h.loc["Y", "tekun_monthly_benefit"] == 981


def test_single_region_run_has_no_regional_section(sim_params, sim_frames):
    persons, households = _four_households(sim_frames)
    assert "regional_standards" not in simulate(persons, households, sim_params).summary


def test_published_standard_table_is_looked_up_per_household(tmp_path, sim_frames):
    """A copy of params/ with a dibao.standard table (test values, not real ones)."""

    from jiuzhu_sim.parameters import load_parameters

    root = nanan_standard_table(tmp_path)
    persons, households = _three_regions(sim_frames)
    for date, nanan in (("2023-06-01", 900), ("2023-08-01", 950)):
        params = load_parameters("350581", date, params_dir=root)
        h = simulate(persons, households, params).households.set_index("household_id")
        # Nan'an's published standard replaces ceil(1810 × 0.48); the others are unchanged
        assert list(h.dibao_standard) == [941, nanan, 644]


SHIPPED_WAGE_FILES = ("regions/fujian/quanzhou/city.yaml", "regions/fujian/longyan/city.yaml",
                      "regions/fujian/quanzhou/shishi.yaml", "regions/fujian/quanzhou/nanan.yaml",
                      "regions/guangxi/guilin/city.yaml", "regions/guangxi/guilin/yongfu.yaml")


def _params_with_wages_in_the_table(tmp_path):
    """A copy of params/ with every city and county minimum wage moved from its YAML file to
    params/tables/minimum_wage.csv, value, date and reference unchanged."""
    import csv
    import shutil

    import yaml

    from jiuzhu_sim.parameters import default_params_dir

    root = tmp_path / "params"
    shutil.copytree(default_params_dir(), root)
    rows = []
    for rel in SHIPPED_WAGE_FILES:
        path = root / rel
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = doc["parameters"].pop("minimum_wage")
        for day, value in spec["values"].items():
            if isinstance(value, dict):  # a dated entry with its own reference
                value, ref = value["value"], value.get("reference", spec["reference"])
            else:
                ref = spec["reference"]
            rows.append([doc["region"]["code"], str(day), value, ref])
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
    with open(root / "tables" / "minimum_wage.csv", "a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return root


def test_county_wages_from_the_table_give_the_same_results(tmp_path, sim_params,
                                                           sim_random_frames):
    from jiuzhu_sim.parameters import list_regions, load_parameters

    root = _params_with_wages_in_the_table(tmp_path)
    persons, households = sim_random_frames(1500, seed=4)
    # provinces, cities and counties (the national level has no minimum wage)
    codes = sorted(r.code for r in list_regions() if r.code != "000000")
    households["region_code"] = [codes[i % len(codes)] for i in range(len(households))]
    moved = load_parameters("350581", "2023-06-01", params_dir=root)
    assert moved.values["minimum_wage"].source.startswith("params/tables/minimum_wage.csv")
    a = compute_entitlements(persons, households, sim_params).households
    b = compute_entitlements(persons, households, moved).households
    pd.testing.assert_frame_equal(a, b)
    # and the regional standards now come from the table rows: Yongfu ceil(1430 × 0.45) = 644
    from jiuzhu_sim.parameters import regional_parameters

    wage = regional_parameters(moved, ["450326"])["450326"].values["minimum_wage"]
    assert wage.value == 1430 and wage.source.startswith("params/tables/minimum_wage.csv row")
    assert wage.reference.startswith("assumption: Yongfu county in Guangxi tier 3")
    result = simulate(persons, households, moved)
    yongfu = {r["name"]: r for r in result.summary["regional_standards"]["450326"]}
    assert yongfu["dibao.standard.rural"]["value"] == 644


def test_households_carry_their_own_assessment_date(tmp_path, sim_frames):
    """A dibao.standard table for Nan'an (test values, not real ones), households assessed on
    different dates; blank = the run's date."""

    from jiuzhu_sim.exceptions import UserInputError
    from jiuzhu_sim.parameters import load_parameters

    root = nanan_standard_table(tmp_path)
    persons, households = sim_frames([
        {"household_id": "N1", "region_code": "350583", "assessment_date": "2023-06-30",
         "members": [{}]},
        {"household_id": "N2", "region_code": "350583", "assessment_date": "2023-07-01",
         "members": [{}]},
        {"household_id": "N3", "region_code": "350583", "assessment_date": "",
         "members": [{}]},
        {"household_id": "S", "region_code": "350581", "assessment_date": "2023-08-01",
         "members": [{}]}])
    params = load_parameters("350581", "2023-06-01", params_dir=root)
    result = simulate(persons, households, params)
    h = result.households.set_index("household_id")
    # Nan'an 900 until 2023-06-30, 950 from 2023-07-01; N3 on the run's date (900); Shishi's
    # YAML wage has one value, so ceil(1960 × 0.48) = 941 on any date after 2022-04-01
    assert list(h.dibao_standard) == [900, 950, 900, 941]
    assert set(result.summary["regional_standards"]) == {
        "350583", "350583@2023-07-01", "350581@2023-08-01"}
    households.loc[1, "assessment_date"] = "2023/07/01"
    with pytest.raises(UserInputError, match="households, row 2, column assessment_date: "
                                             "date '2023/07/01' is not YYYY-MM-DD"):
        simulate(persons, households, params)


# --- money: float64, rounding rule, totals reconcile to the fen --------------------------------


def test_money_columns_are_float64(sim_params, sim_random_frames):
    persons, households = sim_random_frames(500, seed=2)
    result = simulate(persons, households, sim_params)
    for col in ("per_capita_income", "assessed_per_capita_income", "dibao_standard",
                "dibao_monthly_benefit", "tekun_monthly_benefit", "marginal_threshold",
                "paid_dibao_monthly_benefit"):
        assert result.households[col].dtype == np.float64, col
    assert result.persons.tekun_monthly_benefit.dtype == np.float64


def test_benefit_rounding_parameter(sim_run):
    # ill member spends 6001/year: (12 × 2000 − 6001) / 12 / 2 = 17999 / 24 = 749.958…;
    # top-up 941 × 2 − 17999/12 = 1882 − 1499.9166… = 382.0833…
    spec = [{"household_id": "E", "members": [
        {"monthly_income": 1200},
        {"monthly_income": 800, "serious_illness": True, "medical_expense_annual": 6001}]}]
    assert sim_run(spec)[0].loc["E"].dibao_monthly_benefit == 382.08  # fen (default)
    assert sim_run(spec, {"dibao.benefit_rounding": "yuan"})[0].loc["E"] \
        .dibao_monthly_benefit == 382
    assert sim_run(spec, {"dibao.benefit_rounding": "ceil_yuan"})[0].loc["E"] \
        .dibao_monthly_benefit == 383


def test_dibao_payment_is_rounded_once(sim_run):
    # ill member spends 6000.05/year: top-up 941 × 2 − (12 × 2000 − 6000.05) / 12
    # = 1882 − 1499.99583… = 382.00417…; rounded once: fen 382.00, ceil_yuan 383 (rounding
    # the top-up to the fen first would make ceil_yuan give 382)
    spec = [{"household_id": "E", "members": [
        {"monthly_income": 1200},
        {"monthly_income": 800, "serious_illness": True, "medical_expense_annual": 6000.05}]}]
    assert sim_run(spec)[0].loc["E"].dibao_monthly_benefit == 382.0
    assert sim_run(spec, {"dibao.benefit_rounding": "ceil_yuan"})[0].loc["E"] \
        .dibao_monthly_benefit == 383


def test_gradual_exit_amount_follows_the_benefit_rounding(sim_run):
    # 300.01 × 0.5 = 150.005 → fen (half away) 150.01; whole yuan 150
    spec = [{"household_id": "g", "previous_dibao_benefit": 300.01, "months_above_standard": 1,
             "members": [{"monthly_income": 1000}]}]
    share = {"dibao.gradual_exit_benefit_share": 0.5}
    assert sim_run(spec, share)[0].loc["g"].dibao_monthly_benefit == 150.01
    assert sim_run(spec, {**share, "dibao.benefit_rounding": "yuan"})[0].loc["g"] \
        .dibao_monthly_benefit == 150


def test_tekun_benefit_rounding_parameter(sim_run):
    # dispersed, semi-care set to 490.55: 1224 + 490.55 = 1714.55 → fen 1714.55, yuan 1715,
    # jiao 1714.6; the household's total is its person's amount
    spec = [{"household_id": "T", "members": [
        {"age": 70, "work_capacity": False, "has_supporter": False, "care_level": "semi_care"}]}]
    care = {"tekun.care_standard.semi_care": 490.55}
    for rule, amount in (("fen", 1714.55), ("yuan", 1715.0), ("jiao", 1714.6)):
        h, p = sim_run(spec, {**care, "tekun.benefit_rounding": rule})
        assert p.loc["T-1"].tekun_monthly_benefit == amount, rule
        assert h.loc["T"].tekun_monthly_benefit == amount, rule


def test_unknown_tekun_rounding_rule_names_its_parameter(sim_params, sim_frames):
    from jiuzhu_sim.exceptions import ParameterError

    persons, households = sim_frames([{"household_id": "T", "members": [
        {"age": 70, "work_capacity": False, "has_supporter": False}]}])
    with pytest.raises(ParameterError, match="tekun.benefit_rounding"):
        compute_entitlements(persons, households,
                             sim_params.with_overrides({"tekun.benefit_rounding": "banker"}))


def test_summary_totals_reconcile_to_the_fen_with_the_output_files(tmp_path, sim_params,
                                                                    sim_random_frames):
    persons, households = sim_random_frames(3000, seed=11)
    households["weight"] = np.round(np.random.default_rng(1).uniform(0.5, 3.0,
                                                                     len(households)), 3)
    pp, hp = tmp_path / "p.csv", tmp_path / "h.csv"
    persons.to_csv(pp, index=False)
    households.to_csv(hp, index=False)
    summary = simulate_files(pp, hp, tmp_path / "out", sim_params, seed=5)
    h = pd.read_csv(tmp_path / "out" / "households_out.csv")
    p = pd.read_csv(tmp_path / "out" / "persons_out.csv")
    w = h["weight"].to_numpy()
    by = summary["monthly_cost"]["by_program"]
    fen = 0.005  # half a fen: the summary rounds each total to the fen once
    assert abs(by["dibao"] - (w * h.paid_dibao_monthly_benefit).sum()) <= fen
    assert abs(by["tekun"] - (w * h.tekun_monthly_benefit).sum()) <= fen
    assert abs(by["marginal"] - (w * h.marginal_monthly_benefit).sum()) <= fen
    assert abs(summary["monthly_cost"]["total"] - sum(by.values())) < 1e-6
    assert abs(summary["entitled_monthly_cost"]["dibao"]
               - (w * h.dibao_monthly_benefit).sum()) <= fen
    # annual = 12 × monthly, per program, to the fen; totals are the sums of their parts
    for k, v in by.items():
        assert abs(summary["annual_cost"]["by_program"][k] - 12 * v) < 1e-6
    assert abs(summary["annual_cost"]["total"]
               - sum(summary["annual_cost"]["by_program"].values())) < 1e-6
    # persons_out's tekun amounts add up to households_out's, household by household
    per_household = p.groupby("household_id").tekun_monthly_benefit.sum()
    joined = h.set_index("household_id").tekun_monthly_benefit
    assert np.abs(per_household.reindex(joined.index) - joined).max() < 1e-6
    # every amount is whole fen
    for col in ("dibao_monthly_benefit", "tekun_monthly_benefit", "paid_dibao_monthly_benefit"):
        cents = h[col].to_numpy() * 100
        assert np.abs(cents - np.round(cents)).max() < 1e-6, col


def test_calibrated_simulation_meets_the_published_totals(tmp_path):
    # the committed sample (300 households) reweighted to Fujian 2021 (the region's
    # calibration.* targets): weighted enrolled persons in urban households = 64,992 and in
    # rural ones = 483,970 (Yearbook 2022 t.20-2), persons = calibration.population_total;
    # entitlements are the rules' and do not move with weights
    from pathlib import Path

    from jiuzhu_sim.cli import main
    from jiuzhu_sim.parameters import load_parameters
    from jiuzhu_sim.simulation import read_population, simulate_calibrated, simulate_population

    root = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "population"
    params = load_parameters("350581", "2024-01-01")
    pop = read_population(root / "persons.csv", root / "households.csv")
    plain = simulate_population(pop, params, 1)
    cal = simulate_calibrated(pop, params, 1)
    assert cal.summary["calibration"]["converged"]
    h = cal.households
    w = h["weight"].to_numpy(float)
    recipients = np.where(h["enrolled"], np.where(h["dibao_eligible"], h["dibao_members"],
                                                  h["assessed_members"]), 0)
    urban = h["urban"].to_numpy(bool)
    assert (w * recipients)[urban].sum() == pytest.approx(
        params["calibration.dibao_persons.urban"], rel=1e-6)
    assert (w * recipients)[~urban].sum() == pytest.approx(
        params["calibration.dibao_persons.rural"], rel=1e-6)
    assert cal.summary["persons"] == pytest.approx(params["calibration.population_total"],
                                                   rel=1e-6)
    for col in ("dibao_eligible", "dibao_monthly_benefit", "enrolled", "tekun_monthly_benefit"):
        assert (h[col].to_numpy() == plain.households[col].to_numpy()).all()
    assert cal.summary["calibration"]["uncalibrated"]["coverage_rate"] == plain.summary[
        "coverage_rate"]
    out = tmp_path / "o"
    assert main(["simulate", "--persons", str(root / "persons.csv"), "--households",
                 str(root / "households.csv"), "--out", str(out), "--params", "350581",
                 "--date", "2024-01-01", "--calibrate"]) == 0
    fit = pd.read_csv(out / "calibration_fit.csv", encoding="utf-8-sig")
    assert fit["relative_error_after"].abs().max() < 1e-6


# --- the fast CSV reader (Arrow) gives what the general reader gives ---------------------


def _population_fields(pop) -> dict:
    import dataclasses

    out = {}
    for f in dataclasses.fields(pop):
        value = getattr(pop, f.name)
        if isinstance(value, pd.Series):
            out[f.name] = value.astype(str).tolist()
        elif isinstance(value, np.ndarray):
            out[f.name] = value
        elif f.name != "extra":
            out[f.name] = value
    return out


def _general_population(pp, hp):
    """What read_population gave before the fast reader: the general reader (pandas, every
    cell as text), then the same validation."""
    from jiuzhu_sim.io import read_table
    from jiuzhu_sim.simulation import prepare_population

    return prepare_population(read_table(pp), read_table(hp), (str(pp), str(hp)))


def _assert_same_population(a, b):
    fa, fb = _population_fields(a), _population_fields(b)
    assert fa.keys() == fb.keys()
    for key in fa:
        if isinstance(fa[key], np.ndarray):
            np.testing.assert_array_equal(fa[key], fb[key], err_msg=key)
            assert fa[key].dtype == fb[key].dtype, key
        else:
            assert fa[key] == fb[key], key


def test_fast_csv_reader_gives_the_general_readers_population(tmp_path, sim_random_frames):
    from jiuzhu_sim.io import read_csv_typed
    from jiuzhu_sim.simulation import PERSON_BOOLEAN, PERSON_NUMERIC, read_population

    pp, hp = _write_inputs(tmp_path, sim_random_frames, n=400, seed=5)
    assert read_csv_typed(pp, PERSON_NUMERIC, PERSON_BOOLEAN) is not None  # really fast path
    _assert_same_population(read_population(pp, hp), _general_population(pp, hp))


def test_fast_csv_reader_reads_quoted_files(tmp_path, sim_random_frames):
    """Every cell and the header in quotes (csv.QUOTE_ALL; Arrow's writer, hence our own
    outputs and `synth population`, quotes every text cell): still the fast path, same
    population as the general reader."""
    import csv

    from jiuzhu_sim.io import read_csv_typed
    from jiuzhu_sim.simulation import PERSON_BOOLEAN, PERSON_NUMERIC, read_population

    persons, households = sim_random_frames(300, 6)
    pp, hp = tmp_path / "persons.csv", tmp_path / "households.csv"
    persons.to_csv(pp, index=False, quoting=csv.QUOTE_ALL)
    households.to_csv(hp, index=False, quoting=csv.QUOTE_ALL)
    assert pp.read_text(encoding="utf-8").startswith('"')  # really quoted
    assert read_csv_typed(pp, PERSON_NUMERIC, PERSON_BOOLEAN) is not None  # really fast path
    _assert_same_population(read_population(pp, hp), _general_population(pp, hp))


def test_synth_population_csv_takes_the_fast_reader(tmp_path, sim_params):
    """The files `jiuzhu synth population` writes are the benchmark's input: if the fast
    reader declined them, simulate would silently run 3x slower (it did, at 6d629cf)."""
    from jiuzhu_sim.io import read_csv_typed
    from jiuzhu_sim.population.generate import write_population
    from jiuzhu_sim.simulation import (
        HOUSEHOLD_BOOLEAN,
        HOUSEHOLD_NUMERIC,
        PERSON_BOOLEAN,
        PERSON_NUMERIC,
        read_population,
    )

    pp, hp = write_population(tmp_path, sim_params, 200, seed=3)
    assert read_csv_typed(pp, PERSON_NUMERIC, PERSON_BOOLEAN) is not None
    assert read_csv_typed(hp, HOUSEHOLD_NUMERIC, HOUSEHOLD_BOOLEAN) is not None
    _assert_same_population(read_population(pp, hp), _general_population(pp, hp))


def test_fast_csv_reader_accepts_what_both_read_alike(tmp_path, sim_frames):
    """Blank booleans (false), 1/0, TRUE, spaces around numbers and IDs: same population
    either way."""
    from jiuzhu_sim.simulation import read_population

    persons, households = _good(sim_frames)
    persons = persons.astype(object)
    persons.loc[0, "serious_illness"] = ""
    persons.loc[1, "work_capacity"] = "1"
    persons.loc[2, "in_school"] = "TRUE"
    persons.loc[3, "monthly_income"] = " 12.5"
    persons.loc[4, "person_id"] = " h2-1x "
    pp, hp = tmp_path / "persons.csv", tmp_path / "households.csv"
    persons.to_csv(pp, index=False)
    households.to_csv(hp, index=False)
    fast = read_population(pp, hp)
    _assert_same_population(fast, _general_population(pp, hp))
    # hand-checked: blank → False, "1" → True, " 12.5" → 12.5, ID stripped
    assert not fast.serious_illness[0] and fast.work_capacity[1] and fast.in_school[2]
    assert fast.monthly_income[3] == 12.5 and fast.person_id[4] == "h2-1x"


@pytest.mark.parametrize("case", ["yes_no_words", "quoted_id_after_space", "gb18030",
                                  "duplicate_header", "ragged_row", "thousands_separator"])
def test_fast_csv_reader_declines_what_only_the_general_reader_reads(tmp_path, sim_frames,
                                                                     case):
    from jiuzhu_sim.io import read_csv_typed
    from jiuzhu_sim.simulation import PERSON_BOOLEAN, PERSON_NUMERIC, read_population

    persons, households = _good(sim_frames)
    hp = tmp_path / "households.csv"
    households.to_csv(hp, index=False)
    pp = tmp_path / "persons.csv"
    persons = persons.astype(object)
    if case == "yes_no_words":
        persons.loc[0, "serious_illness"] = "是"
    elif case == "gb18030":
        persons.loc[0, "disability_type"] = ""
        persons.loc[0, "person_id"] = "户甲"
    elif case == "thousands_separator":
        persons.loc[0, "monthly_income"] = "1,200"
    text = persons.to_csv(index=False)
    if case == "quoted_id_after_space":
        text = text.replace("\nh0-1,", '\n "h0-1",', 1)
    elif case == "duplicate_header":
        text = text.replace("age,", "age ,", 1).replace("monthly_income,", "age,", 1)
    elif case == "ragged_row":
        text = text.replace("\nh0-1,", "\nh0-1,extra,", 1)
    pp.write_bytes(text.encode("gb18030" if case == "gb18030" else "utf-8"))
    assert read_csv_typed(pp, PERSON_NUMERIC, PERSON_BOOLEAN) is None
    if case in ("duplicate_header", "ragged_row"):
        return  # the general reader's own business (pandas renames / reports the row)
    pop = read_population(pp, hp)
    _assert_same_population(pop, _general_population(pp, hp))
    if case == "yes_no_words":
        assert pop.serious_illness[0]  # 是 = true
    elif case == "quoted_id_after_space":
        assert pop.person_id[0] == "h0-1"
    elif case == "thousands_separator":
        assert pop.monthly_income[0] == 1200.0


def test_bad_cell_message_quotes_the_cell_as_written(tmp_path, capsys, sim_frames):
    """Arrow reads 'nan' as a number; the run still stops with the general reader's message
    quoting the cell."""
    persons, households = _good(sim_frames)
    persons = persons.astype(object)
    persons.loc[2, "monthly_income"] = "nan"
    err = _bad_case(tmp_path, capsys, persons, households)
    assert "not a number: 'nan'" in err and "row 3" in err and "column monthly_income" in err


def test_fast_and_general_readers_write_byte_identical_outputs(tmp_path, sim_params,
                                                               sim_random_frames, monkeypatch):
    import jiuzhu_sim.simulation as simulation

    pp, hp = _write_inputs(tmp_path, sim_random_frames, n=500, seed=9)
    simulate_files(pp, hp, tmp_path / "fast", sim_params, seed=4)
    monkeypatch.setattr(simulation, "read_csv_typed", lambda *a, **k: None)
    simulate_files(pp, hp, tmp_path / "general", sim_params, seed=4)
    for name in ("households_out.csv", "persons_out.csv"):
        assert (tmp_path / "fast" / name).read_bytes() == (tmp_path / "general" / name
                                                            ).read_bytes()
    fast = json.loads((tmp_path / "fast" / "summary.json").read_text(encoding="utf-8"))
    general = json.loads((tmp_path / "general" / "summary.json").read_text(encoding="utf-8"))
    fast.pop("manifest"), general.pop("manifest")
    assert fast == general


def test_persons_listed_in_household_order_map_without_hashing():
    from jiuzhu_sim.simulation import _households_in_order

    hid = pd.Series(["a", "b", "c"], dtype="str")
    grouped = pd.Series(["a", "a", "b", "c", "c", "c"], dtype="str")
    np.testing.assert_array_equal(_households_in_order(hid, grouped), [0, 0, 1, 2, 2, 2])
    # interleaved, out of order, or a household without members: the caller factorizes
    assert _households_in_order(hid, pd.Series(["a", "b", "a", "c"], dtype="str")) is None
    assert _households_in_order(hid, pd.Series(["b", "a", "c"], dtype="str")) is None
    assert _households_in_order(hid, pd.Series(["a", "c"], dtype="str")) is None


def test_distinct_text_proves_distinct_ids_or_declines():
    from jiuzhu_sim.io import distinct_text

    ids = pd.Series(["350581199105120022", "350581199001010013", "350581199001010021"],
                    dtype="str")
    assert distinct_text(ids) is True
    assert distinct_text(pd.concat([ids, ids.iloc[:1]], ignore_index=True)) is None
    assert distinct_text(pd.Series(["P1", "P22"], dtype="str")) is None  # widths differ


def test_distinct_text_reads_chunked_columns_as_one():
    """The CSV reader leaves a column in chunks: a duplicate split across two chunks is
    still seen (None), distinct IDs in several chunks are proven (True), and a chunk of
    another width declines (None)."""
    import pyarrow as pa

    from jiuzhu_sim.io import distinct_text

    def chunked(*chunks):
        return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(
            [pa.array(c, pa.large_string()) for c in chunks])))

    a, b, c = "350581199105120022", "350581199001010013", "350581199001010021"
    assert distinct_text(chunked([a, b], [c])) is True
    assert distinct_text(chunked([a, b], [c, a])) is None
    assert distinct_text(chunked([a, b], ["H35058100000001"])) is None


def test_a_failed_run_leaves_no_half_written_persons_out(tmp_path, sim_params,
                                                         sim_random_frames, monkeypatch):
    """persons_out and households_out are formatted on other threads before the summary;
    if the run fails after that, neither file nor its partial file is left behind."""
    import jiuzhu_sim.simulation as simulation

    pp, hp = _write_inputs(tmp_path, sim_random_frames, n=50, seed=3)

    def broken(*args, **kwargs):
        raise RuntimeError("summary failed")

    monkeypatch.setattr(simulation, "summarise", broken)
    with pytest.raises(RuntimeError, match="summary failed"):
        simulate_files(pp, hp, tmp_path / "o", sim_params, seed=1)
    assert not list((tmp_path / "o").glob("persons_out*"))
    assert not list((tmp_path / "o").glob("households_out*"))


def test_households_out_is_written_before_the_summary_and_removed_if_it_fails(
        tmp_path, sim_params, sim_random_frames, monkeypatch):
    """households_out starts writing before the summary runs (the summary here waits for
    its partial file to exist, then fails): the failed run leaves neither file behind."""
    import time

    import jiuzhu_sim.simulation as simulation

    pp, hp = _write_inputs(tmp_path, sim_random_frames, n=50, seed=3)
    out = tmp_path / "o"

    def late(*args, **kwargs):
        deadline = time.monotonic() + 30
        while not (out / "households_out.csv.partial").exists():
            assert time.monotonic() < deadline, "households_out was not started"
            time.sleep(0.01)
        raise RuntimeError("summary failed")

    monkeypatch.setattr(simulation, "summarise", late)
    with pytest.raises(RuntimeError, match="summary failed"):
        simulate_files(pp, hp, out, sim_params, seed=1)
    assert not list(out.glob("*_out*"))


def test_a_failed_writer_fails_the_run_and_leaves_no_output(tmp_path, sim_params,
                                                            sim_random_frames, monkeypatch):
    """A disk error while households_out is written: simulate_files raises it, and no
    output (nor partial file) is left."""
    import jiuzhu_sim.simulation as simulation

    pp, hp = _write_inputs(tmp_path, sim_random_frames, n=50, seed=3)
    write = simulation._write_csv

    def failing(frame, path, parts=1):
        if "households" in path.name:
            raise OSError("disk full")
        return write(frame, path, parts)

    monkeypatch.setattr(simulation, "_write_csv", failing)
    with pytest.raises(OSError, match="disk full"):
        simulate_files(pp, hp, tmp_path / "o", sim_params, seed=1)
    assert not list((tmp_path / "o").glob("*_out*"))
    assert not (tmp_path / "o" / "summary.json").exists()


def test_csv_written_in_slices_is_the_same_bytes(tmp_path):
    """write_csv_arrow(parts=3): slices formatted on three threads, header once — the bytes
    of one pass (commas, quotes, formula-looking text, Chinese, booleans, NaN)."""
    from jiuzhu_sim.io import write_csv_arrow

    n = 1001
    frame = pd.DataFrame({
        "x": np.arange(n) * 1.5, "flag": np.arange(n) % 2 == 0,
        "text": ["a,b" if i % 7 == 0 else "=1+1" if i % 11 == 0 else '说"明' if i % 13 == 0
                 else "中文" for i in range(n)],
        "gap": np.where(np.arange(n) % 5 == 0, np.nan, 2.0)})
    one = write_csv_arrow(frame, tmp_path / "one.csv")
    three = write_csv_arrow(frame, tmp_path / "three.csv", parts=3)
    assert one.read_bytes() == three.read_bytes()
    assert one.read_bytes().count(b"\n") == n + 1  # header once


def test_a_full_disk_is_one_line_and_leaves_no_output(tmp_path, capsys, sim_random_frames,
                                                      monkeypatch):
    """The disk refuses persons_out's bytes (ENOSPC, as a write() gives it, no file named):
    exit 2, one line naming the file being written and the reason (no traceback), and no
    output or partial file left behind."""
    import errno

    import jiuzhu_sim.io as io

    pp, hp = _write_inputs(tmp_path, sim_random_frames, n=50, seed=3)
    real = io._write_csv_table

    def full_for_persons(table, path, parts, options):
        if path.name.startswith("persons_out"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(table, path, parts, options)

    monkeypatch.setattr(io, "_write_csv_table", full_for_persons)
    code = main(["simulate", "--persons", str(pp), "--households", str(hp), "--out",
                 str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == [
        f"jiuzhu simulate: {tmp_path / 'o' / 'persons_out.csv.partial'}: "
        "No space left on device"]
    assert not list((tmp_path / "o").glob("*_out*"))
    assert not (tmp_path / "o" / "summary.json").exists()
