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

from jiuzhu_sim import setops
from jiuzhu_sim.resident_id import birth_dates_of_ids, normalize_ids, sexes_of_ids

LINK_COLUMNS = [
    "purpose", "left_key", "right_key", "person_id_left", "person_id_right", "name_left",
    "name_right", "match_probability", "match_weight", "agreeing_fields",
    "id_edit_distance", "match_rule", "model", "rank",
]
"""Columns of :func:`link_candidates`' result (one row per candidate pair)."""

PURPOSES = ("deceased_paid", "duplicate_region", "paid_not_on_roster")

COMPARISONS = ("name", "birth_date", "sex", "region", "id_distance", "account")
"""Splink comparisons, in settings order; their fixed m/u live under ``linkage.m_u``."""

RECORD_COLUMNS = ["key", "person_id", "name", "id_norm", "id_body", "birth_date", "sex",
                  "region6", "region4", "seq3", "name_pinyin", "birth_year", "birth_md",
                  "account"]

GROUP = "link_group"
"""Optional integer column of both sides of :func:`link_candidates` that restricts which
pairs are compared (``pairs="within"``: the same group — the paying region's roster;
``pairs="across"``: the left group numbered after the right one — another, busier region)."""

PAIR_MODES = ("all", "within", "across")


# --- record preparation ----------------------------------------------------------------


def _reading(char: str) -> str:
    """Toneless pinyin of one character (a non-Chinese character: itself, lower case)."""
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(char)).lower().replace(" ", "")


def name_pinyin(names: pd.Series) -> pd.Series:
    """Toneless pinyin of each name, syllables joined (王玮 → ``wangwei``); ``""`` for blanks.

    A name is read character by character (pypinyin's phrase context adds nothing for
    names): pypinyin runs once per distinct character, and the distinct names' readings are
    joined column by column on their code points (numpy's string ufuncs), so the cost is a
    few vectorised passes over the distinct names."""
    text = pd.Series(names, dtype=object).fillna("").astype(str).reset_index(drop=True)
    codes, unique = pd.factorize(text, sort=False)
    unique = unique.to_numpy(dtype=object)
    if len(unique) == 0 or pd.Series(unique).str.contains("\x00", regex=False).any():
        return _name_pinyin_by_position(text)  # numpy's text would drop a trailing NUL
    fixed = np.asarray(unique, dtype=str)
    width = fixed.dtype.itemsize // 4
    if width == 0:
        return pd.Series([""] * len(text), dtype=object)
    points = fixed.view(np.uint32).reshape(len(fixed), width)  # 0: past the name's end
    chars, where = np.unique(points, return_inverse=True)
    reading = np.array(["" if c == 0 else _reading(chr(c)) for c in chars],
                       dtype=np.dtypes.StringDType())[where.reshape(points.shape)]
    joined = reading[:, 0]
    for position in range(1, width):
        joined = np.strings.add(joined, reading[:, position])
    return pd.Series(joined.astype(object)[codes], dtype=object)


def _name_pinyin_by_position(text: pd.Series) -> pd.Series:
    """:func:`name_pinyin` with pandas' string methods (the general path; a test compares
    the two)."""
    unique = pd.unique(text)
    reading = {c: _reading(c) for c in set("".join(unique))}
    names = pd.Series(unique, dtype=object)
    longest = int(names.str.len().max()) if len(names) else 0
    joined = pd.Series([""] * len(names), dtype=object)
    for position in range(longest):
        joined = joined + names.str[position].map(reading).fillna("").astype(object)
    table = pd.Series(joined.to_numpy(dtype=object), index=names.to_numpy(dtype=object))
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


def _text(values) -> np.ndarray:
    """Values as text, a missing one as ``""`` (an object array): a blank ID or region is
    one value, the same in a pandas join and a SQL one."""
    series = pd.Series(values).reset_index(drop=True)
    return series.where(series.notna(), "").astype(str).to_numpy(dtype=object)


def _text_column(values):
    """:func:`_text` as a pandas column (a text column stays Arrow text: no Python strings)."""
    return pd.Series(values).astype("str").fillna("").array


def _as_given(values):
    """A text column as it is (missing values stay missing), other values as objects."""
    series = pd.Series(values)
    return series.array if series.dtype == "str" else series.to_numpy(dtype=object)


PLAIN_NAME = "[\u3400-\u4dbf\u4e00-\u9fff]*"
"""A name of CJK unified ideographs only (the basic block and extension A): Unicode gives
them no compatibility decomposition, so NFKC and :func:`_clean_names` leave it as it is."""


def _clean_names(names: pd.Series) -> pd.Series:
    """Names as compared: NFKC (full-width → ASCII), whitespace (also U+3000) and the dots
    of transcribed names (·•.) removed; a missing name is ``""``. Names of
    :data:`PLAIN_NAME` only are kept as they are (the same result, without the work)."""
    text = names.where(names.notna(), "").astype(str).reset_index(drop=True)
    plain = text.str.fullmatch(PLAIN_NAME).to_numpy(dtype=bool)
    if plain.all():
        return text
    out = text.copy()
    out[~plain] = _clean_names_in_full(text[~plain])
    return out


def _clean_names_in_full(text: pd.Series) -> pd.Series:
    return text.str.normalize("NFKC").str.replace(r"[\s\u3000·•.]+", "", regex=True)


def prepare_records(frame: pd.DataFrame) -> pd.DataFrame:
    """``key, person_id`` (+ optional ``name``, ``account_no``) → the linkage fields
    (vectorised). ``account`` is the bank account number, digits only (CONTRACT §5: roster
    and payments may carry it).

    ``birth_date`` is ``YYYYMMDD`` text (so one mistyped digit is one edit), ``sex`` M/F,
    ``region6``/``region4`` the address code and its city part, ``seq3`` the sequence code,
    ``id_body`` the first 17 characters of the normalised ID. Blank fields are ``None``
    (splink's null level)."""
    out = pd.DataFrame({"key": _text(frame["key"])})
    raw = frame["person_id"].reset_index(drop=True)
    out["person_id"] = raw.where(raw.notna(), "").astype(str).to_numpy(dtype=object)
    names = frame["name"].reset_index(drop=True) if "name" in frame else pd.Series(
        [""] * len(frame), dtype=object)
    out["name"] = _clean_names(names).to_numpy(dtype=object)
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
    accounts = (frame["account_no"].reset_index(drop=True) if "account_no" in frame
                else pd.Series([""] * len(frame), dtype=object))
    out["account"] = accounts.where(accounts.notna(), "").astype(str).str.replace(
        r"[^0-9A-Za-z]", "", regex=True).to_numpy(dtype=object)
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
        # the payee's bank account (一卡通): strong evidence when both records carry one
        levels("account", ["account", cll.ExactMatchLevel("account"), cll.ElseLevel()]),
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


