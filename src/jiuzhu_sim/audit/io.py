"""Audit inputs (CONTRACT §5): find, read (CSV UTF-8/BOM/GB18030, xlsx, Parquet), map Chinese
headers and category values to contract names, type the columns, and reject bad rows.

Every input row is either used or listed in the rejected frame with file, row (1-based data
row, header excluded), column and reason. A missing required column is a UserInputError.
IDs are strings (upper-cased, stripped); dates are ``datetime64[D]`` (NaT = blank); months
are integer month indices (see calendar.py); amounts are float64 yuan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from jiuzhu_sim import io as base_io
from jiuzhu_sim.exceptions import UserInputError

# Chinese (and a few English variant) headers → contract names. Documented in docs/audit.md.
CHINESE_COLUMNS: dict[str, str] = {
    "身份证号": "person_id", "身份证号码": "person_id", "公民身份号码": "person_id",
    "证件号码": "person_id", "救助对象身份证号": "person_id", "残疾人身份证号": "person_id",
    "姓名": "name", "救助对象姓名": "name", "户主姓名": "name",
    "户编号": "household_id", "家庭编号": "household_id", "户号": "household_id",
    "行政区划": "region_code", "行政区划代码": "region_code", "区划代码": "region_code",
    "救助类别": "program", "保障类别": "program", "救助类型": "program",
    "开始日期": "start_date", "纳入日期": "start_date", "保障开始日期": "start_date",
    "终止日期": "end_date", "退出日期": "end_date", "保障终止日期": "end_date",
    "核定金额": "monthly_amount", "月保障金": "monthly_amount", "月救助金额": "monthly_amount",
    "最近核对日期": "last_check_date", "核对日期": "check_date",
    "收入不稳定": "unstable_income", "有劳动能力": "work_capacity",
    "最近走访日期": "last_visit_date", "供养方式": "sub_type", "城乡类别": "sub_type",
    "子类别": "sub_type",
    "发放编号": "payment_id", "发放流水号": "payment_id",
    "账户持有人身份证号": "account_holder_id", "领取人身份证号": "account_holder_id",
    "收款人身份证号": "account_holder_id",
    "所属期": "period", "发放月份": "period", "发放金额": "amount", "发放日期": "paid_date",
    "死亡日期": "death_date", "监护人身份证号": "guardian_id",
    "工作人员身份证号": "staff_id", "工作人员姓名": "staff_name",
    "亲属身份证号": "relative_id", "关系": "relation", "与工作人员关系": "relation",
    "是否备案": "filed", "已备案": "filed",
    "年度": "year", "个人自付金额": "self_paid_amount", "自付医疗费用": "self_paid_amount",
    "残疾等级": "grade", "残疾类别": "type", "发证日期": "issued_date",
    "监测类别": "category", "纳入监测日期": "since_date",
    "家庭人口": "members", "家庭人口数": "members", "家庭人均收入": "per_capita_income",
    "人均收入": "per_capita_income",
    "预警编号": "alert_id", "预警来源": "source", "预警类型": "kind", "接收日期": "received_date",
    "转发日期": "forwarded_date", "乡镇接收日期": "township_received_date",
    "核实日期": "verified_date", "核实结果": "outcome", "处理结果": "outcome",
}

PROGRAM_VALUES = {"低保": "dibao", "最低生活保障": "dibao", "城市低保": "dibao",
                  "农村低保": "dibao", "城乡低保": "dibao", "特困": "tekun",
                  "特困供养": "tekun", "特困人员": "tekun", "特困人员救助供养": "tekun",
                  "低保边缘": "marginal", "低保边缘家庭": "marginal", "边缘": "marginal"}
# the urban/rural word in a Chinese program value, kept as the roster sub_type when empty
PROGRAM_SUB_TYPES = {"城市低保": "urban", "农村低保": "rural"}
SUB_TYPE_VALUES = {"城市": "urban", "城镇": "urban", "农村": "rural", "集中": "institutional",
                   "集中供养": "institutional", "分散": "dispersed", "分散供养": "dispersed"}
KIND_VALUES = {"初始": "initial", "初始数据": "initial", "新增": "new", "新增预警": "new"}
DISABILITY_TYPE_VALUES = {"肢体": "physical", "视力": "visual", "听力": "hearing",
                          "言语": "speech", "智力": "intellectual", "精神": "mental",
                          "多重": "multiple"}
RELATION_VALUES = {"配偶": "spouse", "父母": "parent", "子女": "child", "兄弟姐妹": "sibling"}
MONITORING_VALUES = {"脱贫不稳定户": "unstable_post_poverty", "边缘易致贫户": "marginal_at_risk",
                     "突发严重困难户": "sudden_hardship", "信访": "petitioner",
                     "服刑人员未成年子女": "prisoner_child", "戒毒人员未成年子女": "rehab_child"}
GRADE_VALUES = {"一级": "1", "二级": "2", "三级": "3", "四级": "4", "一": "1", "二": "2",
                "三": "3", "四": "4"}
PROGRAMS = ("dibao", "tekun", "marginal")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "str"       # str, id, date, month, number, bool, program, kind
    required: bool = True   # the column must exist in the file
    blank_ok: bool = False  # an empty cell is allowed (otherwise the row is rejected)


# columns holding resident IDs: normalised on read (full-width → ASCII, spaces, x → X,
# 15 → 18 digits; resident_id.normalize_ids) so exact joins see one form per person
RESIDENT_ID_COLUMNS = frozenset({"person_id", "account_holder_id", "guardian_id", "staff_id",
                                 "relative_id"})


def _resident_ids(text: pd.Series) -> pd.Series:
    """Resident IDs in canonical form; the (usual) already-canonical cells untouched."""
    from jiuzhu_sim.resident_id import normalize_ids

    text = text.str.upper()
    odd = ~text.str.fullmatch(r"[0-9]{17}[0-9X]").fillna(False).to_numpy(dtype=bool)
    odd &= (text != "").to_numpy()
    if odd.any():
        dtype = text.dtype
        fixed = normalize_ids(text[odd])
        text = text.astype(object)
        text[odd] = fixed.to_numpy(dtype=object)
        text = text.astype(dtype)
    return text


def chinese_header_map(headers: list[str]) -> dict[str, str]:
    """Renames of Chinese headers to contract names. A header is renamed only when its
    contract name is not already a header, and only the first of several synonyms present
    (in CHINESE_COLUMNS order: 姓名 before 户主姓名) is taken; the others stay as they are."""
    present = set(headers)
    taken: set[str] = set()
    renames: dict[str, str] = {}
    for chinese, contract in CHINESE_COLUMNS.items():
        if chinese in present and contract not in present and contract not in taken:
            renames[chinese] = contract
            taken.add(contract)
    return renames


def _c(name, kind="str", required=True, blank_ok=False):
    return Column(name, kind, required, blank_ok)


SCHEMAS: dict[str, tuple[bool, list[Column]]] = {
    "roster": (True, [
        _c("person_id", "id"), _c("name", blank_ok=True), _c("household_id", "id"),
        _c("region_code", "id"), _c("program", "program"), _c("start_date", "date"),
        _c("end_date", "date", blank_ok=True), _c("monthly_amount", "number"),
        _c("last_check_date", "date", blank_ok=True),
        _c("unstable_income", "bool", False, True), _c("work_capacity", "bool", False, True),
        _c("last_visit_date", "date", False, True), _c("sub_type", "sub_type", False, True)]),
    "payments": (True, [
        _c("payment_id", "id", blank_ok=True), _c("person_id", "id"),
        _c("account_holder_id", "id", blank_ok=True), _c("region_code", "id"),
        _c("program", "program"), _c("period", "month"), _c("amount", "number"),
        _c("paid_date", "date")]),
    "deaths": (True, [_c("person_id", "id"), _c("name", blank_ok=True),
                      _c("death_date", "date")]),
    "guardians": (False, [_c("person_id", "id"), _c("guardian_id", "id")]),
    "staff_relatives": (False, [
        _c("staff_id", "id", blank_ok=True), _c("staff_name", blank_ok=True),
        _c("relative_id", "id"), _c("relation", "relation", blank_ok=True),
        _c("filed", "bool", blank_ok=True)]),
    "medical": (False, [_c("person_id", "id"), _c("year", "number"),
                        _c("self_paid_amount", "number")]),
    "disability": (False, [_c("person_id", "id"), _c("grade", "grade"),
                           _c("type", "disability_type", blank_ok=True),
                           _c("issued_date", "date")]),
    "monitoring": (False, [_c("person_id", "id"), _c("category", "category"),
                           _c("since_date", "date", blank_ok=True)]),
    "households": (False, [_c("household_id", "id"), _c("members", "number", blank_ok=True),
                           _c("per_capita_income", "number"), _c("check_date", "date")]),
    "alerts": (False, [
        _c("alert_id", "id", blank_ok=True), _c("person_id", "id"),
        _c("source", blank_ok=True), _c("kind", "kind"),
        _c("received_date", "date"), _c("forwarded_date", "date", False, True),
        _c("township_received_date", "date", False, True),
        _c("verified_date", "date", blank_ok=True), _c("outcome", blank_ok=True)]),
}
"""Input name → (required file, columns). Optional files may be absent."""

INPUT_NAMES = tuple(SCHEMAS)


@dataclass
class AuditTables:
    """Normalised audit inputs; optional inputs are empty frames with the contract columns."""

    roster: pd.DataFrame
    payments: pd.DataFrame
    deaths: pd.DataFrame
    guardians: pd.DataFrame
    staff_relatives: pd.DataFrame
    medical: pd.DataFrame
    disability: pd.DataFrame
    monitoring: pd.DataFrame
    households: pd.DataFrame
    alerts: pd.DataFrame
    files: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return getattr(self, name)


@dataclass
class LoadedInputs:
    tables: AuditTables
    rejected: pd.DataFrame
    rows_read: dict[str, int]
    rows_rejected: dict[str, int]
    paths: list[Path]


# --- reading --------------------------------------------------------------------------


SOURCE_ROWS = "source_rows"
"""``frame.attrs`` key: the 1-based data row of each frame row in its file, when rows were
dropped on read (ragged CSV rows); absent means rows 1..n."""
RAGGED = "ragged"
"""``frame.attrs`` key: the rejected-rows frame of CSV rows with the wrong number of fields."""


def read_input(path: Path) -> pd.DataFrame:
    """Read one file with every column as text (fast pyarrow path for UTF-8 CSV).

    A CSV row with more or fewer fields than the header is not a reason to stop the run: it
    is left out of the frame and listed in ``frame.attrs[RAGGED]`` (file, row, reason), and
    ``frame.attrs[SOURCE_ROWS]`` keeps the data-row numbers of the rows that were kept."""
    if path.suffix.lower() == ".csv":
        head = path.open("rb").read(1 << 16)
        try:
            head.decode("utf-8")
            utf8 = True
        except UnicodeDecodeError as exc:
            utf8 = exc.start > len(head) - 4  # a multi-byte char cut at the block end
        if utf8:
            try:
                return _read_csv_arrow(path)
            except UserInputError:
                raise
            except Exception:  # not clean UTF-8 after all, or ragged: the general reader
                pass
        try:
            frame = base_io.read_table(path)
        except UserInputError as exc:
            if "ParserError" not in exc.reason:
                raise
            frame = read_ragged_csv(path)
        if _has_short_rows(frame):
            frame = read_ragged_csv(path)
    else:
        frame = base_io.read_table(path)
    frame.columns = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    return frame


def _has_short_rows(frame: pd.DataFrame) -> bool:
    """pandas pads a row with too few fields with NaN instead of failing: detect that (only
    NaN cells can come from padding, since CSV cells are read as text)."""
    if not len(frame) or not len(frame.columns):
        return False
    return bool(frame.iloc[:, -1].isna().any())


def read_ragged_csv(path: Path) -> pd.DataFrame:
    """The slow, careful CSV path for files with ragged rows: every row whose field count
    differs from the header's is rejected with its data-row number; the rest is kept."""
    import csv
    import io as _io

    raw = path.read_bytes()
    text = raw.decode(base_io.detect_encoding(raw))
    rows = [r for r in csv.reader(_io.StringIO(text)) if r]  # blank lines: skipped, as pandas
    if not rows:
        return pd.DataFrame()
    header = [c.replace("\ufeff", "").strip() for c in rows[0]]
    body = rows[1:]
    widths = np.fromiter((len(r) for r in body), dtype=np.int64, count=len(body))
    good = widths == len(header)
    kept = [r for r, ok in zip(body, good, strict=True) if ok]
    frame = pd.DataFrame(kept, columns=header, dtype="str") if kept else pd.DataFrame(
        {c: pd.Series([], dtype="str") for c in dict.fromkeys(header)})
    frame = frame.apply(lambda s: s.str.strip()) if len(frame.columns) and kept else frame
    bad = np.flatnonzero(~good)
    frame.attrs[SOURCE_ROWS] = np.flatnonzero(good).astype(np.int64) + 1
    frame.attrs[RAGGED] = pd.DataFrame({
        "file": path.name, "row": bad + 1, "column": "",
        "reason": [f"字段数不符 wrong number of fields: {widths[i]}, header has {len(header)}"
                   for i in bad]})
    return frame


