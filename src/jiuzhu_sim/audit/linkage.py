"""Probable matches behind mistyped resident IDs (疑似同一人): record linkage for the audit.

When an exact ID join finds nothing — a death record whose ID has a mistyped digit, a second
region paying the same person under a transposed ID, a payment to an ID one digit off a
roster person — the exact checks (``deceased_paid``, ``duplicate_region``,
``paid_not_on_roster``) stay silent. This module links the records that found **no exact
match** probabilistically (Fellegi–Sunter, with splink 5) and returns candidate pairs for a
human to check (``review_matches.csv``, "needs checking" / 待核实). It never makes findings.

Steps (docs/linkage.md):

1. Normalise IDs (:func:`jiuzhu_sim.resident_id.normalize_ids`: full-width, spaces, ``x``,
   15 → 18 digits) and derive the fields an ID carries: birth date, sex, address code.
   Names get a pinyin column (pypinyin, offline): two-character names are too short for
   Jaro–Winkler on the characters, and a variant character (伟/玮) keeps its sound.
2. Deterministic rules first: the same normalised ID (``normalized_id``: a 15-digit old ID,
   full-width digits, a lower-case x), then the same 17-digit body (``id_body``: only the
   check character differs). These pairs get probability 1.
3. The rest go to splink (``link_only``, left × right), blocked on birth date, on name
   pinyin + sex, and on address code + sequence number, compared on name (exact / same
   pinyin / Jaro–Winkler of pinyin), birth date (exact / one edit), sex, address code (exact
   / same city) and the ID's Damerau–Levenshtein distance (≤ 1 with the same sequence code,
   ≤ 1, ≤ 2). m and u come from EM
   and seeded random sampling when there are enough records to train; otherwise — and
   whenever EM leaves a level untrained — the fixed, documented values of
   ``params/national/linkage.yaml`` are used (``model`` column says which).
   The prior is per left record: the purpose's share of left records with a true
   counterpart over the right records it may be paired with (``pairs``: all of them; the
   same :data:`GROUP`, i.e. the paying county's roster; or the busier regions' payees).
4. Pairs at or above ``linkage.review_threshold_match_probability`` are returned, best
   first per left record, with the fields that agree.

The ID embeds birth date, sex and address code, so the ID-distance comparison is not
independent of them; its fixed u values are therefore *conditional* on those fields
agreeing (see linkage.yaml) and are never re-estimated by random sampling.

Backends: DuckDB in-process (default, ``linkage.backend: duckdb``); ``spark`` uses
splink's SparkAPI on the active SparkSession (pyspark is not a dependency).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from jiuzhu_sim.resident_id import birth_dates_of_ids, normalize_ids, sexes_of_ids

LINK_COLUMNS = [
    "purpose", "left_key", "right_key", "person_id_left", "person_id_right", "name_left",
    "name_right", "match_probability", "match_weight", "agreeing_fields",
    "id_edit_distance", "match_rule", "model", "rank",
]
"""Columns of :func:`link_candidates`' result (one row per candidate pair)."""

PURPOSES = ("deceased_paid", "duplicate_region", "paid_not_on_roster")

COMPARISONS = ("name", "birth_date", "sex", "region", "id_distance")
"""Splink comparisons, in settings order; their fixed m/u live under ``linkage.m_u``."""

RECORD_COLUMNS = ["key", "person_id", "name", "id_norm", "id_body", "birth_date", "sex",
                  "region6", "region4", "seq3", "name_pinyin", "birth_year", "birth_md"]

GROUP = "link_group"
"""Optional integer column of both sides of :func:`link_candidates` that restricts which
pairs are compared (``pairs="within"``: the same group — the paying region's roster;
``pairs="across"``: the left group numbered after the right one — another, busier region)."""

PAIR_MODES = ("all", "within", "across")


# --- record preparation ----------------------------------------------------------------


def name_pinyin(names: pd.Series) -> pd.Series:
    """Toneless pinyin of each name, syllables joined (王玮 → ``wangwei``); ``""`` for blanks.
    Computed once per distinct character."""
    from pypinyin import lazy_pinyin

    text = pd.Series(names, dtype=object).fillna("").astype(str)
    unique = pd.unique(text)
    # character by character (a name is read syllable by syllable; pypinyin's phrase
    # context adds nothing for names), so pypinyin runs once per distinct character
    chars = {c for n in unique for c in n}
    reading = {c: "".join(lazy_pinyin(c)).lower().replace(" ", "") for c in chars}
    table = {n: "".join(reading[c] for c in n) for n in unique}
    return text.map(table).astype(object)