def _share_parsed_columns() -> None:
    """Make splink parse each column name once per process. Every new Linker parses every
    column name of its settings and tables with sqlglot again (910 parses for the three
    linkers of an audit, about 0.35 s); what the parse gives is a
    ``SqlglotColumnTreeBuilder``, a frozen dataclass that splink only ever copies with
    ``dataclasses.replace``, so equal inputs can share one. Same results (the linkage's
    outputs are compared in tests/audit/test_linkage.py); a splink without that method is
    left as it is."""
    try:
        from splink.internals.input_column import SqlglotColumnTreeBuilder as builder
    except ImportError:  # pragma: no cover - another splink layout
        return
    parse = getattr(builder, "from_raw_column_name_or_column_reference", None)
    if parse is None or getattr(parse, "_jiuzhu_shared", False):
        return
    import dataclasses
    import functools

    if not (dataclasses.is_dataclass(builder)
            and builder.__dataclass_params__.frozen):  # pragma: no cover - changed splink
        return
    original = parse.__func__

    @functools.lru_cache(maxsize=4096)
    def parsed(cls, input_str, sqlglot_dialect):
        return original(cls, input_str, sqlglot_dialect)

    def shared(cls, input_str, sqlglot_dialect):
        try:
            return parsed(cls, input_str, sqlglot_dialect)
        except TypeError:  # an unhashable argument: parsed as splink would
            return original(cls, input_str, sqlglot_dialect)

    shared._jiuzhu_shared = True
    shared.__wrapped__ = original  # splink's own parse
    builder.from_raw_column_name_or_column_reference = classmethod(shared)


def _db_api(backend: str, con=None):
    """splink's database API: DuckDB on the run's store connection ``con`` (default), or
    Spark on the active SparkSession."""
    if backend == "duckdb":
        from splink import DuckDBAPI

        return DuckDBAPI(connection=con)
    if backend == "spark":  # pragma: no cover - pyspark is not installed here
        from pyspark.sql import SparkSession
        from splink import SparkAPI

        return SparkAPI(spark_session=SparkSession.builder.getOrCreate())
    raise ValueError(f"linkage.backend {backend!r}: expected duckdb or spark")


BLOCKING_KEYS = (("birth_date",), ("name_pinyin", "sex"), ("region6", "seq3", "birth_year"),
                 ("region6", "seq3", "birth_md"), ("account",))
"""The blocking rules' columns (:func:`_blocking_rules`); a null never blocks."""


ACROSS_BLOCKING_KEYS = (("birth_date", "seq3"), ("birth_date", "region4"),
                        ("region6", "seq3", "birth_year"), ("region6", "seq3", "birth_md"),
                        ("name_pinyin", "region4", "sex"), ("account",))
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


# --- the record store: linkage tables live in DuckDB -----------------------------------
#
# The records of both sides, their exact-rule pairs and each batch's blocked pairs are
# DuckDB tables on one private connection with a memory limit and a spill directory
# (``linkage.duckdb_memory_limit_mb``): at a province's 2 M people they leave pandas, and
# Python holds one batch of records and the scored pairs above the review threshold.

ORDER = "_ord"
"""Input row position in a store table: the first row of a repeated key is the one kept."""


@contextlib.contextmanager
def _store(params) -> Iterator:
    """A private DuckDB connection for one linkage run, capped at
    ``linkage.duckdb_memory_limit_mb`` and spilling to a temporary directory beyond it."""
    import shutil
    import tempfile

    import duckdb

    spill = tempfile.mkdtemp(prefix="jiuzhu-linkage-")
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SET memory_limit = '{int(params['linkage.duckdb_memory_limit_mb'])}MB'")
        con.execute("SET temp_directory = '" + spill.replace("'", "''") + "'")
        try:
            con.execute("SET enable_progress_bar = false")
        except duckdb.Error:  # in Jupyter without ipywidgets: no bar can be shown anyway
            pass
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _create_records(con, name: str, group: bool) -> None:
    cols = [f"{c} varchar" for c in RECORD_COLUMNS] + ([f"{GROUP} bigint"] if group else [])
    con.execute(f"create or replace table {name} ({', '.join(cols)}, {ORDER} bigint)")


def _insert_records(con, name: str, records: pd.DataFrame, first: int,
                   order: np.ndarray | None = None) -> None:
    """Append prepared records (:func:`prepare_records` columns, + :data:`GROUP`) to a
    store table, numbering them from ``first`` (or with the given ``order`` numbers)."""
    import pyarrow as pa

    group = [GROUP] if GROUP in records.columns else []
    table = pa.Table.from_pandas(records[RECORD_COLUMNS + group], preserve_index=False)
    if order is None:
        order = np.arange(first, first + len(records), dtype=np.int64)
    table = table.append_column(ORDER, pa.array(np.asarray(order, dtype=np.int64)))
    con.register("_incoming", table)
    try:
        con.execute(f"insert into {name} select * from _incoming")
    finally:
        con.unregister("_incoming")


def _put_records(con, name: str, frame: pd.DataFrame, batch: int) -> None:
    """``frame`` (raw ``key, person_id[, name][, account_no]`` or already prepared,
    optionally with :data:`GROUP`) → store table ``name`` (:func:`_prepare_in_store`)."""
    group = GROUP in frame.columns
    if all(c in frame.columns for c in RECORD_COLUMNS):
        _create_records(con, name, group)
        for lo in range(0, len(frame), batch):
            _insert_records(con, name, _prepared(frame.iloc[lo:lo + batch]), lo)
        return
    blank = np.full(len(frame), "", dtype=object)
    raw = pd.DataFrame({
        "key": _text(frame["key"]), "person_id": _text(frame["person_id"]),
        "name": _text(frame["name"]) if "name" in frame else blank,
        "account_no": _text(frame["account_no"]) if "account_no" in frame else blank})
    if group:
        raw[GROUP] = frame[GROUP].to_numpy(dtype=np.int64)
    raw[ORDER] = np.arange(len(frame), dtype=np.int64)
    con.register("_raw_records", raw)
    try:
        _prepare_in_store(con, "_raw_records", name, batch, group)
    finally:
        con.unregister("_raw_records")


CANONICAL_ID = "[0-9]{17}[0-9X]"
"""An ID already in the form :func:`~jiuzhu_sim.resident_id.normalize_ids` gives (18
characters: 17 digits and a digit or X) — what the audit's input reading leaves. Its
linkage fields are text slices, derived in SQL (:func:`_prepare_in_store`)."""