def _read_csv_arrow(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    from pyarrow import csv as pacsv

    with path.open("rb") as fh:
        first = fh.readline().decode("utf-8-sig")
    names = [c.replace("\ufeff", "").strip().strip('"') for c in first.rstrip("\r\n").split(",")]
    table = pacsv.read_csv(
        path, read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                             strings_can_be_null=False))
    return table.to_pandas(types_mapper=lambda t: pd.StringDtype("pyarrow")
                           if t == pa.string() else None)


# --- typing ---------------------------------------------------------------------------


def _text(series: pd.Series) -> pd.Series:
    """Any column as stripped text ('' for blanks); floats like 350581.0 lose '.0'."""
    if pd.api.types.is_float_dtype(series):
        vals = series.to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(vals) & (np.floor(vals) == vals)
        out = pd.Series(np.where(whole, np.nan_to_num(vals).astype(np.int64).astype(str),
                                 vals.astype(str)), index=series.index, dtype="str")
        return out.where(~np.isnan(vals), "")
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m-%d").fillna("")
    if pd.api.types.is_integer_dtype(series) or pd.api.types.is_bool_dtype(series):
        return series.astype("str").fillna("")
    if series.dtype == object:
        series = series.map(_cell_text)
    return series.astype("str").fillna("").str.strip()


