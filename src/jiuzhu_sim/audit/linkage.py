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
                  "region6", "region4", "seq3", "name_pinyin"]


# --- record preparation ----------------------------------------------------------------


def name_pinyin(names: pd.Series) -> pd.Series:
    """Toneless pinyin of each name, syllables joined (王玮 → ``wangwei``); ``""`` for blanks.
    Computed once per distinct name."""
    from pypinyin import lazy_pinyin

    text = pd.Series(names, dtype=object).fillna("").astype(str)
    unique = pd.unique(text)
    table = {n: "".join(lazy_pinyin(n)).lower().replace(" ", "") if n else "" for n in unique}
    return text.map(table).astype(object)


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
    out["name_pinyin"] = name_pinyin(out["name"]).to_numpy(dtype=object)
    for col in RECORD_COLUMNS[2:]:
        out[col] = out[col].astype(object).where(out[col].astype(str) != "", None)
    return out[RECORD_COLUMNS]


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


def _blocking_rules():
    from splink import block_on

    return [block_on("birth_date"), block_on("name_pinyin", "sex"),
            block_on("region6", "seq3")]


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
        con.execute("SET enable_progress_bar = false")
        return DuckDBAPI(connection=con)
    if backend == "spark":  # pragma: no cover - pyspark is not installed here
        from pyspark.sql import SparkSession
        from splink import SparkAPI

        return SparkAPI(spark_session=SparkSession.builder.getOrCreate())
    raise ValueError(f"linkage.backend {backend!r}: expected duckdb or spark")


# --- the linkage -----------------------------------------------------------------------