def _names_in_store(con, source: str, batch: int) -> None:
    """Store table ``_names`` (``raw`` name → the cleaned ``name`` and its ``name_pinyin``,
    NULL when blank, as :func:`prepare_records` gives them) gains the names of ``source``
    it does not hold yet.

    A name of :data:`PLAIN_NAME` is its own cleaned name, and its pinyin is its characters'
    readings joined: Python reads each new distinct character once (``_readings``) and SQL
    joins them, name by name. Other names are cleaned and read in Python, ``batch``
    distinct names at a time."""
    con.execute("""create table if not exists _names (raw varchar, name varchar,
        name_pinyin varchar)""")
    con.execute("create table if not exists _readings (ch varchar, reading varchar)")
    con.execute(f"""create or replace table _raw_names as select raw,
        regexp_full_match(raw, '{PLAIN_NAME}') as plain
        from (select distinct name as raw from {source} except select raw from _names)""")
    chars = con.execute("""select distinct unnest(string_split(raw, '')) as ch
        from _raw_names where plain except select ch from _readings""").df()["ch"]
    if len(chars):
        text = chars.to_numpy(dtype=object)
        _load(con, "_incoming_readings", pd.DataFrame({
            "ch": text, "reading": np.array([_reading(c) for c in text], dtype=object)}))
        con.execute("insert into _readings select * from _incoming_readings")
        _drop(con, "_incoming_readings")
    # string_split(…, '') splits a name into its code points, as numpy does
    con.execute("""insert into _names with r as (select map(list(ch), list(reading)) as m
            from _readings)
        select raw, nullif(raw, ''), nullif(array_to_string(list_transform(
            string_split(raw, ''), lambda c: r.m[c]), ''), '')
        from _raw_names, r where plain""")
    con.execute("""create or replace table _raw_names as select raw,
        row_number() over (order by raw) - 1 as _n from _raw_names where not plain""")
    for lo in range(0, _count(con, "select count(*) from _raw_names"), batch):
        raw = con.execute(f"select raw from _raw_names where _n >= {lo} and _n < {lo + batch}"
                          " order by _n").df()["raw"]
        clean = _clean_names(raw).to_numpy(dtype=object)
        reading = name_pinyin(clean).to_numpy(dtype=object)
        names = pd.DataFrame({"raw": _text(raw),  # "" → NULL, as prepare_records does
                              "name": np.where(clean == "", None, clean),
                              "name_pinyin": np.where(reading == "", None, reading)})
        con.register("_incoming", names)
        try:
            con.execute("insert into _names select * from _incoming")
        finally:
            con.unregister("_incoming")
    _drop(con, "_raw_names")


def _prepare_in_store(con, source: str, target: str, batch: int, group: bool) -> None:
    """Store table ``source`` (text columns ``key, person_id, name, account_no``, no NULLs,
    optionally :data:`GROUP`, and :data:`ORDER`) → store table ``target`` with the fields of
    :func:`prepare_records`, the same values.

    Python touches only what SQL cannot read: the distinct names (:func:`_names_in_store`)
    and the records whose ID is not :data:`CANONICAL_ID` (a 15-digit or full-width ID, a
    typo: :func:`prepare_records`, ``batch`` at a time). A canonical ID's fields are slices
    of it; its birth date is kept when that day exists (year 1800 or later), as
    :func:`~jiuzhu_sim.resident_id.birth_dates_of_ids` does."""
    _create_records(con, target, group)
    _names_in_store(con, source, batch)
    grp = f", {GROUP}" if group else ""
    columns = ", ".join(RECORD_COLUMNS) + grp + f", {ORDER}"
    con.execute(f"""insert into {target} ({columns})
        select s.key, s.person_id, n.name, s.person_id, substr(s.person_id, 1, 17),
            case when s._m between 1 and 12 and s._d >= 1 and s._y >= 1800
                  and s._d <= day(last_day(make_date(greatest(s._y, 1800),
                                                     least(greatest(s._m, 1), 12), 1)))
                 then substr(s.person_id, 7, 8) end,
            case when (ascii(substr(s.person_id, 17, 1)) - 48) % 2 = 1 then 'M' else 'F' end,
            substr(s.person_id, 1, 6), substr(s.person_id, 1, 4), substr(s.person_id, 15, 3),
            n.name_pinyin, substr(s.person_id, 7, 4), substr(s.person_id, 11, 4),
            nullif(regexp_replace(s.account_no, '[^0-9A-Za-z]', '', 'g'), ''){grp}, s.{ORDER}
        from (select *, cast(substr(person_id, 7, 4) as integer) as _y,
                     cast(substr(person_id, 11, 2) as integer) as _m,
                     cast(substr(person_id, 13, 2) as integer) as _d
              from {source} where regexp_full_match(person_id, '{CANONICAL_ID}')) s
        left join _names n on n.raw = s.name
        order by s.{ORDER}""")
    con.execute(f"""create or replace table _odd as select *,
        row_number() over (order by {ORDER}) - 1 as _n from {source}
        where not regexp_full_match(person_id, '{CANONICAL_ID}')""")
    for lo in range(0, _count(con, "select count(*) from _odd"), batch):
        part = con.execute(f"select * exclude (_n) from _odd where _n >= {lo} and "
                           f"_n < {lo + batch} order by _n").df()
        records = prepare_records(part)
        if group:
            records[GROUP] = part[GROUP].to_numpy(dtype=np.int64)
        _insert_records(con, target, records, 0, part[ORDER].to_numpy(dtype=np.int64))
    _drop(con, "_odd")


BLOCK_KEY_SQL = {
    "id_body": "substr({r}.person_id, 1, 17)", "birth_date": "substr({r}.person_id, 7, 8)",
    "sex": "case when (ascii(substr({r}.person_id, 17, 1)) - 48) % 2 = 1 then 'M' else 'F' end",
    "region6": "substr({r}.person_id, 1, 6)", "region4": "substr({r}.person_id, 1, 4)",
    "seq3": "substr({r}.person_id, 15, 3)", "birth_year": "substr({r}.person_id, 7, 4)",
    "birth_md": "substr({r}.person_id, 11, 4)",
    "account": "case when regexp_full_match({r}.account_no, '[0-9A-Za-z]*') then {r}.account_no"
               " else regexp_replace({r}.account_no, '[^0-9A-Za-z]', '', 'g') end",
    GROUP: "{r}." + GROUP}
"""The blocking keys of a canonical ID's record, read from the raw record (with its name's
``name_pinyin`` from ``_names``): the values :func:`_prepare_in_store` gives, except the
birth date, kept here even when that day does not exist, and a blank account, ``""`` here
(NULL there) — so a filter on them keeps every record that shares a key with another, and
a few more."""


def _candidate_keys() -> list[tuple[str, ...]]:
    """The keys a record can pair on in any use: the 17-digit body (the exact rules) and
    every blocking key of :data:`BLOCKING_KEYS` and :data:`ACROSS_BLOCKING_KEYS` without the
    :data:`GROUP` (a wider filter), less those containing another (their pairs are among
    its pairs)."""
    keys = {tuple(c for c in key if c != GROUP)
            for key in (("id_body",), *BLOCKING_KEYS, *ACROSS_BLOCKING_KEYS)}
    return sorted(k for k in keys if not any(set(o) < set(k) for o in keys))