def _cell_text(x) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    if hasattr(x, "strftime"):
        return x.strftime("%Y-%m-%d")
    return str(x)


def parse_dates(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(datetime64[D] with NaT for blanks, mask of non-blank cells that are not dates).
    Accepts 2024-01-05, 2024/1/5, 20240105, 2024年1月5日 and a trailing time."""
    t = text.str.slice(0, 10) if len(text) else text
    out = pd.to_datetime(t, format="%Y-%m-%d", errors="coerce")
    blank = (text == "").to_numpy()
    miss = out.isna().to_numpy() & ~blank
    if miss.any():
        alt = (text[miss].str.replace("年", "-", regex=False).str.replace("月", "-", regex=False)
               .str.replace("日", "", regex=False).str.replace("/", "-", regex=False)
               .str.replace(".", "-", regex=False).str.split(" ").str[0])
        compact = alt.str.fullmatch(r"\d{8}")
        alt = alt.where(~compact, alt.str.slice(0, 4) + "-" + alt.str.slice(4, 6) + "-"
                        + alt.str.slice(6, 8))
        fixed = pd.to_datetime(alt, format="%Y-%m-%d", errors="coerce")
        out = out.copy()
        out[miss] = fixed
    values = out.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    bad = np.isnat(values) & ~blank
    return values, bad


def parse_months(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(month index int64, bad mask). Accepts 2024-01, 2024-1, 202401, 2024年1月, 2024/01
    and full dates (the day is ignored)."""
    t = (text.str.replace("年", "-", regex=False).str.replace("月", "", regex=False)
         .str.replace("/", "-", regex=False).str.replace(".", "-", regex=False))
    compact = t.str.fullmatch(r"\d{6}")
    t = t.where(~compact, t.str.slice(0, 4) + "-" + t.str.slice(4, 6))
    year = _fast_float(t.str.slice(0, 4).where(t.str.fullmatch(r"\d{4}-\d{2}"), ""))
    month = _fast_float(t.str.slice(5, 7).where(t.str.fullmatch(r"\d{4}-\d{2}"), ""))
    other = np.isnan(year) & (t != "").to_numpy()
    if other.any():  # 2024-1, 2024-02-15 …: the slow path for the few odd cells only
        parts = t[other].str.extract(r"^(\d{4})-(\d{1,2})(?:-\d{1,2}.*)?$")
        year[other] = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype="float64",
                                                                          na_value=np.nan)
        month[other] = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype="float64",
                                                                           na_value=np.nan)
    bad = np.isnan(year) | np.isnan(month) | (month < 1) | (month > 12) | (year < 1900)
    idx = np.where(bad, 0, np.nan_to_num(year) * 12 + np.nan_to_num(month) - 1).astype(np.int64)
    return idx, bad