def _prepared(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` if it already has the linkage fields (:func:`prepare_records`), else them
    (with the :data:`GROUP` column when the frame has one)."""
    group = [GROUP] if GROUP in frame.columns else []
    if all(c in frame.columns for c in RECORD_COLUMNS):
        return frame[RECORD_COLUMNS + group]
    out = prepare_records(frame)
    if group:
        out[GROUP] = frame[GROUP].to_numpy(dtype=np.int64)
    return out


def prepare_records(frame: pd.DataFrame) -> pd.DataFrame:
    """``key, person_id`` (+ optional ``name``) → the linkage fields (vectorised).

    ``birth_date`` is ``YYYYMMDD`` text (so one mistyped digit is one edit), ``sex`` M/F,
    ``region6``/``region4`` the address code and its city part, ``seq3`` the sequence code,
    ``id_body`` the first 17 characters of the normalised ID. Blank fields are ``None``
    (splink's null level)."""
    out = pd.DataFrame({"key": frame["key"].astype(str).to_numpy(dtype=object)})
    raw = frame["person_id"].reset_index(drop=True)
    out["person_id"] = raw.where(raw.notna(), "").astype(str).to_numpy(dtype=object)
    names = frame["name"].reset_index(drop=True) if "name" in frame else pd.Series(
        [""] * len(frame), dtype=object)
    names = names.where(names.notna(), "").astype(str).str.normalize("NFKC").str.replace(
        r"[\s\u3000·•.]+", "", regex=True)
    out["name"] = names.to_numpy(dtype=object)
    ids = normalize_ids(out["person_id"])
    out["id_norm"] = ids.to_numpy(dtype=object)
    births = birth_dates_of_ids(ids)
    well_formed = ~np.isnat(births)
    out["id_body"] = ids.str[:17].to_numpy(dtype=object)
    out["birth_date"] = np.where(well_formed, np.datetime_as_string(
        births, unit="D").astype(object), "")
    out["birth_date"] = out["birth_date"].str.replace("-", "", regex=False)
    out["sex"] = sexes_of_ids(ids)
    digits17 = (ids.str.len() == 18) & ids.str[:17].str.fullmatch(r"\d{17}").fillna(False)
    digits17 = digits17.to_numpy(dtype=bool)
    out["region6"] = np.where(digits17, ids.str[:6], "")
    out["region4"] = np.where(digits17, ids.str[:4], "")
    out["seq3"] = np.where(digits17, ids.str[14:17], "")
    # birth year / month-day apart, for blocking: one mistyped date digit leaves one intact
    out["birth_year"] = np.where(digits17, ids.str[6:10], "")
    out["birth_md"] = np.where(digits17, ids.str[10:14], "")
    out["name_pinyin"] = name_pinyin(out["name"]).to_numpy(dtype=object)
    for col in RECORD_COLUMNS[2:]:
        out[col] = out[col].astype(object).where(out[col].astype(str) != "", None)
    # Arrow-backed text (null = splink's null level): a third of the memory of Python
    # strings, and DuckDB reads it without a copy — what a province's directory needs
    return out[RECORD_COLUMNS].astype("string[pyarrow]")


# --- settings --------------------------------------------------------------------------


def _fixed_m_u(params) -> dict:
    table = params["linkage.m_u"]
    for name in COMPARISONS:
        if name not in table or len(table[name]["m"]) != len(table[name]["u"]):
            raise ValueError(f"linkage.m_u.{name}: needs m and u lists of equal length")
    return table


def _comparisons(params):
    """Splink comparison creators with the fixed m/u of linkage.yaml as starting values (the
    ID-distance u stays fixed: it is conditional on birth date, sex and region agreeing)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    m_u = _fixed_m_u(params)
    jw = float(params["linkage.name_jaro_winkler_threshold"])

    def levels(name, creators, fix_u=False):
        out = [cll.NullLevel(creators[0])]
        for level, m, u in zip(creators[1:], m_u[name]["m"], m_u[name]["u"], strict=True):
            out.append(level.configure(m_probability=float(m), u_probability=float(u),
                                       fix_u_probability=fix_u))
        return cl.CustomComparison(out, output_column_name=name)

    return [
        levels("name", ["name_pinyin", cll.ExactMatchLevel("name"),
                        cll.ExactMatchLevel("name_pinyin"),
                        cll.JaroWinklerLevel("name_pinyin", jw), cll.ElseLevel()]),
        levels("birth_date", ["birth_date", cll.ExactMatchLevel("birth_date"),
                              cll.DamerauLevenshteinLevel("birth_date", 1), cll.ElseLevel()]),
        levels("sex", ["sex", cll.ExactMatchLevel("sex"), cll.ElseLevel()]),
        levels("region", ["region6", cll.ExactMatchLevel("region6"),
                          cll.ExactMatchLevel("region4"), cll.ElseLevel()]),
        # one edit outside the 3-digit sequence code (region or birth-date digits) is split
        # from one edit inside it: the sequence is what tells two same-day neighbours apart
        levels("id_distance", ["id_body",
                               cll.And(cll.DamerauLevenshteinLevel("id_body", 1),
                                       cll.ExactMatchLevel("seq3")),
                               cll.DamerauLevenshteinLevel("id_body", 1),
                               cll.DamerauLevenshteinLevel("id_body", 2), cll.ElseLevel()],
               fix_u=True),
    ]


def _blocking_rules(pairs: str = "all"):
    from splink import block_on
    from splink.blocking_rule_library import And, CustomRule

    # address + sequence code alone is a block of ~1,000 people per county at a million
    # people (16 M pairs for 16 k death records); with the birth year or the month-day it
    # stays small and still catches a mistyped date digit (BLOCKING_KEYS)
    if pairs == "across":  # the join is on the blocking key; the group order filters it
        return [And(block_on(*columns), CustomRule(f"l.{GROUP} > r.{GROUP}"))
                for columns in _blocking_keys(pairs)]
    return [block_on(*columns) for columns in _blocking_keys(pairs)]


@contextlib.contextmanager
def _quiet_splink() -> Iterator[None]:
    """Silence splink's INFO/WARNING chatter for the duration (errors still raise)."""
    logger = logging.getLogger("splink")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.ERROR)
    logger.propagate = False
    try:
        yield
    finally:
        logger.setLevel(level)
        logger.propagate = propagate


def _db_api(backend: str):
    if backend == "duckdb":
        import duckdb
        from splink import DuckDBAPI

        con = duckdb.connect(":memory:")
        try:
            con.execute("SET enable_progress_bar = false")
        except duckdb.Error:  # in Jupyter without ipywidgets: no bar can be shown anyway
            pass
        return DuckDBAPI(connection=con)
    if backend == "spark":  # pragma: no cover - pyspark is not installed here
        from pyspark.sql import SparkSession
        from splink import SparkAPI

        return SparkAPI(spark_session=SparkSession.builder.getOrCreate())
    raise ValueError(f"linkage.backend {backend!r}: expected duckdb or spark")


# --- the linkage -----------------------------------------------------------------------


def _deterministic(left: pd.DataFrame, right: pd.DataFrame, pairs: str = "all"
                   ) -> pd.DataFrame:
    """Exact rules: the same normalised ID, then the same 17-digit body (within or across
    :data:`GROUP` as ``pairs`` says)."""
    found = []
    on_group = [GROUP] if pairs == "within" else []
    group = [GROUP] if pairs == "across" else []
    for rule, column in (("normalized_id", "id_norm"), ("id_body", "id_body")):
        lhs = left[left[column].notna()]
        if rule == "id_body":
            lhs = lhs[lhs["id_norm"].str.len() == 18]
            done = set(found[0]["key_l"]) if found else set()
            lhs = lhs[~lhs["key"].isin(done)]
        cols = ["key", column, *on_group, *group]
        found_pairs = lhs[cols].merge(right[cols], on=[column, *on_group],
                                      suffixes=("_l", "_r"))
        if group:
            found_pairs = found_pairs[found_pairs[GROUP + "_l"] > found_pairs[GROUP + "_r"]]
        found_pairs["match_rule"] = rule
        found.append(found_pairs[["key_l", "key_r", "match_rule"]])
    return pd.concat(found, ignore_index=True)


BLOCKING_KEYS = (("birth_date",), ("name_pinyin", "sex"), ("region6", "seq3", "birth_year"),
                 ("region6", "seq3", "birth_md"))
"""The blocking rules' columns (:func:`_blocking_rules`); a null never blocks."""


ACROSS_BLOCKING_KEYS = (("birth_date", "seq3"), ("birth_date", "region4"),
                        ("region6", "seq3", "birth_year"), ("region6", "seq3", "birth_md"),
                        ("name_pinyin", "region4", "sex"))
"""The blocking rules of ``pairs="across"`` (``duplicate_region``: every region's payees
against every other's — a province on both sides). The birth date alone and name pinyin +
sex make blocks that grow with the province; these keep every single mistyped digit
findable (address digits 1–4: birth date + sequence; sequence: birth date + city; birth
year or month-day: address + sequence + the other half; a pair swapped across two fields:
the name block) with blocks of a city's size at most."""


def _blocking_keys(pairs: str = "all") -> tuple[tuple[str, ...], ...]:
    """:data:`BLOCKING_KEYS` (:data:`ACROSS_BLOCKING_KEYS` for ``across``), each with the
    :data:`GROUP` column when pairs stay within a group (then the group is part of every
    join key)."""
    if pairs == "within":
        return tuple((*columns, GROUP) for columns in BLOCKING_KEYS)
    if pairs == "across":
        return ACROSS_BLOCKING_KEYS
    return BLOCKING_KEYS


def _candidates_per_left(left: pd.DataFrame, right: pd.DataFrame, pairs: str) -> np.ndarray:
    """Right records each left record may be paired with: all of them, those of its group
    (``within``), or those of groups numbered before its own (``across``) — vectorised with
    per-group counts."""
    if pairs == "all":
        return np.full(len(left), len(right), dtype=np.int64)
    counts = right[GROUP].value_counts().sort_index()
    groups = left[GROUP].to_numpy(dtype=np.int64)
    if pairs == "within":
        return counts.reindex(groups).fillna(0).to_numpy(dtype=np.int64)
    before = np.concatenate([[0], np.cumsum(counts.to_numpy(dtype=np.int64))])
    return before[np.searchsorted(counts.index.to_numpy(dtype=np.int64), groups, side="left")]


def _log2_odds(probability: np.ndarray) -> np.ndarray:
    probability = np.asarray(probability, dtype=float)
    return np.log2(probability / (1.0 - probability))


def _block_key(frame: pd.DataFrame, columns) -> tuple[np.ndarray, np.ndarray]:
    """(the columns joined as one text key, mask of rows with a null in any of them)."""
    parts = [frame[c] for c in columns]
    missing = np.zeros(len(frame), dtype=bool)
    for part in parts:
        missing |= part.isna().to_numpy()
    text = parts[0].fillna("").astype(str)
    for part in parts[1:]:
        text = text + "\x1f" + part.fillna("").astype(str)
    return text.to_numpy(dtype=object), missing


def _shares_a_block(left: pd.DataFrame, right: pd.DataFrame, pairs: str = "all"
                    ) -> np.ndarray:
    """Right records that agree with some left record on every column of some blocking
    rule (the only ones splink can pair)."""
    keep = np.zeros(len(right), dtype=bool)
    for columns in _blocking_keys(pairs):
        left_key, left_missing = _block_key(left, columns)
        right_key, right_missing = _block_key(right, columns)
        wanted = pd.Index(pd.unique(left_key[~left_missing]))
        keep |= ~right_missing & pd.Index(right_key).isin(wanted)
    return keep


def _splink_predict(left: pd.DataFrame, right: pd.DataFrame, params,
                    purpose: str, pairs: str = "all") -> tuple[pd.DataFrame, str]:
    """Scored pairs from splink → (frame with key_l, key_r, match_weight,
    match_probability; model used: ``em`` or ``fixed``).

    The prior is per left record: ``linkage.prior_match_share_of_left[purpose]`` over the
    number of right records it may be paired with (:func:`_candidates_per_left`: the whole
    right side, its group's, or the other groups'). Splink runs with the largest of these
    priors (so the review threshold inside DuckDB cuts no pair that could pass), and each
    pair's weight is then moved to its own left record's prior."""
    from splink import Linker, SettingsCreator

    empty = pd.DataFrame(columns=["key_l", "key_r", "match_weight", "match_probability"])
    chunk = int(params["linkage.left_chunk_records"])
    if str(params["linkage.training"]) == "fixed" and len(left) > chunk:
        # with fixed m/u a pair's score does not depend on the other records (the prior is
        # per left record over the whole right side), so the left side is scored a chunk at
        # a time: the same pairs, with DuckDB's and pandas' memory set by the chunk, not by
        # the province (each chunk's right side is cut to its own blocks below)
        parts = [_splink_predict(left.iloc[lo:lo + chunk], right, params, purpose, pairs)[0]
                 for lo in range(0, len(left), chunk)]
        parts = [part for part in parts if len(part)]
        return (pd.concat(parts, ignore_index=True) if parts else empty), "fixed"
    backend = str(params["linkage.backend"])
    share = float(params["linkage.prior_match_share_of_left"][purpose])
    candidates = _candidates_per_left(left, right, pairs)
    left = left[candidates > 0].reset_index(drop=True)
    candidates = candidates[candidates > 0]
    if left.empty:
        return empty, "fixed"
    priors = np.clip(share / candidates, 1e-12, 0.5)
    prior = float(priors.max())
    if str(params["linkage.training"]) == "fixed":
        # with fixed m/u and prior a pair's score does not depend on the other records, so
        # right records that share no blocking key with any left record can be left out
        # before DuckDB: the same pairs, a fraction of the memory at a million people
        right = right[_shares_a_block(left, right, pairs)].reset_index(drop=True)
        if right.empty:
            return empty, "fixed"

    def new_linker():
        api = _db_api(backend)
        frames = [api.register(left, dataset_display_name="records_left"),
                  api.register(right, dataset_display_name="records_right")]
        settings = SettingsCreator(
            link_type="link_only", unique_id_column_name="key",
            comparisons=_comparisons(params),
            blocking_rules_to_generate_predictions=_blocking_rules(pairs),
            probability_two_random_records_match=prior,
            retain_intermediate_calculation_columns=False,
            max_iterations=int(params["linkage.em_max_iterations"]))
        return Linker(frames, settings, log_level=None)

    model = "fixed"
    with _quiet_splink():
        linker = new_linker()
        training = str(params["linkage.training"])
        enough = (len(left) >= int(params["linkage.em_min_left_records"])
                  and len(right) >= int(params["linkage.em_min_right_records"]))
        if training == "em" or (training == "auto" and enough):
            try:
                linker.training.estimate_u_using_random_sampling(
                    max_pairs=float(params["linkage.u_sample_max_pairs"]),
                    seed=int(params["linkage.seed"]))
                from splink import block_on

                for rule in (block_on("birth_date"), block_on("name_pinyin")):
                    linker.training.estimate_parameters_using_expectation_maximisation(
                        rule, fix_probability_two_random_records_match=True)
                if _trained(linker):
                    model = "em"
            except Exception:  # noqa: BLE001 - any training failure → fixed values
                model = "fixed"
            if model == "fixed":
                linker = new_linker()
        # only pairs at the review threshold leave DuckDB (all blocked pairs: GBs at 1 M)
        scored = linker.inference.predict(
            threshold_match_probability=float(
                params["linkage.review_threshold_match_probability"]),
            warning_mode="never").as_pandas_dataframe()
    scored = scored[["key_l", "key_r", "match_weight", "match_probability"]].copy()
    own = pd.Series(priors, index=left["key"].astype(str).to_numpy()).reindex(
        scored["key_l"].astype(str).to_numpy()).to_numpy()
    weight = (scored["match_weight"].astype(float).to_numpy()
              + _log2_odds(own) - _log2_odds(np.array([prior]))[0])
    scored["match_weight"] = weight
    scored["match_probability"] = 1.0 / (1.0 + np.exp2(-weight))
    return scored, model


def _trained(linker) -> bool:
    """EM counts as trained when every non-null level got an m estimate and each
    comparison's best level is more likely among matches than non-matches."""
    for comparison in linker._settings_obj.comparisons:
        levels = comparison._comparison_levels_excluding_null
        if not all(level._has_estimated_m_values for level in levels):
            return False
        top = levels[0]
        if not (top.m_probability and top.u_probability
                and top.m_probability > top.u_probability):
            return False
    return True


def _edit_distance(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Damerau–Levenshtein distance of two text columns (DuckDB, vectorised)."""
    import duckdb

    if len(a) == 0:
        return np.zeros(0, dtype=np.int64)
    pairs = pd.DataFrame({"a": a.fillna("").astype(str).to_numpy(dtype=object),
                          "b": b.fillna("").astype(str).to_numpy(dtype=object)})
    con = duckdb.connect(":memory:")
    try:
        con.register("pairs", pairs)
        return con.execute("select damerau_levenshtein(a, b) from pairs").fetchnumpy()[
            "damerau_levenshtein(a, b)"].astype(np.int64)
    finally:
        con.close()


def _agreeing(lhs: pd.DataFrame, rhs: pd.DataFrame, id_distance: np.ndarray) -> np.ndarray:
    """``name;birth_date;sex;region;id`` — the fields that agree, in that order."""
    def same(col):
        a = lhs[col].to_numpy(dtype=object, na_value=None)
        b = rhs[col].to_numpy(dtype=object, na_value=None)
        return (a == b) & pd.notna(a) & pd.notna(b)

    parts = [("name", same("name") | same("name_pinyin")), ("birth_date", same("birth_date")),
             ("sex", same("sex")), ("region", same("region6")), ("id", id_distance <= 1)]
    out = np.full(len(lhs), "", dtype=object)
    for label, mask in parts:
        out = np.where(mask, np.where(out == "", label, out + ";" + label), out)
    return out


def link_candidates(left: pd.DataFrame, right: pd.DataFrame, params,
                    purpose: str, pairs: str = "all") -> pd.DataFrame:
    """Probable matches of ``left`` records in ``right`` (both: ``key, person_id`` and
    optionally ``name``; ``key`` identifies a row, e.g. a death record or a payment person).

    Pass only records that found **no exact ID match** (the caller's exact join). Returns
    :data:`LINK_COLUMNS`: every pair with ``match_probability`` ≥
    ``linkage.review_threshold_match_probability``, deterministic pairs first (probability 1,
    ``match_rule`` normalized_id / id_body, ``model`` rule), ranked per left record
    (``rank`` 1 = best). Deterministic: same input, same rows in the same order.

    ``pairs`` (:data:`PAIR_MODES`): ``all`` compares every left record with every right
    one (through the blocking rules); ``within`` and ``across`` need an integer
    :data:`GROUP` column on both sides and compare only pairs of the same group, or pairs
    whose left group is numbered after the right one (each pair of different groups once,
    when both sides hold the same records)."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose {purpose!r}: expected one of {PURPOSES}")
    if pairs not in PAIR_MODES:
        raise ValueError(f"pairs {pairs!r}: expected one of {PAIR_MODES}")
    if pairs != "all" and not (GROUP in left.columns and GROUP in right.columns):
        raise ValueError(f"pairs={pairs!r} needs a {GROUP} column on both sides")
    lhs, rhs = _prepared(left), _prepared(right)
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in LINK_COLUMNS})
    if lhs.empty or rhs.empty:
        return empty
    rhs = rhs.drop_duplicates("key")
    lhs = lhs.drop_duplicates("key")

    rules = _deterministic(lhs, rhs, pairs)
    rules["match_probability"] = 1.0
    rules["match_weight"] = np.nan
    rules["model"] = "rule"
    rest = lhs[~lhs["key"].isin(set(rules["key_l"]))]
    scored = pd.DataFrame(columns=["key_l", "key_r", "match_weight", "match_probability"])
    model = "fixed"
    if len(rest):
        scored, model = _splink_predict(rest, rhs, params, purpose, pairs)
    scored = scored.assign(match_rule="probabilistic", model=model)
    threshold = float(params["linkage.review_threshold_match_probability"])
    scored = scored[scored["match_probability"].astype(float) >= threshold]
    pairs = pd.concat([rules, scored], ignore_index=True)
    if pairs.empty:
        return empty
    pairs["key_l"] = pairs["key_l"].astype(str)
    pairs["key_r"] = pairs["key_r"].astype(str)
    lrec = lhs.set_index("key").loc[pairs["key_l"]].reset_index()
    rrec = rhs.set_index("key").loc[pairs["key_r"]].reset_index()
    distance = _edit_distance(lrec["id_body"], rrec["id_body"])
    out = pd.DataFrame({
        "purpose": purpose,
        "left_key": pairs["key_l"].to_numpy(dtype=object),
        "right_key": pairs["key_r"].to_numpy(dtype=object),
        "person_id_left": lrec["person_id"].to_numpy(dtype=object),
        "person_id_right": rrec["person_id"].to_numpy(dtype=object),
        "name_left": lrec["name"].fillna("").to_numpy(dtype=object),
        "name_right": rrec["name"].fillna("").to_numpy(dtype=object),
        # rounded: DuckDB's parallel sums may differ in the last bits between runs
        "match_probability": np.round(pairs["match_probability"].astype(float).to_numpy(), 6),
        "match_weight": np.round(pairs["match_weight"].astype(float).to_numpy(), 4),
        "agreeing_fields": _agreeing(lrec, rrec, distance),
        "id_edit_distance": distance,
        "match_rule": pairs["match_rule"].to_numpy(dtype=object),
        "model": pairs["model"].to_numpy(dtype=object),
    })
    out = out.sort_values(["left_key", "match_probability", "right_key"],
                          ascending=[True, False, True], kind="stable")
    out["rank"] = out.groupby("left_key").cumcount() + 1
    return out[LINK_COLUMNS].reset_index(drop=True)


# --- the three uses (the audit runner calls these; docs/linkage.md) ------------------------

REVIEW_COLUMNS = ["purpose", "person_id_left", "name_left", "person_id_right", "name_right",
                  "region_left", "region_right", "periods", "amount", "match_probability",
                  "match_weight", "agreeing_fields", "id_edit_distance", "match_rule",
                  "model", "rank", "left_key", "right_key"]
"""``review_matches.csv``: one row per probable match (待核实), the purpose's context
(``periods`` YYYY-MM;…, ``amount`` paid in them) and the linkage evidence."""


def _month_index(values) -> np.ndarray:
    """Month index year × 12 + month − 1 from ints (already indices), 'YYYY-MM' text or
    dates."""
    series = pd.Series(values)
    if pd.api.types.is_integer_dtype(series):
        return series.to_numpy(dtype=np.int64)
    if pd.api.types.is_datetime64_any_dtype(series):
        stamp = series
    else:
        text = series.astype(str).str.strip()
        stamp = pd.to_datetime(text.where(text.str.len() > 7, text + "-01"), errors="coerce")
    return (stamp.dt.year * 12 + stamp.dt.month - 1).fillna(-1).to_numpy(dtype=np.int64)


def _month_text(index: np.ndarray) -> np.ndarray:
    index = np.asarray(index, dtype=np.int64)
    if index.size == 0:
        return np.zeros(0, dtype=object)
    return np.char.add(np.char.add((index // 12).astype("U4"), "-"),
                       np.char.zfill((index % 12 + 1).astype("U2"), 2)).astype(object)


def _payment_months(payments: pd.DataFrame, start: int | None, end: int | None
                    ) -> pd.DataFrame:
    """Window payments as (person_id, region_code, month, amount)."""
    # IDs stay Arrow strings (no Python objects for millions of payments)
    pay = pd.DataFrame({"person_id": payments["person_id"].astype("str").to_numpy(),
                        "region_code": payments["region_code"].astype("str").to_numpy(),
                        "month": _month_index(payments["period"]),
                        "amount": pd.to_numeric(payments["amount"], errors="coerce").fillna(
                            0.0).to_numpy()})
    keep = np.ones(len(pay), dtype=bool)
    if start is not None:
        keep &= pay["month"].to_numpy() >= start
    if end is not None:
        keep &= pay["month"].to_numpy() <= end
    return pay[keep].reset_index(drop=True)


def _isin(values, universe) -> np.ndarray:
    """``values`` in ``universe`` as a boolean array, by Arrow's ``is_in`` (pandas' isin on
    string IDs took seconds at a million IDs; this takes a tenth of a second)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def arrow(x):
        return pa.array(pd.Series(np.asarray(x, dtype=object), dtype="str").fillna(""))

    found = pc.is_in(arrow(values), value_set=arrow(universe))
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


@dataclass
class LinkInputs:
    """What the three uses need, at the level of people rather than payment rows, so a
    partitioned audit can gather it from every partition (:func:`combine_inputs`) and link
    across partitions: a mistyped ID hashes to another partition than its owner."""

    pay_pairs: pd.DataFrame       # unique (person_id, region_code) paid in the window
    region_counts: pd.Series      # window payments per region
    people: pd.DataFrame          # roster person_id → name, region_code (first row)
    deaths: pd.DataFrame          # key, person_id, name, death_month
    off_roster: pd.DataFrame      # window payments (person_id, region_code, month, amount)
                                  # of IDs on no roster row


def link_inputs(roster: pd.DataFrame, payments: pd.DataFrame, deaths: pd.DataFrame,
                start: int | None = None, end: int | None = None) -> LinkInputs:
    """:class:`LinkInputs` of one set of audit tables (one partition, or all of them)."""
    pay = _payment_months(payments, start, end)
    people = roster.drop_duplicates("person_id")
    people = pd.DataFrame({"person_id": people["person_id"].astype(str).to_numpy(dtype=object),
                           "name": people["name"].to_numpy(dtype=object),
                           "region_code": people["region_code"].astype(str).to_numpy(
                               dtype=object)})
    dead = deaths.reset_index(drop=True)
    rows = (dead["_row"].to_numpy(dtype=np.int64) if "_row" in dead
            else np.arange(len(dead), dtype=np.int64))
    dead = pd.DataFrame({"key": ("D" + pd.Series(rows).astype(str)).to_numpy(dtype=object),
                         "person_id": dead["person_id"].astype(str).to_numpy(dtype=object),
                         "name": dead["name"].to_numpy(dtype=object),
                         "death_month": _month_index(pd.to_datetime(dead["death_date"],
                                                                    errors="coerce"))})
    off = pay[~_isin(pay["person_id"], people["person_id"])].reset_index(drop=True)
    return LinkInputs(pay[["person_id", "region_code"]].drop_duplicates().reset_index(
        drop=True), pay["region_code"].value_counts(), people, dead, off)


def combine_inputs(parts: list[LinkInputs]) -> LinkInputs:
    """The inputs of disjoint person partitions, together."""
    def cat(name):
        return pd.concat([getattr(p, name) for p in parts], ignore_index=True)

    counts = pd.concat([p.region_counts for p in parts]).groupby(level=0).sum()
    return LinkInputs(cat("pay_pairs"), counts, cat("people"), cat("deaths"),
                      cat("off_roster"))


def _frame(keys, ids, names) -> pd.DataFrame:
    out = pd.DataFrame({"key": np.asarray(keys, dtype=object),
                        "person_id": np.asarray(ids, dtype=object),
                        "name": np.asarray(names, dtype=object)})
    return out.sort_values("key", kind="stable").reset_index(drop=True)


def region_ranks(region_counts: pd.Series) -> pd.Series:
    """Region code → rank by window payments, busiest first (0), ties by code: the
    :data:`GROUP` order of ``duplicate_region`` (a pair's right record is in the busier
    region)."""
    if region_counts.empty:
        return pd.Series(dtype=np.int64)
    order = pd.DataFrame({"region": region_counts.index.astype(str),
                          "payments": region_counts.to_numpy()})
    order = order.groupby("region", as_index=False)["payments"].sum().sort_values(
        ["payments", "region"], ascending=[False, True], kind="stable")
    return pd.Series(np.arange(len(order), dtype=np.int64), index=order["region"].to_numpy())


def _county_codes(regions) -> pd.Series:
    """The 6-digit county part of region codes (a township code 350581101 → 350581), so a
    payment by a county and its roster rows compare whatever the codes' detail."""
    return pd.Series(regions, dtype="str").fillna("").str.strip().str[:6]


def find_links(inputs: LinkInputs, params) -> dict[str, pd.DataFrame]:
    """Probable matches for the three uses (records with no exact ID match only)."""
    paid = pd.Index(pd.unique(inputs.pay_pairs["person_id"]))
    # every right-hand side is a subset of (roster people ∪ paid people), keyed by ID with
    # the roster name: prepare their linkage fields once
    known = pd.Index(inputs.people["person_id"]).append(paid).unique()
    names = inputs.people.set_index("person_id")["name"]
    directory = prepare_records(_frame(known, known, names.reindex(known))).set_index(
        "key", drop=False)

    def right(ids) -> pd.DataFrame:
        ids = pd.Index(ids).sort_values()
        return directory.loc[ids].reset_index(drop=True)

    def grouped(ids, keys, groups) -> pd.DataFrame:
        """Directory records of ``ids`` under their own ``keys`` and :data:`GROUP`s."""
        out = directory.loc[pd.Index(ids)].reset_index(drop=True)
        out["key"] = np.asarray(keys, dtype=object)
        out[GROUP] = np.asarray(groups, dtype=np.int64)
        return out.sort_values("key", kind="stable").reset_index(drop=True)

    dead = inputs.deaths
    # 死人保: death records whose ID was not paid ↔ paid people with no death record
    left = dead[~_isin(dead["person_id"], paid)]
    links = {"deceased_paid": link_candidates(
        _frame(left["key"], left["person_id"], left["name"]),
        right(paid.difference(pd.Index(dead["person_id"]))), params, "deceased_paid")}
    # 异地重复: each region's payees ↔ every other region's (the busier one on the right),
    # IDs paid by two regions exactly being findings already
    pairs = inputs.pay_pairs
    single = pairs[~pairs["person_id"].duplicated(keep=False)]
    rank = region_ranks(inputs.region_counts)
    payees = grouped(single["person_id"].to_numpy(dtype=object),
                     (single["person_id"] + "|" + single["region_code"]).to_numpy(
                         dtype=object),
                     rank.reindex(single["region_code"].to_numpy()).fillna(0).to_numpy())
    links["duplicate_region"] = link_candidates(
        payees[payees[GROUP].to_numpy() > 0], payees, params, "duplicate_region",
        pairs="across")
    # 不在册发放: IDs paid but on no roster row ↔ the roster people of the paying county
    # (a one-card payment is keyed from that county's own roster); IDs paid by a county
    # with no roster rows ↔ every roster person
    off = inputs.off_roster
    payer = off.groupby("person_id")["region_code"].min()
    roster_ids = inputs.people["person_id"].unique()
    county = pd.Index(pd.unique(pd.concat([
        _county_codes(payer.to_numpy()), _county_codes(inputs.people["region_code"])],
        ignore_index=True))).sort_values()
    first_region = inputs.people.drop_duplicates("person_id").set_index("person_id")[
        "region_code"].reindex(roster_ids)
    roster = grouped(roster_ids, roster_ids,
                     county.get_indexer(_county_codes(first_region.to_numpy())))
    off_records = grouped(payer.index.to_numpy(dtype=object),
                          payer.index.to_numpy(dtype=object),
                          county.get_indexer(_county_codes(payer.to_numpy())))
    own_roster = _isin(off_records[GROUP].astype(str), roster[GROUP].astype(str))
    found = [link_candidates(off_records[own_roster], roster, params, "paid_not_on_roster",
                             pairs="within")]
    if (~own_roster).any():
        found.append(link_candidates(off_records[~own_roster].drop(columns=GROUP),
                                     roster.drop(columns=GROUP), params,
                                     "paid_not_on_roster"))
    links["paid_not_on_roster"] = (found[0] if len(found) == 1 else pd.concat(
        found, ignore_index=True).sort_values(
        ["left_key", "match_probability", "right_key"], ascending=[True, False, True],
        kind="stable", ignore_index=True))
    return links


def persons_to_fetch(links: dict[str, pd.DataFrame]) -> set:
    """People whose window payments the context needs (the linked paid people)."""
    ids = set(links["deceased_paid"]["person_id_right"])
    dup = links["duplicate_region"]
    ids |= set(dup["person_id_left"]) | set(dup["person_id_right"])
    return ids


def review_rows(links: dict[str, pd.DataFrame], inputs: LinkInputs, pay: pd.DataFrame
                ) -> pd.DataFrame:
    """``review_matches.csv`` rows: each link with its context — the months paid after the
    death / by both regions / off the roster, and the amount. ``pay``: window payments
    (person_id, region_code, month, amount) of at least :func:`persons_to_fetch`."""
    parts = []
    dec = links["deceased_paid"]
    if len(dec):
        month = inputs.deaths.set_index("key")["death_month"]
        ctx = _months_after(pay, dec["right_key"], month.reindex(dec["left_key"]).to_numpy())
        region = pay.groupby("person_id")["region_code"].min()
        parts.append(_with_context(dec, pd.DataFrame({
            "left_key": dec["left_key"], "right_key": dec["right_key"], "region_left": "",
            "region_right": dec["right_key"].map(region).fillna("").to_numpy(dtype=object),
            "periods": ctx["periods"].to_numpy(dtype=object),
            "amount": ctx["amount"].to_numpy()})))
    dup = links["duplicate_region"]
    if len(dup):
        lpid, lreg = dup["left_key"].str.split("|").str[0], dup["left_key"].str.split("|").str[1]
        rpid, rreg = (dup["right_key"].str.split("|").str[0],
                      dup["right_key"].str.split("|").str[1])
        index = np.arange(len(dup))
        paid_left = pd.DataFrame({"_i": index, "person_id": lpid.to_numpy(dtype=object),
                                  "region_code": lreg.to_numpy(dtype=object)}).merge(
            pay, on=["person_id", "region_code"])
        paid_right = pd.DataFrame({"_i": index, "person_id": rpid.to_numpy(dtype=object),
                                   "region_code": rreg.to_numpy(dtype=object)}).merge(
            pay, on=["person_id", "region_code"])[["_i", "month"]].drop_duplicates()
        both = paid_left.merge(paid_right, on=["_i", "month"])
        by = both.groupby("_i")
        periods = by["month"].agg(lambda m: ";".join(_month_text(np.unique(m))))
        amount = by["amount"].sum().round(2)
        parts.append(_with_context(dup, pd.DataFrame({
            "left_key": dup["left_key"], "right_key": dup["right_key"],
            "region_left": lreg.to_numpy(dtype=object),
            "region_right": rreg.to_numpy(dtype=object),
            "periods": pd.Series(index).map(periods).fillna("").to_numpy(dtype=object),
            "amount": pd.Series(index).map(amount).fillna(0.0).to_numpy()})))
    off_links = links["paid_not_on_roster"]
    if len(off_links):
        off = inputs.off_roster
        ctx = _months_after(off, off_links["left_key"], np.full(len(off_links), -1))
        region = off.groupby("person_id")["region_code"].min()
        roster_region = inputs.people.set_index("person_id")["region_code"]
        parts.append(_with_context(off_links, pd.DataFrame({
            "left_key": off_links["left_key"], "right_key": off_links["right_key"],
            "region_left": off_links["left_key"].map(region).to_numpy(dtype=object),
            "region_right": off_links["right_key"].map(roster_region).fillna("").astype(
                str).to_numpy(dtype=object),
            "periods": ctx["periods"].to_numpy(dtype=object),
            "amount": ctx["amount"].to_numpy()})))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=REVIEW_COLUMNS)
    return pd.concat(parts, ignore_index=True)[REVIEW_COLUMNS]


def _with_context(links: pd.DataFrame, context: pd.DataFrame) -> pd.DataFrame:
    """Join purpose context (left_key, right_key → region_left, region_right, periods,
    amount); pairs with no context (e.g. no month paid after death) are dropped."""
    if links.empty:
        return pd.DataFrame(columns=REVIEW_COLUMNS)
    out = links.merge(context, on=["left_key", "right_key"], how="inner")
    out = out[out["periods"] != ""]
    out["rank"] = out.groupby("left_key").cumcount() + 1
    return out[REVIEW_COLUMNS].reset_index(drop=True)


def _months_after(pay: pd.DataFrame, person_ids, after: np.ndarray) -> pd.DataFrame:
    """Per (person, threshold month): months paid after it and the amount."""
    probe = pd.DataFrame({"person_id": np.asarray(person_ids, dtype=object),
                          "after": np.asarray(after, dtype=np.int64)})
    probe["_i"] = np.arange(len(probe))
    hit = probe.merge(pay, on="person_id")
    hit = hit[hit["month"] > hit["after"]]
    by = hit.groupby("_i")
    periods = by["month"].agg(lambda m: ";".join(_month_text(np.unique(m))))
    amount = by["amount"].sum()
    probe["periods"] = probe["_i"].map(periods).fillna("")
    probe["amount"] = probe["_i"].map(amount).fillna(0.0).round(2)
    return probe


def review_matches(roster, payments, deaths, params, start: int | None = None,
                   end: int | None = None) -> pd.DataFrame:
    """All three uses on one set of tables → the rows of ``review_matches.csv``
    (:data:`REVIEW_COLUMNS`)."""
    inputs = link_inputs(roster, payments, deaths, start, end)
    links = find_links(inputs, params)
    pay = _payment_months(payments, start, end)
    pay = pay[_isin(pay["person_id"], list(persons_to_fetch(links)))]
    return review_rows(links, inputs, pay)