def _block_candidates(con, lefts: list[str], right: str, name: str) -> None:
    """Store table ``name``: the rows of raw table ``right`` (as :func:`_prepare_in_store`
    takes them, its names in ``_names``: :func:`_names_in_store`) that can pair with a
    record of one of the prepared tables ``lefts`` — those sharing the 17-digit body (the
    exact rules) or a blocking key (:func:`_candidate_keys`) with a left record — and every
    record whose ID is not canonical. The exact rules and splink find the same pairs among
    them as in all of ``right`` (under the fixed m/u a batch's right side is the records
    sharing a block with it), and only these records need preparing: the work follows the
    unmatched records, not the directory.

    The canonical records' keys are read once (``_right_keys``); each key is then a hash
    semi join on the left records' distinct values of it (a NULL never blocks), and a
    record is kept once however many keys and left records it shares. Not ``(…) IN
    (subquery)`` tests joined by OR: inside an OR, DuckDB (2.0) must tell a NULL result from
    a false one, and a left record with a blank key (an ID that is not canonical) made each
    multi-column test compare every directory record with every left record — 100 s at a
    province of 2 M payments, hours at 20 M."""
    keys = _candidate_keys()
    used = sorted({c for key in keys for c in key})
    con.execute("create or replace table _left_keys as " + " union all ".join(
        f"select {', '.join(used)} from {left}" for left in lefts))
    canonical = f"regexp_full_match(r.person_id, '{CANONICAL_ID}')"
    con.execute("create or replace table _right_keys as select r.rowid as _rid, "
                + ", ".join(("n.name_pinyin" if c == "name_pinyin" else
                             BLOCK_KEY_SQL[c].format(r="r")) + f" as {c}" for c in used)
                + f" from {right} r left join _names n on n.raw = r.name where {canonical}")
    kept = [f"select r.rowid as _rid from {right} r where not {canonical}"]
    for key in keys:
        on = " and ".join(f"k.{c} = l.{c}" for c in key)
        kept.append(f"""select k._rid from _right_keys k semi join (
            select distinct {', '.join(key)} from _left_keys
            where {' and '.join(f'{c} is not null' for c in key)}) l on {on}""")
    con.execute(f"create or replace table {name} as select * from {right} where rowid in ("
                + " union ".join(kept) + f") order by {ORDER}")
    _drop(con, "_left_keys", "_right_keys")