def _fast_float(text: pd.Series) -> np.ndarray:
    """Text → float64 (NaN where not a number), via an Arrow cast when every cell is clean."""
    import pyarrow as pa

    try:
        arr = pa.array(text.to_numpy(dtype=object), type=pa.string())
        return np.array(arr.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype="float64")
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return np.array(pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64",
                                                                      na_value=np.nan))


def _numbers(text: pd.Series, blank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, bad mask) of a text column; blanks are NaN and not bad; 1,200 → 1200."""
    if text.str.contains(",", regex=False).any():
        text = text.str.replace(",", "", regex=False)
    values = _fast_float(text.where(~pd.Series(blank, index=text.index), "nan"))
    return values, np.isnan(values) & ~blank


def _map_values(text: pd.Series, mapping: dict[str, str]) -> pd.Series:
    return text.replace(mapping) if text.isin(list(mapping)).any() else text


def _by_value(text: pd.Series, parse):
    """Run ``parse`` (text Series → (values, bad)) on the distinct cells only and spread the
    result back: dates, months and codes repeat a lot, so this is far cheaper than parsing
    every cell."""
    codes, uniques = pd.factorize(text)
    values, bad = parse(pd.Series(np.asarray(uniques, dtype=object), dtype="str"))
    if not len(text):
        return values[:0], bad[:0]
    return np.asarray(values)[codes], np.asarray(bad)[codes]


def _mapped(text: pd.Series, mapping: dict[str, str] | None, lower: bool = False
            ) -> pd.Series:
    """Category values mapped (Chinese → contract), on the distinct cells only; str dtype."""
    import pyarrow as pa

    codes, uniques = pd.factorize(text)
    values = pd.Series(np.asarray(uniques, dtype=object), dtype="str")
    if mapping:
        values = _map_values(values, mapping)
    if lower:
        values = values.str.lower()
    taken = pa.array(values.to_numpy(dtype=object), type=pa.large_string()).take(
        pa.array(codes, type=pa.int64()))
    return pd.Series(taken, dtype="str", index=text.index)


def normalise(name: str, frame: pd.DataFrame, file: str
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed table (good rows, 1-based data row number in ``_row``) and its rejected rows.
    Text columns come out as pandas ``str`` (Arrow-backed), numbers as float64, dates as
    ``datetime64[D]``, months as int64 month indices."""
    _, columns = SCHEMAS[name]
    source_rows = frame.attrs.get(SOURCE_ROWS)
    frame = frame.rename(columns=chinese_header_map(list(frame.columns)))
    duplicated = frame.columns[frame.columns.duplicated()]
    if len(duplicated):
        raise UserInputError("duplicate column (two headers mean the same contract column)",
                             file=file, column=str(duplicated[0]))
    for col in columns:
        if col.required and col.name not in frame.columns:
            raise UserInputError("required column is missing", file=file, column=col.name)
    n = len(frame)
    row_numbers = (np.arange(1, n + 1, dtype=np.int64) if source_rows is None
                   else np.asarray(source_rows, dtype=np.int64))
    out: dict[str, object] = {"_row": row_numbers}
    bad_any = np.zeros(n, dtype=bool)
    rejects: list[pd.DataFrame] = []

    def reject(mask: np.ndarray, column: str, reason: str, cells: pd.Series | None = None
               ) -> None:
        """Reject the rows in ``mask`` not rejected yet (one reason per row: the first bad
        column); the reason is followed by the cell text when ``cells`` is given."""
        nonlocal bad_any
        first = mask & ~bad_any
        if first.any():
            rows = np.flatnonzero(first)
            text = (reason if cells is None else
                    reason + pd.Series(cells.to_numpy(dtype=object)[rows], dtype="str"
                                       ).to_numpy(dtype=object))
            rejects.append(pd.DataFrame({"file": file, "row": row_numbers[rows], "column": column,
                                         "reason": text}))
        bad_any |= mask

    for col in columns:
        if col.name not in frame.columns:
            out[col.name] = _empty_column(col.kind, n)
            continue
        series = frame[col.name]
        if col.kind == "number" and _is_plain_numeric(series):
            values = series.to_numpy(dtype="float64", na_value=np.nan)
            if not col.blank_ok:
                reject(np.isnan(values), col.name, "空值 empty cell")
            out[col.name] = values
            continue
        if col.kind == "bool" and pd.api.types.is_bool_dtype(series):
            out[col.name] = series.to_numpy(dtype=bool, na_value=False)
            continue
        text = _text(series)
        blank = (text == "").to_numpy()
        if not col.blank_ok:
            reject(blank, col.name, "空值 empty cell")
        if col.kind == "id" and col.name in RESIDENT_ID_COLUMNS:
            out[col.name] = _resident_ids(text)
        elif col.kind == "id":
            out[col.name] = text.str.upper()
        elif col.kind == "date":
            values, bad = _by_value(text, parse_dates)
            reject(bad, col.name, "不是日期 not a date: ", text)
            out[col.name] = values
        elif col.kind == "month":
            values, bad = _by_value(text, parse_months)
            reject(bad & ~blank, col.name, "不是月份 not a month (YYYY-MM): ", text)
            out[col.name] = values
        elif col.kind == "number":
            values, bad = _numbers(text, blank)
            reject(bad, col.name, "不是数字 not a number: ", text)
            out[col.name] = values
        elif col.kind == "bool":
            values, bad = _by_value(text, lambda t: base_io.to_bool(t, blank=False))
            reject(bad, col.name, "不是是/否 not a boolean: ", text)
            out[col.name] = values
        elif col.kind == "program":
            mapped = _mapped(text, PROGRAM_VALUES, lower=True)
            reject(~mapped.isin(PROGRAMS).to_numpy() & ~blank, col.name,
                   "未知救助类别 unknown program (dibao, tekun, marginal): ", mapped)
            out[col.name] = mapped
            if name == "roster" and text.isin(list(PROGRAM_SUB_TYPES)).any():
                out["_program_sub_type"] = _mapped(text, PROGRAM_SUB_TYPES).where(
                    text.isin(list(PROGRAM_SUB_TYPES)), "")
        elif col.kind == "kind":
            mapped = _mapped(text, KIND_VALUES, lower=True)
            reject(~mapped.isin(["initial", "new"]).to_numpy() & ~blank, col.name,
                   "未知预警类型 unknown kind (initial, new): ", mapped)
            out[col.name] = mapped
        elif col.kind == "grade":
            text = _map_values(text, GRADE_VALUES).str.replace("级", "", regex=False)
            values, bad = base_io.to_numeric(text.where(~pd.Series(blank, index=text.index),
                                                        "nan"))
            reject(bad & ~blank, col.name, "不是残疾等级 not a grade: ", text)
            out[col.name] = values
        else:
            mapping = {"sub_type": SUB_TYPE_VALUES, "relation": RELATION_VALUES,
                       "disability_type": DISABILITY_TYPE_VALUES,
                       "category": MONITORING_VALUES}.get(col.kind)
            if mapping:
                out[col.name] = _mapped(text.str.replace("残疾", "", regex=False)
                                        if col.kind == "disability_type" else text, mapping)
            else:
                out[col.name] = text
    table = pd.DataFrame({k: (v.reset_index(drop=True) if isinstance(v, pd.Series) else v)
                          for k, v in out.items()})
    if name == "roster" and "_program_sub_type" in table:
        fill = ((table["sub_type"] == "") & (table["_program_sub_type"] != "")).to_numpy()
        if fill.any():
            sub_type = table["sub_type"].to_numpy(dtype=object)
            sub_type[fill] = table["_program_sub_type"].to_numpy(dtype=object)[fill]
            table["sub_type"] = pd.Series(sub_type, dtype="str")
        table = table.drop(columns="_program_sub_type")
    if bad_any.any():
        table = table[~bad_any].reset_index(drop=True)
    rejected = (pd.concat(rejects, ignore_index=True) if rejects
                else base_io.rejected_frame())
    return table, rejected


