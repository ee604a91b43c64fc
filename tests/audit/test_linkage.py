"""Record linkage behind mistyped IDs (audit/linkage.py, docs/linkage.md): ID normalisation
(resident_id.py), hand-made pairs, the fixed-m/u fallback, and recall and precision of the
probabilistic path on the synthetic county's planted typos (audit/synth.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jiuzhu_sim.audit import linkage
from jiuzhu_sim.audit.synth import generate_audit_data, make_names, make_resident_ids
from jiuzhu_sim.parameters import load_parameters
from jiuzhu_sim.resident_id import birth_dates_of_ids, normalize_ids, sexes_of_ids

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linkage"


@pytest.fixture(scope="module")
def params():
    return load_parameters("350581", "2024-06-30")


# --- normalisation (GB 11643) ------------------------------------------------------------


def test_fifteen_digit_id_gets_century_and_check_character():
    # 350581800517123 → body 350581 19 800517 123 = 35058119800517123.
    # Σ digit × weight (weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2):
    # 3·7 + 5·9 + 0·10 + 5·5 + 8·8 + 1·4 + 1·2 + 9·1 + 8·6 + 0·3 + 0·7 + 5·9 + 1·10 + 7·5
    # + 1·8 + 2·4 + 3·2 = 21+45+0+25+64+4+2+9+48+0+0+45+10+35+8+8+6 = 330; 330 mod 11 = 0
    # → '10X98765432'[0] = '1'
    assert list(normalize_ids(["350581800517123"])) == ["350581198005171231"]


def test_fifteen_digit_id_with_check_x():
    # 110105491231002 → 11010519491231002: Σ = 167 (see test_synth), 167 mod 11 = 2 → 'X'
    assert list(normalize_ids(["110105491231002"])) == ["11010519491231002X"]


def test_full_width_digits_spaces_and_lower_x():
    raw = ["３５０５８１１９８００５１７１２３１", " 11010519491231002x ",
           "110105 1949\u30001231 002X", "11010519491231002ｘ"]
    assert list(normalize_ids(raw)) == ["350581198005171231"] + ["11010519491231002X"] * 3


def test_bad_ids_stay_bad_and_blanks_are_empty():
    assert list(normalize_ids([None, "", "abc", "35058119800517123"])) == [
        "", "", "ABC", "35058119800517123"]


def test_birth_date_and_sex_from_the_id():
    ids = ["350581198005171231", "11010519491231002X", "350581198002301231", "123"]
    births = birth_dates_of_ids(ids)
    assert str(births[0]) == "1980-05-17" and str(births[1]) == "1949-12-31"
    assert np.isnat(births[2]) and np.isnat(births[3])  # 30 February; not an ID
    # 17th character: 3 odd → male, 2 even → female
    assert list(sexes_of_ids(ids)) == ["M", "F", "M", ""]


# --- hand-made pairs ---------------------------------------------------------------------


def _padded_right(n: int = 20_000) -> pd.DataFrame:
    """The fixture's six people among ``n`` generated residents (a county-sized right side,
    so the prior is realistic)."""
    rng = np.random.default_rng(7)
    births = np.datetime64("2024-06-30") - (rng.uniform(18, 90, n) * 365.25).astype(
        "timedelta64[D]")
    ids = make_resident_ids(np.full(n, 350581), births, rng)
    pad = pd.DataFrame({"key": [f"p{i}" for i in range(n)], "person_id": ids,
                        "name": make_names(rng, n)})
    fixture = pd.read_csv(FIXTURES / "right.csv", dtype=str)
    pad = pad[~pad["person_id"].isin(set(fixture["person_id"]))]
    return pd.concat([fixture, pad], ignore_index=True)


@pytest.fixture(scope="module")
def hand_links(params):
    left = pd.read_csv(FIXTURES / "left.csv", dtype=str, keep_default_na=False)
    return left, linkage.link_candidates(left, _padded_right(), params, "deceased_paid")


def test_hand_made_pairs_are_found(hand_links):
    left, links = hand_links
    best = links[links["rank"] == 1].set_index("left_key")["right_key"]
    for row in left.itertuples():
        if row.expected_right_key:
            assert best.get(row.key) == row.expected_right_key, row.case
        else:
            assert row.key not in best.index, row.case


def test_old_and_full_width_ids_are_deterministic_matches(hand_links):
    _, links = hand_links
    rule = links.set_index("left_key").loc[["a", "b"]]
    assert (rule["match_rule"] == "normalized_id").all()
    assert (rule["match_probability"] == 1.0).all() and (rule["id_edit_distance"] == 0).all()


def test_typos_carry_their_evidence(hand_links):
    _, links = hand_links
    by_left = links[links["rank"] == 1].set_index("left_key")
    assert by_left.loc["c", "id_edit_distance"] == 1
    assert by_left.loc["c", "agreeing_fields"] == "name;birth_date;region;id"  # sex digit hit
    assert by_left.loc["d", "id_edit_distance"] == 1  # one transposition
    assert "name" in by_left.loc["e", "agreeing_fields"].split(";")  # same pinyin
    assert (by_left["match_probability"] >= 0.8).all()
    assert set(by_left["model"]) <= {"rule", "fixed"}


def test_same_name_and_birth_date_stranger_is_not_a_match(params):
    """林建国 born 1955-10-10 twice, but another province's address code and the other sex:
    two independent typos would be needed, so among a county's 20,000 people the pair stays
    well below the review threshold."""
    left = pd.read_csv(FIXTURES / "left.csv", dtype=str, keep_default_na=False)
    low = params.with_overrides({"linkage.review_threshold_match_probability": 0.0})
    scored = linkage.link_candidates(left[left["key"] == "f"], _padded_right(), low,
                                     "deceased_paid")
    r5 = scored[scored["right_key"] == "r5"]
    assert len(r5) == 1 and r5["agreeing_fields"].iloc[0] == "name;birth_date"
    assert r5["match_probability"].iloc[0] < 0.5


def test_small_lists_use_the_fixed_m_u_values(params):
    """Seven unmatched records cannot train EM (linkage.em_min_left_records): the fixed,
    documented m/u of linkage.yaml are used, and forcing EM on them falls back too."""
    left = pd.read_csv(FIXTURES / "left.csv", dtype=str, keep_default_na=False)
    right = pd.read_csv(FIXTURES / "right.csv", dtype=str)
    for mode in ("auto", "em"):
        links = linkage.link_candidates(left, right, params.with_overrides(
            {"linkage.training": mode}), "deceased_paid")
        assert set(links.loc[links["match_rule"] == "probabilistic", "model"]) == {"fixed"}


def test_same_input_same_output(params):
    left = pd.read_csv(FIXTURES / "left.csv", dtype=str, keep_default_na=False)
    right = _padded_right(3_000)
    a = linkage.link_candidates(left, right, params, "deceased_paid")
    b = linkage.link_candidates(left, right, params, "deceased_paid")
    pd.testing.assert_frame_equal(a, b)


def test_no_records_no_rows(params):
    empty = pd.DataFrame({"key": [], "person_id": [], "name": []})
    out = linkage.link_candidates(empty, pd.read_csv(FIXTURES / "right.csv", dtype=str),
                                  params, "deceased_paid")
    assert out.empty and list(out.columns) == linkage.LINK_COLUMNS


# --- the synthetic county's planted typos ------------------------------------------------

MIN_RECALL = {"deceased_paid": 0.9, "duplicate_region": 0.9, "paid_not_on_roster": 0.5}
MIN_PRECISION = 0.9


@pytest.fixture(scope="module")
def county_review(params):
    on = params.with_overrides({"audit_synth.linkage_cases": True})
    frames = generate_audit_data(on, n_households=10_000, seed=20240101)
    review = linkage.review_matches(frames["roster"], frames["payments"], frames["deaths"],
                                    on)
    return frames, review


def score(truth_linkage: pd.DataFrame, review: pd.DataFrame, purpose: str):
    """(recall, precision, planted) of the best match per left record against the planted
    (written ID, true ID) pairs."""
    planted = truth_linkage[truth_linkage["check"] == f"probable_{purpose}"]
    truth = set(zip(planted["person_id_written"], planted["person_id_true"], strict=True))
    best = review[(review["purpose"] == purpose) & (review["rank"] == 1)]
    found = set(zip(best["person_id_left"], best["person_id_right"], strict=True))
    hit = len(truth & found)
    return hit / len(truth), (hit / len(found) if found else 1.0), len(truth)


@pytest.mark.parametrize("purpose", linkage.PURPOSES)
def test_planted_typos_recall_and_precision(county_review, purpose):
    frames, review = county_review
    recall, precision, planted = score(frames["truth_linkage"], review, purpose)
    print(f"{purpose}: planted {planted}, recall {recall:.3f}, precision {precision:.3f}")
    assert planted >= 15
    assert recall >= MIN_RECALL[purpose], recall
    assert precision >= MIN_PRECISION, precision


def test_review_rows_say_what_to_check(county_review):
    frames, review = county_review
    assert list(review.columns) == linkage.REVIEW_COLUMNS
    assert (review["periods"] != "").all() and (review["amount"] > 0).all()
    dead = review[review["purpose"] == "deceased_paid"]
    truth = frames["truth"]
    months = truth[truth["check"] == "probable_deceased_paid"].groupby("person_id")[
        "period"].agg(lambda p: ";".join(sorted(p)))
    hit = dead[dead["person_id_right"].isin(months.index)]
    assert (hit["periods"].to_numpy() == months.loc[hit["person_id_right"]].to_numpy()).all()


@pytest.mark.slow
def test_linkage_cases_leave_the_exact_checks_exact(tmp_path, params):
    """With the typos planted, every exact check still scores ≥ 0.95 against truth.csv (the
    mistyped payments are genuine paid_not_on_roster cases and are labelled so)."""
    from jiuzhu_sim.audit import runner
    from jiuzhu_sim.audit.synth import CHECKS, write_audit_data

    on = params.with_overrides({"audit_synth.anomaly_rate": 0.006,
                                "audit_synth.min_planted_per_check": 20,
                                "audit_synth.linkage_cases": True})
    write_audit_data(tmp_path / "data", on, n_households=2700, seed=20240101)
    truth = pd.read_csv(tmp_path / "data" / "truth.csv", encoding="utf-8-sig", dtype=str,
                        keep_default_na=False)
    findings = runner.run_audit(tmp_path / "data", "2024-01", "2024-06", params=on,
                                out_dir=tmp_path / "out").findings
    for check in CHECKS:
        t = truth[truth["check"] == check]
        f = findings[findings["check"] == check]
        by_period = bool((t["period"] != "").all() and (f["period"].fillna("") != "").all())
        cols = ["person_id", "period"] if by_period else ["person_id"]
        planted = set(map(tuple, t[cols].astype(str).to_numpy()))
        found = set(map(tuple, f[cols].fillna("").astype(str).to_numpy()))
        hit = len(planted & found)
        assert hit / len(planted) >= 0.95 and hit / max(len(found), 1) >= 0.95, check