def _load(con, name: str, frame: pd.DataFrame) -> None:
    """``frame`` → store table ``name``, through Arrow (a registered frame of Python
    strings would be converted again by every query that reads it)."""
    import pyarrow as pa

    try:
        con.register("_incoming", pa.Table.from_pandas(frame, preserve_index=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed Python objects: DuckDB reads them
        con.register("_incoming", frame)
    try:
        con.execute(f"create or replace table {name} as select * from _incoming")
    finally:
        con.unregister("_incoming")


def _drop(con, *tables: str) -> None:
    for table in tables:
        con.execute(f"drop table if exists {table}")


SCORED_COLUMNS = ["key_l", "key_r", "match_weight", "match_probability"]
"""What :func:`_splink_predict` returns per scored pair."""


def _count(con, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])  # fetched to the end: the connection is free


def _unique_keys(con, table: str, name: str) -> str:
    """``table`` with one row per key (the first in :data:`ORDER`): the table itself when
    its keys are already unique (no copy), else a new table ``name``."""
    if _count(con, f"select count(*) - count(distinct key) from {table}") == 0:
        return table
    con.execute(f"""create or replace table {name} as select * exclude (_rn) from (
        select *, row_number() over (partition by key order by {ORDER}) as _rn
        from {table}) where _rn = 1""")
    return name


def _deterministic(con, left: str, right: str, pairs: str) -> pd.DataFrame:
    """Exact rules: the same normalised ID, then (for left records the first rule left
    unmatched) the same 17-digit body, within or across :data:`GROUP` as ``pairs`` says
    → table ``_rules`` (key_l, key_r, match_rule), also returned."""
    on = f" and l.{GROUP} = r.{GROUP}" if pairs == "within" else ""
    where = f" and l.{GROUP} > r.{GROUP}" if pairs == "across" else ""
    con.execute(f"""create or replace table _rules as
        select l.key as key_l, r.key as key_r, 'normalized_id' as match_rule
        from {left} l join {right} r on l.id_norm = r.id_norm{on}
        where true{where}""")
    con.execute(f"""insert into _rules
        select l.key, r.key, 'id_body' from {left} l join {right} r on l.id_body = r.id_body{on}
        where length(l.id_norm) = 18
          and not exists (select 1 from _rules d where d.key_l = l.key){where}""")
    return con.execute("select key_l, key_r, match_rule from _rules").df()


def _candidates_per_left(groups: np.ndarray, counts: pd.Series, total: int, pairs: str
                         ) -> np.ndarray:
    """Right records each left record may be paired with: all ``total`` of them, those of
    its group (``within``), or those of groups numbered before its own (``across``);
    ``counts``: right records per group, by group number."""
    if pairs == "all":
        return np.full(len(groups), total, dtype=np.int64)
    if pairs == "within":
        return counts.reindex(groups).fillna(0).to_numpy(dtype=np.int64)
    before = np.concatenate([[0], np.cumsum(counts.to_numpy(dtype=np.int64))])
    return before[np.searchsorted(counts.index.to_numpy(dtype=np.int64), groups, side="left")]


def _log2_odds(probability: np.ndarray) -> np.ndarray:
    probability = np.asarray(probability, dtype=float)
    return np.log2(probability / (1.0 - probability))


def _sharing_a_block(left: str, right: str, pairs: str) -> str:
    """SQL selecting the right records that agree with some ``left`` record on every
    column of some blocking rule (the only ones splink can pair with them)."""
    parts = [f"select r.key from {right} r semi join {left} l on "
             + " and ".join(f"r.{c} = l.{c}" for c in columns)
             for columns in _blocking_keys(pairs)]
    return f"select * from {right} where key in ({' union '.join(parts)})"


def _splink_batch(con, params, purpose: str, pairs: str, prior: float, trainable: bool
                  ) -> tuple[pd.DataFrame, str]:
    """Scored pairs of store tables ``_batch_left`` × ``_batch_right`` from splink
    (key_l, key_r, match_weight, match_probability; model ``em`` or ``fixed``) at the
    review threshold, with the one ``prior``."""
    from splink import Linker, SettingsCreator

    _share_parsed_columns()
    backend = str(params["linkage.backend"])

    def new_linker():
        api = _db_api(backend, con)
        tables = ["_batch_left", "_batch_right"]
        if backend != "duckdb":  # another engine gets the batch's records as frames
            tables = [con.execute(f"select * from {t}").df().astype(
                {c: "string[pyarrow]" for c in RECORD_COLUMNS}) for t in tables]
        frames = [api.register(tables[0], dataset_display_name="records_left"),
                  api.register(tables[1], dataset_display_name="records_right")]
        settings = SettingsCreator(
            link_type="link_only", unique_id_column_name="key",
            comparisons=_comparisons(params),
            blocking_rules_to_generate_predictions=_blocking_rules(pairs),
            probability_two_random_records_match=prior,
            retain_intermediate_calculation_columns=False,
            max_iterations=int(params["linkage.em_max_iterations"]))
        # the settings are ours and fixed (tests run them): splink's validation only logs
        return api, Linker(frames, settings, log_level=None, validate_settings=False)

    model = "fixed"
    with _quiet_splink():
        api, linker = new_linker()
        if trainable:
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
                api.delete_tables_created_by_splink_from_db()
                api, linker = new_linker()
        # only pairs at the review threshold leave DuckDB (all blocked pairs: GBs at 1 M)
        scored = linker.inference.predict(
            threshold_match_probability=float(
                params["linkage.review_threshold_match_probability"]),
            warning_mode="never").as_pandas_dataframe()
        api.delete_tables_created_by_splink_from_db()
    return scored[SCORED_COLUMNS].copy(), model


def _right_sizes(con, right: str, pairs: str, unique: bool = False
                 ) -> tuple[int, pd.Series]:
    """Right records (query ``right``; a repeated key counts once, in the group of its
    first row as :func:`_unique_keys` keeps it — ``unique``: the keys are known to be
    distinct) in all, and per :data:`GROUP` (by group number) unless ``pairs`` is ``all``:
    what a left record's prior is divided by."""
    rows, keys = con.execute(f"select count(*), count(distinct key) from ({right})" if not
                             unique else f"select count(*), count(*) from ({right})"
                             ).fetchall()[0]
    counts = pd.Series(dtype=np.int64)
    if pairs != "all":
        first = f"({right})" if rows == keys else f"""(select * from (select {GROUP},
            row_number() over (partition by key order by {ORDER}) as _rn from ({right}))
            where _rn = 1)"""
        counts = con.execute(f"select {GROUP}, count(*) from {first} group by {GROUP} "
                             f"order by {GROUP}").df().set_index(GROUP).iloc[:, 0]
    return int(keys), counts


def _splink_predict(con, left: str, right: str, params, purpose: str, pairs: str,
                    sizes: tuple[int, pd.Series] | None = None) -> tuple[pd.DataFrame, str]:
    """Scored pairs of store table ``left`` (the records no exact rule matched) × ``right``
    → (frame with key_l, key_r, match_weight, match_probability; model used: ``em`` or
    ``fixed``).

    The prior is per left record: ``linkage.prior_match_share_of_left[purpose]`` over the
    number of right records it may be paired with (:func:`_candidates_per_left`: the whole
    right side, its group's, or the other groups'). Splink runs with the largest of these
    priors in a batch (so the review threshold inside DuckDB cuts no pair that could pass),
    and each pair's weight is then moved to its own left record's prior.

    Under fixed m/u a pair's score depends on its two records and its left record's prior
    only, so the left records are scored ``linkage.left_chunk_records`` at a time (in key
    order) against the right records that share a block with the batch: the same pairs,
    with memory set by the batch, not by the province. ``sizes``
    (:func:`_right_sizes`) are those of the whole right side when ``right`` holds only its
    block candidates (:func:`_block_candidates`)."""
    empty = pd.DataFrame(columns=SCORED_COLUMNS)
    share = float(params["linkage.prior_match_share_of_left"][purpose])
    total, counts = sizes if sizes is not None else _right_sizes(
        con, f"select * from {right}", pairs)
    con.execute(f"""create or replace table _left_order as
        select key, {GROUP if pairs != 'all' else '0'} as grp,
               row_number() over (order by key) - 1 as _pos from {left}""")
    n = _count(con, "select count(*) from _left_order")
    training = str(params["linkage.training"])
    fixed = training == "fixed"
    batch = int(params["linkage.left_chunk_records"]) if fixed else max(n, 1)
    # the batch tables hold exactly the columns splink compares (no row numbers)
    columns = ", ".join(RECORD_COLUMNS + ([GROUP] if pairs != "all" else []))
    parts, model = [], "fixed"
    for lo in range(0, n, batch):
        order = con.execute(f"select key, grp from _left_order where _pos >= {lo} and "
                            f"_pos < {lo + batch} order by _pos").df()
        candidates = _candidates_per_left(order["grp"].to_numpy(dtype=np.int64), counts,
                                          total, pairs)
        order = order[candidates > 0]
        if order.empty:
            continue
        priors = pd.Series(np.clip(share / candidates[candidates > 0], 1e-12, 0.5),
                           index=order["key"].astype(str).to_numpy())
        con.register("_batch_keys", order[["key"]])
        try:
            con.execute(f"""create or replace table _batch_left as select {columns}
                from {left} l semi join _batch_keys b on l.key = b.key order by l.key""")
        finally:
            con.unregister("_batch_keys")
        if fixed:
            # right records sharing no blocking key with the batch cannot be paired: the
            # same pairs, a fraction of the work at a million people
            con.execute(f"create or replace table _batch_right as select {columns} from ("
                        + _sharing_a_block("_batch_left", right, pairs) + ") order by key")
        else:
            con.execute(f"create or replace table _batch_right as select {columns} "
                        f"from {right} order by key")
        if _count(con, "select count(*) from _batch_right") == 0:
            continue
        enough = (len(order) >= int(params["linkage.em_min_left_records"])
                  and total >= int(params["linkage.em_min_right_records"]))
        prior = float(priors.max())
        scored, model = _splink_batch(con, params, purpose, pairs, prior,
                                      training == "em" or (training == "auto" and enough))
        own = priors.reindex(scored["key_l"].astype(str).to_numpy()).to_numpy()
        weight = (scored["match_weight"].astype(float).to_numpy()
                  + _log2_odds(own) - _log2_odds(np.array([prior]))[0])
        scored["match_weight"] = weight
        scored["match_probability"] = 1.0 / (1.0 + np.exp2(-weight))
        if len(scored):
            parts.append(scored)
    _drop(con, "_left_order", "_batch_left", "_batch_right")
    return (pd.concat(parts, ignore_index=True) if parts else empty), model


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


def _agreeing(pairs: pd.DataFrame) -> np.ndarray:
    """``name;birth_date;sex;region;id;account`` — the fields that agree, in that order (``pairs``:
    the two records' fields as ``<field>_l`` / ``<field>_r`` and ``id_edit_distance``)."""
    def same(col):
        a = pairs[col + "_l"].to_numpy(dtype=object)
        b = pairs[col + "_r"].to_numpy(dtype=object)
        return (a == b) & pd.notna(a) & pd.notna(b)

    parts = [("name", same("name") | same("name_pinyin")), ("birth_date", same("birth_date")),
             ("sex", same("sex")), ("region", same("region6")),
             ("id", pairs["id_edit_distance"].to_numpy() <= 1), ("account", same("account"))]
    out = np.full(len(pairs), "", dtype=object)
    for label, mask in parts:
        out = np.where(mask, np.where(out == "", label, out + ";" + label), out)
    return out


def _empty_links() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in LINK_COLUMNS})