def _is_plain_numeric(series: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def _empty_column(kind: str, n: int):
    if kind == "date":
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if kind in ("number", "grade"):
        return np.full(n, np.nan)
    if kind == "bool":
        return np.zeros(n, dtype=bool)
    if kind == "month":
        return np.zeros(n, dtype=np.int64)
    return pd.Series(np.full(n, "", dtype=object), dtype="str")


def empty_table(name: str) -> pd.DataFrame:
    _, columns = SCHEMAS[name]
    data = {"_row": np.zeros(0, dtype=np.int64)}
    data.update({c.name: _empty_column(c.kind, 0) for c in columns})
    return pd.DataFrame(data)


def load_inputs(data_dir: Path | str) -> LoadedInputs:
    """Find, read and normalise every CONTRACT §5 input in ``data_dir``."""
    data_dir = Path(data_dir)
    tables: dict[str, pd.DataFrame] = {}
    rejected: list[pd.DataFrame] = []
    rows_read: dict[str, int] = {}
    rows_rejected: dict[str, int] = {}
    paths: list[Path] = []
    files: dict[str, str] = {}
    for name, (required, _) in SCHEMAS.items():
        path = base_io.find_input(data_dir, name, required=required)
        if path is None:
            tables[name] = empty_table(name)
            continue
        paths.append(path)
        files[name] = path.name
        frame = read_input(path)
        ragged = frame.attrs.get(RAGGED)
        table, rej = normalise(name, frame, path.name)
        tables[name] = table
        rows_read[name] = len(frame) + (0 if ragged is None else len(ragged))
        rows_rejected[name] = rows_read[name] - len(table)
        rejected.extend(r for r in (ragged, rej) if r is not None and len(r))
    rejected_frame = (pd.concat(rejected, ignore_index=True) if rejected
                      else base_io.rejected_frame())
    return LoadedInputs(AuditTables(**tables, files=files), rejected_frame, rows_read,
                        rows_rejected, paths)