def _deterministic(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    """Exact rules: the same normalised ID, then the same 17-digit body."""
    found = []
    for rule, column in (("normalized_id", "id_norm"), ("id_body", "id_body")):
        lhs = left[left[column].notna()]
        if rule == "id_body":
            lhs = lhs[lhs["id_norm"].str.len() == 18]
            done = set(found[0]["key_l"]) if found else set()
            lhs = lhs[~lhs["key"].isin(done)]
        pairs = lhs[["key", column]].merge(right[["key", column]], on=column,
                                           suffixes=("_l", "_r"))
        pairs["match_rule"] = rule
        found.append(pairs[["key_l", "key_r", "match_rule"]])
    return pd.concat(found, ignore_index=True)


def _splink_predict(left: pd.DataFrame, right: pd.DataFrame, params,
                    purpose: str) -> tuple[pd.DataFrame, str]:
    """Scored pairs from splink → (frame with key_l, key_r, match_weight,
    match_probability; model used: ``em`` or ``fixed``)."""
    from splink import Linker, SettingsCreator

    backend = str(params["linkage.backend"])
    share = float(params["linkage.prior_match_share_of_left"][purpose])
    prior = min(max(share / max(len(right), 1), 1e-12), 0.5)

    def new_linker():
        api = _db_api(backend)
        frames = [api.register(left, dataset_display_name="records_left"),
                  api.register(right, dataset_display_name="records_right")]
        settings = SettingsCreator(
            link_type="link_only", unique_id_column_name="key",
            comparisons=_comparisons(params),
            blocking_rules_to_generate_predictions=_blocking_rules(),
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
        scored = linker.inference.predict(warning_mode="never").as_pandas_dataframe()
    return scored[["key_l", "key_r", "match_weight", "match_probability"]], model


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
        a, b = lhs[col].to_numpy(dtype=object), rhs[col].to_numpy(dtype=object)
        return (a == b) & pd.notna(a) & pd.notna(b)

    parts = [("name", same("name") | same("name_pinyin")), ("birth_date", same("birth_date")),
             ("sex", same("sex")), ("region", same("region6")), ("id", id_distance <= 1)]
    out = np.full(len(lhs), "", dtype=object)
    for label, mask in parts:
        out = np.where(mask, np.where(out == "", label, out + ";" + label), out)
    return out


def link_candidates(left: pd.DataFrame, right: pd.DataFrame, params,
                    purpose: str) -> pd.DataFrame:
    """Probable matches of ``left`` records in ``right`` (both: ``key, person_id`` and
    optionally ``name``; ``key`` identifies a row, e.g. a death record or a payment person).

    Pass only records that found **no exact ID match** (the caller's exact join). Returns
    :data:`LINK_COLUMNS`: every pair with ``match_probability`` ≥
    ``linkage.review_threshold_match_probability``, deterministic pairs first (probability 1,
    ``match_rule`` normalized_id / id_body, ``model`` rule), ranked per left record
    (``rank`` 1 = best). Deterministic: same input, same rows in the same order."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose {purpose!r}: expected one of {PURPOSES}")
    lhs, rhs = prepare_records(left), prepare_records(right)
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in LINK_COLUMNS})
    if lhs.empty or rhs.empty:
        return empty
    rhs = rhs.drop_duplicates("key")
    lhs = lhs.drop_duplicates("key")

    rules = _deterministic(lhs, rhs)
    rules["match_probability"] = 1.0
    rules["match_weight"] = np.nan
    rules["model"] = "rule"
    rest = lhs[~lhs["key"].isin(set(rules["key_l"]))]
    scored = pd.DataFrame(columns=["key_l", "key_r", "match_weight", "match_probability"])
    model = "fixed"
    if len(rest):
        scored, model = _splink_predict(rest, rhs, params, purpose)
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
    pay = pd.DataFrame({"person_id": payments["person_id"].astype(str).to_numpy(dtype=object),
                        "region_code": payments["region_code"].astype(str).to_numpy(
                            dtype=object),
                        "month": _month_index(payments["period"]),
                        "amount": pd.to_numeric(payments["amount"], errors="coerce").fillna(
                            0.0).to_numpy()})
    if start is not None:
        pay = pay[pay["month"] >= start]
    if end is not None:
        pay = pay[pay["month"] <= end]
    return pay


def _names(roster: pd.DataFrame) -> pd.Series:
    first = roster.drop_duplicates("person_id")
    return pd.Series(first["name"].to_numpy(dtype=object),
                     index=first["person_id"].astype(str).to_numpy(dtype=object))


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


def deceased_paid_matches(roster, payments, deaths, params, start: int | None = None,
                          end: int | None = None) -> pd.DataFrame:
    """Death records whose ID matches no paid person, linked to paid people; kept when that
    person was paid for a month after the month of death (死人保, 待核实)."""
    pay = _payment_months(payments, start, end)
    paid = pd.unique(pay["person_id"])
    dead = deaths.reset_index(drop=True)
    dead_ids = dead["person_id"].astype(str)
    left = pd.DataFrame({"key": "D" + pd.Series(np.arange(len(dead))).astype(str),
                         "person_id": dead_ids.to_numpy(dtype=object),
                         "name": dead["name"].to_numpy(dtype=object)})
    left = left[~dead_ids.isin(set(paid)).to_numpy()]
    right_ids = pd.Index(paid).difference(pd.Index(dead_ids))
    names = _names(roster)
    right = pd.DataFrame({"key": right_ids.to_numpy(dtype=object),
                          "person_id": right_ids.to_numpy(dtype=object),
                          "name": names.reindex(right_ids).to_numpy(dtype=object)})
    links = link_candidates(left, right, params, "deceased_paid")
    if links.empty:
        return pd.DataFrame(columns=REVIEW_COLUMNS)
    death_month = _month_index(pd.to_datetime(dead["death_date"], errors="coerce"))
    row = links["left_key"].str[1:].astype(int).to_numpy()
    ctx = _months_after(pay, links["right_key"], death_month[row])
    region = pay.groupby("person_id")["region_code"].first()
    context = pd.DataFrame({"left_key": links["left_key"], "right_key": links["right_key"],
                            "region_left": "", "region_right": links["right_key"].map(
                                region).fillna("").to_numpy(dtype=object),
                            "periods": ctx["periods"].to_numpy(dtype=object),
                            "amount": ctx["amount"].to_numpy()})
    return _with_context(links, context)


def duplicate_region_matches(roster, payments, params, start: int | None = None,
                             end: int | None = None) -> pd.DataFrame:
    """People paid by a region other than the main one (the region with most payments),
    linked to people paid by the main region under another ID; kept for the months both
    paid (异地重复, 待核实). People paid by both under the same ID are exact findings and
    left out."""
    pay = _payment_months(payments, start, end)
    if pay.empty:
        return pd.DataFrame(columns=REVIEW_COLUMNS)
    main = pay["region_code"].value_counts().sort_index().idxmax()
    main_ids = pd.Index(pd.unique(pay.loc[pay["region_code"] == main, "person_id"]))
    other = pay[pay["region_code"] != main]
    other_keys = other.drop_duplicates(["person_id", "region_code"])
    other_keys = other_keys[~other_keys["person_id"].isin(set(main_ids))]
    names = _names(roster)
    left = pd.DataFrame({"key": (other_keys["person_id"] + "|" + other_keys["region_code"]
                                 ).to_numpy(dtype=object),
                         "person_id": other_keys["person_id"].to_numpy(dtype=object),
                         "name": names.reindex(other_keys["person_id"]).to_numpy(
                             dtype=object)})
    right_ids = main_ids.difference(pd.Index(other["person_id"]))
    right = pd.DataFrame({"key": right_ids.to_numpy(dtype=object),
                          "person_id": right_ids.to_numpy(dtype=object),
                          "name": names.reindex(right_ids).to_numpy(dtype=object)})
    links = link_candidates(left, right, params, "duplicate_region")
    if links.empty:
        return pd.DataFrame(columns=REVIEW_COLUMNS)
    lpid = links["left_key"].str.split("|").str[0]
    lreg = links["left_key"].str.split("|").str[1]
    months_left = pay.groupby(["person_id", "region_code"])["month"].agg(set)
    months_right = pay[pay["region_code"] == main].groupby("person_id")["month"].agg(set)
    paid_left = pay.groupby(["person_id", "region_code", "month"])["amount"].sum()
    periods, amount = [], []
    for pid_l, reg_l, pid_r in zip(lpid, lreg, links["right_key"], strict=True):
        both = sorted(months_left.get((pid_l, reg_l), set()) & months_right.get(pid_r, set()))
        periods.append(";".join(_month_text(np.array(both, dtype=np.int64))))
        amount.append(round(float(sum(paid_left[(pid_l, reg_l, m)] for m in both)), 2))
    context = pd.DataFrame({"left_key": links["left_key"], "right_key": links["right_key"],
                            "region_left": lreg.to_numpy(dtype=object), "region_right": main,
                            "periods": periods, "amount": amount})
    return _with_context(links, context)


def paid_not_on_roster_matches(roster, payments, params, start: int | None = None,
                               end: int | None = None) -> pd.DataFrame:
    """Payments to IDs on no roster row, linked to roster people; each probable match says
    whose payment it probably was (待核实: a mistyped ID in the payment system, possibly
    after that person's exit)."""
    pay = _payment_months(payments, start, end)
    roster_ids = pd.Index(pd.unique(roster["person_id"].astype(str)))
    off = pay[~pay["person_id"].isin(set(roster_ids))]
    off_ids = pd.unique(off["person_id"])
    left = pd.DataFrame({"key": off_ids, "person_id": off_ids, "name": None})
    names = _names(roster)
    right = pd.DataFrame({"key": roster_ids.to_numpy(dtype=object),
                          "person_id": roster_ids.to_numpy(dtype=object),
                          "name": names.reindex(roster_ids).to_numpy(dtype=object)})
    links = link_candidates(left, right, params, "paid_not_on_roster")
    if links.empty:
        return pd.DataFrame(columns=REVIEW_COLUMNS)
    ctx = _months_after(off, links["left_key"], np.full(len(links), -1))
    region = off.groupby("person_id")["region_code"].first()
    roster_region = roster.drop_duplicates("person_id").set_index("person_id")["region_code"]
    context = pd.DataFrame({"left_key": links["left_key"], "right_key": links["right_key"],
                            "region_left": links["left_key"].map(region).to_numpy(
                                dtype=object),
                            "region_right": links["right_key"].map(roster_region).fillna(
                                "").astype(str).to_numpy(dtype=object),
                            "periods": ctx["periods"].to_numpy(dtype=object),
                            "amount": ctx["amount"].to_numpy()})
    return _with_context(links, context)


def review_matches(roster, payments, deaths, params, start: int | None = None,
                   end: int | None = None) -> pd.DataFrame:
    """All three purposes → the rows of ``review_matches.csv`` (:data:`REVIEW_COLUMNS`)."""
    parts = [deceased_paid_matches(roster, payments, deaths, params, start, end),
             duplicate_region_matches(roster, payments, params, start, end),
             paid_not_on_roster_matches(roster, payments, params, start, end)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=REVIEW_COLUMNS)
    return pd.concat(parts, ignore_index=True)[REVIEW_COLUMNS]