def _link_tables(con, left: str, right: str, params, purpose: str, pairs: str,
                 sizes: tuple[int, pd.Series] | None = None) -> pd.DataFrame:
    """:func:`link_candidates` on two store tables (:data:`RECORD_COLUMNS`, optionally
    :data:`GROUP`, and :data:`ORDER`). ``sizes`` (:func:`_right_sizes`): those of the whole
    right side when ``right`` holds only the records that can pair with ``left``
    (:func:`_block_candidates`); the prior counts the whole side."""
    if (_count(con, f"select count(*) from {left}") == 0
            or _count(con, f"select count(*) from {right}") == 0):
        return _empty_links()
    lhs = _unique_keys(con, left, "_left_unique")
    rhs = _unique_keys(con, right, "_right_unique")
    if sizes is None:
        sizes = _right_sizes(con, f"select * from {rhs}", pairs)
    rules = _deterministic(con, lhs, rhs, pairs)
    rules["match_probability"] = 1.0
    rules["match_weight"] = np.nan
    rules["model"] = "rule"
    con.execute(f"""create or replace table _rest as select * from {lhs} l
        where not exists (select 1 from _rules d where d.key_l = l.key)""")
    scored, model = pd.DataFrame(columns=SCORED_COLUMNS), "fixed"
    if _count(con, "select count(*) from _rest"):
        scored, model = _splink_predict(con, "_rest", rhs, params, purpose, pairs, sizes)
    scored = scored.assign(match_rule="probabilistic", model=model)
    threshold = float(params["linkage.review_threshold_match_probability"])
    scored = scored[scored["match_probability"].astype(float) >= threshold]
    found = pd.concat([rules, scored], ignore_index=True)
    if found.empty:
        _drop(con, "_rest", "_rules", "_left_unique", "_right_unique")
        return _empty_links()
    found = pd.DataFrame({
        "_i": np.arange(len(found), dtype=np.int64),
        "key_l": found["key_l"].astype(str).to_numpy(dtype=object),
        "key_r": found["key_r"].astype(str).to_numpy(dtype=object),
        "match_probability": found["match_probability"].astype(float).to_numpy(),
        "match_weight": found["match_weight"].astype(float).to_numpy(),
        "match_rule": found["match_rule"].to_numpy(dtype=object),
        "model": found["model"].to_numpy(dtype=object)})
    fields = ["person_id", "name", "name_pinyin", "birth_date", "sex", "region6", "account"]
    con.register("_found", found[["_i", "key_l", "key_r"]])
    try:
        records = con.execute(
            "select p._i, " + ", ".join(f"l.{c} as {c}_l, r.{c} as {c}_r" for c in fields)
            + ", damerau_levenshtein(coalesce(l.id_body, ''), coalesce(r.id_body, ''))"
            f" as id_edit_distance from _found p join {lhs} l on l.key = p.key_l"
            f" join {rhs} r on r.key = p.key_r order by p._i").df()
    finally:
        con.unregister("_found")
    _drop(con, "_rest", "_rules", "_left_unique", "_right_unique")
    distance = records["id_edit_distance"].to_numpy(dtype=np.int64)
    out = pd.DataFrame({
        "purpose": purpose,
        "left_key": found["key_l"].to_numpy(dtype=object),
        "right_key": found["key_r"].to_numpy(dtype=object),
        "person_id_left": records["person_id_l"].to_numpy(dtype=object),
        "person_id_right": records["person_id_r"].to_numpy(dtype=object),
        "name_left": records["name_l"].fillna("").to_numpy(dtype=object),
        "name_right": records["name_r"].fillna("").to_numpy(dtype=object),
        # rounded: DuckDB's parallel sums may differ in the last bits between runs
        "match_probability": np.round(found["match_probability"].to_numpy(), 6),
        "match_weight": np.round(found["match_weight"].to_numpy(), 4),
        "agreeing_fields": _agreeing(records),
        "id_edit_distance": distance,
        "match_rule": found["match_rule"].to_numpy(dtype=object),
        "model": found["model"].to_numpy(dtype=object),
    })
    out = out.sort_values(["left_key", "match_probability", "right_key"],
                          ascending=[True, False, True], kind="stable")
    out["rank"] = out.groupby("left_key").cumcount() + 1
    return out[LINK_COLUMNS].reset_index(drop=True)


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
    _check_pairs(purpose, pairs, left, right)
    if left.empty or right.empty:
        return _empty_links()
    batch = int(params["linkage.prepare_batch_records"])
    with _store(params) as con:
        _put_records(con, "left_records", left, batch)
        _put_records(con, "right_records", right, batch)
        return _link_tables(con, "left_records", "right_records", params, purpose, pairs)


def _check_pairs(purpose: str, pairs: str, left: pd.DataFrame, right: pd.DataFrame) -> None:
    if purpose not in PURPOSES:
        raise ValueError(f"purpose {purpose!r}: expected one of {PURPOSES}")
    if pairs not in PAIR_MODES:
        raise ValueError(f"pairs {pairs!r}: expected one of {PAIR_MODES}")
    if pairs != "all" and not (GROUP in left.columns and GROUP in right.columns):
        raise ValueError(f"pairs={pairs!r} needs a {GROUP} column on both sides")


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


def _payment_window(payments: pd.DataFrame, start: int | None, end: int | None
                    ) -> np.ndarray:
    """Which payment rows fall in the window (the rows :func:`_payment_months` keeps)."""
    month = _month_index(payments["period"])
    keep = np.ones(len(payments), dtype=bool)
    if start is not None:
        keep &= month >= start
    if end is not None:
        keep &= month <= end
    return keep


def _payment_months(payments: pd.DataFrame, start: int | None, end: int | None
                    ) -> pd.DataFrame:
    """Window payments as (person_id, region_code, month, amount)."""
    # IDs stay Arrow strings (no Python objects for millions of payments)
    def text(column):
        return payments[column].astype("str").fillna("").array

    pay = pd.DataFrame({"person_id": text("person_id"), "region_code": text("region_code"),
                        "month": _month_index(payments["period"]),
                        "amount": pd.to_numeric(payments["amount"], errors="coerce").fillna(
                            0.0).to_numpy()})
    keep = np.ones(len(pay), dtype=bool)
    if start is not None:
        keep &= pay["month"].to_numpy() >= start
    if end is not None:
        keep &= pay["month"].to_numpy() <= end
    return pay[keep].reset_index(drop=True)


def _arrow_text(values):
    """Values as Arrow text, a missing one as ``""``: a text column is read without a copy
    (its Arrow buffers), anything else through pandas' ``str``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    series = values if isinstance(values, pd.Series) else pd.Series(
        np.asarray(values, dtype=object))
    return pc.fill_null(pa.array(series.astype("str").array), "")


def _isin(values, universe) -> np.ndarray:
    """``values`` in ``universe`` as a boolean array, by Arrow's ``is_in`` (pandas' isin on
    string IDs took seconds at a million IDs; this takes a tenth of a second)."""
    import pyarrow.compute as pc

    value_set = _arrow_text(universe)
    if hasattr(value_set, "combine_chunks"):  # a text column of several Arrow chunks
        value_set = value_set.combine_chunks()
    found = pc.is_in(_arrow_text(values), value_set=value_set)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


@dataclass
class LinkInputs:
    """What the three uses need, at the level of people rather than payment rows, so a
    partitioned audit can gather it from every partition (:func:`combine_inputs`) and link
    across partitions: a mistyped ID hashes to another partition than its owner."""

    pay_pairs: pd.DataFrame       # unique (person_id, region_code) paid in the window
    region_counts: pd.Series      # window payments per region
    people: pd.DataFrame          # roster person_id → name, region_code, account_no
                                  # (first row; account_no blank when unknown)
    deaths: pd.DataFrame          # key, person_id, name, death_month
    off_roster: pd.DataFrame      # window payments (person_id, region_code, month, amount,
                                  # name, account_no) of IDs on no roster row


def link_inputs(roster: pd.DataFrame, payments: pd.DataFrame, deaths: pd.DataFrame,
                start: int | None = None, end: int | None = None) -> LinkInputs:
    """:class:`LinkInputs` of one set of audit tables (one partition, or all of them)."""
    pay = _payment_months(payments, start, end)
    people = roster.drop_duplicates("person_id")
    people = pd.DataFrame({"person_id": _text_column(people["person_id"]),
                           "name": _as_given(people["name"]),
                           "region_code": _text_column(people["region_code"]),
                           "account_no": _text_column(people["account_no"])
                           if "account_no" in people else ""})
    if "account_no" in payments.columns and (people["account_no"] == "").any():
        # a roster without the account: the account the person's own payments went to
        account = payments["account_no"]
        given = (account.notna() & (account.astype("str").str.strip() != "")).to_numpy()
        paid = payments.loc[given, ["person_id", "account_no"]].astype("str").drop_duplicates(
            "person_id")
        known = pd.Series(paid["account_no"].to_numpy(dtype=object),
                          index=paid["person_id"].to_numpy(dtype=object))
        blank = people["account_no"] == ""
        found = people.loc[blank, "person_id"].map(known).astype(object)
        people.loc[blank, "account_no"] = found.where(found.notna(), "").to_numpy(dtype=object)
    dead = deaths.reset_index(drop=True)
    rows = (dead["_row"].to_numpy(dtype=np.int64) if "_row" in dead
            else np.arange(len(dead), dtype=np.int64))
    dead = pd.DataFrame({"key": ("D" + pd.Series(rows).astype(str)).to_numpy(dtype=object),
                         "person_id": _text_column(dead["person_id"]),
                         "name": _as_given(dead["name"]),
                         "death_month": _month_index(pd.to_datetime(dead["death_date"],
                                                                    errors="coerce"))})
    pairs = pay[["person_id", "region_code"]].drop_duplicates().reset_index(drop=True)
    # payments to IDs on no roster row: found among the distinct payees first
    off_ids = pairs["person_id"][~_isin(pairs["person_id"], people["person_id"])]
    off_rows = _isin(pay["person_id"], off_ids)
    off = pay[off_rows].reset_index(drop=True)
    # the payee's name and account as the payment carries them (CONTRACT §5, optional)
    window = _payment_window(payments, start, end)
    for col in ("name", "account_no"):
        off[col] = (_text(payments[col].array[window][off_rows])
                    if col in payments.columns else "")
    return LinkInputs(pairs, pay["region_code"].value_counts(), people, dead, off)


def combine_inputs(parts: list[LinkInputs]) -> LinkInputs:
    """The inputs of disjoint person partitions, together."""
    def cat(name):
        return pd.concat([getattr(p, name) for p in parts], ignore_index=True)

    counts = pd.concat([p.region_counts for p in parts]).groupby(level=0).sum()
    return LinkInputs(cat("pay_pairs"), counts, cat("people"), cat("deaths"),
                      cat("off_roster"))


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
    """Probable matches for the three uses (records with no exact ID match only).

    Every right-hand side is a subset of one directory (roster people ∪ paid people, keyed
    by ID, with the roster name), prepared ``linkage.prepare_batch_records`` people at a time
    into the run's DuckDB store; the sides are then cut from it in SQL, so a province's
    directory never sits in pandas."""
    batch = int(params["linkage.prepare_batch_records"])
    rank = region_ranks(inputs.region_counts)
    with _store(params) as con:
        # a person's first row (its name, region and account)
        people = inputs.people.drop_duplicates("person_id")
        if "account_no" not in people.columns:
            people = people.assign(account_no="")
        _load(con, "_people", people[["person_id", "name", "region_code", "account_no"]]
                     .assign(_row=np.arange(len(people), dtype=np.int64)))
        _load(con, "_pay", inputs.pay_pairs[["person_id", "region_code"]])
        _load(con, "_deaths", inputs.deaths[["key", "person_id", "name"]].assign(
            _row=np.arange(len(inputs.deaths), dtype=np.int64)))
        off_pay = inputs.off_roster
        for col in ("name", "account_no"):
            if col not in off_pay.columns:
                off_pay = off_pay.assign(**{col: ""})
        _load(con, "_off", off_pay[["person_id", "region_code", "name", "account_no"]])
        # the directory: roster people ∪ paid people, with the roster's name and account
        # or, for an ID on no roster row, those its payments carry
        # (numbered: the roster people in order, then the other paid IDs)
        con.execute(f"""create table _directory_raw as
            with o as (select person_id, min(nullif(name, '')) as name,
                              min(nullif(account_no, '')) as account_no
                       from _off group by person_id)
            select p.person_id as key, p.person_id, coalesce(p.name, o.name, '') as name,
                   coalesce(nullif(p.account_no, ''), o.account_no, '') as account_no,
                   p._row as {ORDER}
            from _people p left join o using (person_id)
            union all
            select k.person_id, k.person_id, coalesce(o.name, ''), coalesce(o.account_no, ''),
                   {len(people)} + row_number() over (order by k.person_id)
            from (select distinct person_id from _pay p where not exists (
                  select 1 from _people r where r.person_id = p.person_id)) k
            left join o using (person_id)""")
        _names_in_store(con, "_directory_raw", batch)

        # 死人保: death records whose ID was not paid ↔ paid people with no death record
        left = con.execute("""select key, person_id, name from _deaths d
            where not exists (select 1 from _pay p where p.person_id = d.person_id)
            order by key, _row""").df()
        _put_records(con, "_left_dead", left, batch)

        def paid_not_dead(directory: str) -> str:
            return f"""select * from {directory} d
                where exists (select 1 from _pay p where p.person_id = d.key)
                  and not exists (select 1 from _deaths x where x.person_id = d.key)"""

        # 异地重复: each region's payees (keyed person|region, in the group of the region's
        # rank) ↔ every busier region's; IDs paid by two regions exactly are findings
        # already. The left side is every region but the busiest.
        _load(con, "_ranks", pd.DataFrame({"region_code": rank.index.astype(str),
                                           GROUP: rank.to_numpy(dtype=np.int64)}))
        con.execute(f"""create table _payees as
            select p.person_id || '|' || p.region_code as key, p.person_id,
                   coalesce(k.{GROUP}, 0) as {GROUP}
            from (select * from _pay where person_id in (
                  select person_id from _pay group by person_id having count(*) = 1)) p
            left join _ranks k on k.region_code = p.region_code""")

        def payees(directory: str) -> str:
            return f"""select e.key, d.* exclude (key, {ORDER}), e.{GROUP}, d.{ORDER}
                from _payees e join {directory} d on d.key = e.person_id"""

        every_payee = payees("_directory_raw")
        con.execute(f"create or replace table _left_raw as select * from ({every_payee}) "
                    f"where {GROUP} > 0")
        _prepare_in_store(con, "_left_raw", "_left_dup", batch, group=True)
        _drop(con, "_left_raw")

        # 不在册发放: IDs paid but on no roster row ↔ the roster people of the paying
        # county (in the group of the county: a one-card payment is keyed from that
        # county's own roster); IDs paid by a county with no roster rows ↔ every roster
        # person
        payer = inputs.off_roster.groupby("person_id")["region_code"].min()
        regions = con.execute("select distinct region_code from _people").df()["region_code"]
        county = pd.Index(pd.unique(pd.concat([
            _county_codes(payer.to_numpy()), _county_codes(regions)],
            ignore_index=True))).sort_values()
        _load(con, "_county", pd.DataFrame({
            "region_code": regions.to_numpy(dtype=object),
            GROUP: county.get_indexer(_county_codes(regions.to_numpy()))}))
        con.execute(f"""create table _roster_people as select p.person_id, c.{GROUP}
            from _people p join _county c on c.region_code is not distinct from p.region_code""")

        def roster_people(directory: str) -> str:
            return f"""select d.* exclude ({ORDER}), r.{GROUP}, d.{ORDER} from {directory} d
                join _roster_people r on r.person_id = d.key"""

        off = pd.DataFrame({"key": payer.index.to_numpy(dtype=object),
                            "person_id": payer.index.to_numpy(dtype=object),
                            GROUP: county.get_indexer(_county_codes(payer.to_numpy()))})
        # the name and account as the directory holds them (cleaned)
        off = off.merge(con.execute(f"""select d.key, n.name,
                {BLOCK_KEY_SQL['account'].format(r='d')} as account_no
            from _directory_raw d left join _names n on n.raw = d.name
            where d.key in (select person_id from _off)""").df(),
                        on="key", how="left").sort_values("key", kind="stable")
        roster_groups = con.execute(f"select distinct {GROUP} from _roster_people").df()[
            GROUP]
        own_roster = off[GROUP].isin(roster_groups).to_numpy()
        _put_records(con, "_left_off", off[own_roster], batch)
        _put_records(con, "_left_off_all", off[~own_roster].drop(columns=GROUP), batch)

        # the directory: under the fixed m/u only the people who can pair with a left
        # record (:func:`_block_candidates`), prepared; the prior counts the whole sides
        source = "_directory_raw"
        if str(params["linkage.training"]) == "fixed":
            _block_candidates(con, ["_left_dead", "_left_dup", "_left_off", "_left_off_all"],
                              "_directory_raw", "_candidates")
            source = "_candidates"
        _prepare_in_store(con, source, "directory", batch, group=False)
        links = {}
        # the sides' sizes from their keys alone (each key once: a directory person, a
        # person paid by one region, a roster person's first row)
        sizes = _right_sizes(con, """select person_id as key from (
            select distinct person_id from _pay) p
            where not exists (select 1 from _deaths x where x.person_id = p.person_id)""",
                             "all", unique=True)
        con.execute(f"create or replace table _right as {paid_not_dead('directory')}")
        links["deceased_paid"] = _link_tables(con, "_left_dead", "_right", params,
                                              "deceased_paid", "all", sizes)

        sizes = _right_sizes(con, f"select key, {GROUP} from _payees", "across",
                             unique=True)
        con.execute(f"create or replace table _right as {payees('directory')}")
        links["duplicate_region"] = _link_tables(con, "_left_dup", "_right", params,
                                                 "duplicate_region", "across", sizes)

        sizes = _right_sizes(con, f"select person_id as key, {GROUP} from _roster_people",
                             "within", unique=True)
        con.execute(f"create or replace table _right as {roster_people('directory')}")
        found = [_link_tables(con, "_left_off", "_right", params, "paid_not_on_roster",
                              "within", sizes)]
        if (~own_roster).any():
            con.execute(f"create or replace table _right_all as "
                        f"select * exclude ({GROUP}) from _right")
            found.append(_link_tables(
                con, "_left_off_all", "_right_all", params, "paid_not_on_roster", "all",
                (sizes[0], pd.Series(dtype=np.int64))))
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
        periods = by["month"].agg(lambda m: ";".join(_month_text(setops.unique(m))))
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
        people = inputs.people[_isin(inputs.people["person_id"], off_links["right_key"])]
        roster_region = people.drop_duplicates("person_id").set_index("person_id")[
            "region_code"]
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
    periods = by["month"].agg(lambda m: ";".join(_month_text(setops.unique(m))))
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
    # the linked people's payments only (the partitioned engine fetches them the same way)
    wanted = _isin(payments["person_id"], sorted(persons_to_fetch(links)))
    pay = _payment_months(payments[wanted], start, end)
    return review_rows(links, inputs, pay)
