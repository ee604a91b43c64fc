"""Audit inputs (CONTRACT §5): find, read (CSV UTF-8/BOM/GB18030, xlsx, Parquet), map Chinese
headers and category values to contract names, type the columns, and reject bad rows.

Every input row is either used or listed in the rejected frame with file, row (1-based data
row, header excluded), column and reason. A missing required column is a UserInputError.
IDs are strings (upper-cased, stripped); dates are ``datetime64[D]`` (NaT = blank); months
are integer month indices (see calendar.py); amounts are float64 yuan.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from jiuzhu_sim import io as base_io
from jiuzhu_sim import setops
from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.files import find_input

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
    "银行账号": "account_no", "银行卡号": "account_no", "账号": "account_no",
    "收款账号": "account_no", "收款人姓名": "name", "领取人姓名": "name", "户名": "name",
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
    "保障方式": "coverage_type", "认定类型": "coverage_type", "护理等级": "care_level",
    "刚性支出": "rigid_expenditure", "人均刚性支出": "rigid_expenditure",
    "救助种类": "kind", "救助日期": "date", "救助金额": "amount",
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
MONITORING_VALUES = {
    # the seeds' own words (000 二(二), 001 一, 002, 004 附件) → category codes
    "防止返贫监测对象": "return_to_poverty_monitoring",
    "防返贫监测对象": "return_to_poverty_monitoring",
    "防返贫监测预警对象": "return_to_poverty_monitoring",
    "防止返贫监测预警对象": "return_to_poverty_monitoring",
    "脱贫不稳定户": "unstable_post_poverty", "脱贫不稳定人口": "unstable_post_poverty",
    "边缘易致贫户": "marginal_at_risk", "边缘易致贫人口": "marginal_at_risk",
    "突发严重困难户": "sudden_hardship", "突发严重困难人口": "sudden_hardship",
    "信访": "petitioner", "信访对象": "petitioner", "社会救助类信访对象": "petitioner",
    "服刑人员未成年子女": "prisoner_child",
    "戒毒人员未成年子女": "rehab_child", "强制隔离戒毒人员未成年子女": "rehab_child",
    "脱贫稳定户": "stable_post_poverty", "脱贫稳定人口": "stable_post_poverty"}
MONITORING_CODES = frozenset(MONITORING_VALUES.values())
"""Every category the audit knows; any other value is counted as unmapped in summary.json."""
COVERAGE_TYPE_VALUES = {"整户保": "household", "整户": "household", "单人保": "single",
                        "单人户": "single", "单列": "single", "单列对象": "single",
                        "支出型": "expenditure", "支出型贫困": "expenditure"}
COVERAGE_TYPES = ("household", "single", "expenditure")
CARE_LEVEL_VALUES = {"全自理": "self_care", "半护理": "semi_care", "全护理": "full_care",
                     "partial": "semi_care", "full": "full_care", "self": "self_care"}
CARE_LEVELS = ("self_care", "semi_care", "full_care")
ASSISTANCE_KIND_VALUES = {"医疗救助": "medical", "医疗": "medical", "临时救助": "temporary",
                          "临时": "temporary"}
ASSISTANCE_KINDS = ("medical", "temporary")
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


def _resident_ids(text: pd.Series) -> tuple[pd.Series, int]:
    """Resident IDs in canonical form, and how many cells the normalisation changed (the
    usual already-canonical cells are left untouched).

    Read off Arrow's buffers: the column is upper-cased only when a cell holds a lowercase
    ASCII letter or a non-ASCII character, a cell is canonical when it has 18 bytes, the
    first 17 digits and the last a digit or X, and only the other cells go through
    :func:`~jiuzhu_sim.resident_id.normalize_ids` (:func:`_resident_ids_general` is the
    same on pandas' string methods; tests show them equal)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from jiuzhu_sim.resident_id import normalize_ids

    arr = _arrow_column(text)
    if arr is None:
        return _resident_ids_general(text)
    if _lower_or_wide(arr).any():
        text = text.str.upper()
        arr = _arrow_column(text)
        if arr is None:
            return _resident_ids_general(text)
    odd = ~_canonical_ids(arr)
    changed = 0
    if odd.any():
        before = text[odd]
        fixed = normalize_ids(before).to_numpy(dtype=object)
        differs = fixed != before.to_numpy(dtype=object)
        changed = int(differs.sum())
        if changed:  # (odd cells that normalise to themselves, e.g. too short, stay put)
            where = np.flatnonzero(odd)[differs]
            odd = np.zeros(len(odd), dtype=bool)
            odd[where] = True
            arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
            arr = pc.replace_with_mask(arr, pa.array(odd), pa.array(fixed[differs],
                                                                    type=arr.type))
            text = pd.Series(arr, dtype=text.dtype, index=text.index)
    return text, changed


def _arrow_column(text: pd.Series):
    """The Arrow (large_)string data behind a pandas text column as it is (chunked, no
    copy), or None when there is none or it has nulls (the callers' general paths)."""
    import pyarrow as pa

    arr = getattr(text.array, "_pa_array", None)
    if arr is None or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    return None if arr.null_count else arr


def _flags(arrow_bools) -> np.ndarray:
    """An Arrow boolean (chunked) array as a numpy bool array."""
    return np.asarray(arrow_bools.to_numpy(zero_copy_only=False), dtype=bool)


def _lower_or_wide(arr) -> np.ndarray:
    """Cells of an Arrow string array that upper-casing can change: a non-ASCII character
    or a lowercase ASCII letter (Arrow kernels: no regex, no Python string per cell).
    A column whose bytes are all below ``a`` (digits, capitals: the usual ID) has none,
    seen by one maximum over each chunk's buffer."""
    import pyarrow.compute as pc

    if _max_byte(arr) < ord("a"):
        return np.zeros(len(arr), dtype=bool)
    return ~_flags(pc.string_is_ascii(arr)) | _flags(pc.not_equal(pc.ascii_upper(arr), arr))


def _max_byte(arr) -> int:
    """The largest byte in the cells of an Arrow (chunked) string array (0 when empty)."""
    import pyarrow as pa

    top = 0
    for chunk in (arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]):
        offsets, data = base_io.text_buffers(chunk)
        if len(chunk) and offsets[-1] > offsets[0]:
            top = max(top, int(data[int(offsets[0]):int(offsets[-1])].max()))
    return top


def _canonical_ids(arr) -> np.ndarray:
    """Cells of an Arrow string array that are a canonical resident ID (17 ASCII digits and
    a digit or X: ``[0-9]{17}[0-9X]``) or blank, by Arrow kernels: 18 bytes of ASCII digits,
    or 18 bytes ending in X whose first 17 are ASCII digits."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lengths = _flags(pc.equal(pc.binary_length(arr), 18)), _flags(
        pc.equal(pc.binary_length(arr), 0))
    wide, blank = lengths
    digits = _flags(pc.ascii_is_decimal(arr))
    ok = wide & digits
    maybe = np.flatnonzero(wide & ~digits)  # e.g. the 1 in 11 with the check character X
    if len(maybe):
        cells = arr.take(pa.array(maybe))
        ok[maybe] = (_flags(pc.ends_with(cells, "X"))
                     & _flags(pc.ascii_is_decimal(pc.utf8_slice_codeunits(cells, 0, 17))))
    return ok | blank


def _resident_ids_general(text: pd.Series) -> tuple[pd.Series, int]:
    """:func:`_resident_ids` on pandas' string methods (any text column)."""
    from jiuzhu_sim.resident_id import normalize_ids

    text = text.str.upper()
    odd = ~text.str.fullmatch(r"[0-9]{17}[0-9X]").fillna(False).to_numpy(dtype=bool)
    odd &= (text != "").to_numpy()
    changed = 0
    if odd.any():
        dtype = text.dtype
        fixed = normalize_ids(text[odd])
        changed = int((fixed.to_numpy(dtype=object) != text[odd].to_numpy(dtype=object)).sum())
        text = text.astype(object)
        text[odd] = fixed.to_numpy(dtype=object)
        text = text.astype(dtype)
    return text, changed


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
        _c("last_visit_date", "date", False, True), _c("sub_type", "sub_type", False, True),
        _c("account_no", "account", False, True),
        _c("coverage_type", "coverage_type", False, True),
        _c("care_level", "care_level", False, True)]),
    "payments": (True, [
        _c("payment_id", "id", blank_ok=True), _c("person_id", "id"),
        _c("account_holder_id", "id", blank_ok=True), _c("region_code", "id"),
        _c("program", "program"), _c("period", "month"), _c("amount", "number"),
        _c("paid_date", "date"), _c("name", blank_ok=True, required=False),
        _c("account_no", "account", False, True)]),
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
                           _c("per_capita_income", "number"), _c("check_date", "date"),
                           _c("rigid_expenditure", "number", False, True)]),
    "assistance": (False, [_c("person_id", "id"), _c("kind", "assistance_kind"),
                           _c("date", "date"), _c("amount", "number", False, True)]),
    "alerts": (False, [
        _c("alert_id", "id", blank_ok=True), _c("person_id", "id"),
        _c("source", blank_ok=True), _c("kind", "kind"),
        _c("received_date", "date"), _c("forwarded_date", "date", False, True),
        _c("township_received_date", "date", False, True),
        _c("verified_date", "date", blank_ok=True), _c("outcome", blank_ok=True)]),
}
"""Input name → (required file, columns). Optional files may be absent."""

INPUT_NAMES = tuple(SCHEMAS)
CONTRACT_COLUMNS = frozenset(c.name for _, cols in SCHEMAS.values() for c in cols)


def empty_netted() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in NETTED_COLUMNS.items()})


NETTED_COLUMNS = {"_row": "int64", "payment_id": "str", "person_id": "str", "program": "str",
                  "period": "int64", "amount": "float64", "nets_row": "int64",
                  "nets_payment_id": "str", "amount_before": "float64",
                  "amount_after": "float64"}
"""``AuditTables.netted_payments``: one row per (reversal row, payment it nets): the
negative row (``_row``, its payment_id and amount) and the payment it reduces (``nets_row``,
``nets_payment_id``, its amount before and after)."""


@dataclass
class AuditTables:
    """Normalised audit inputs; optional inputs are empty frames with the contract columns.

    ``netted_payments``: negative payment rows (clawbacks, reversals) and the payments they
    were netted against (:func:`net_reversals`); the payments table holds the net amounts.
    ``unknown_payment_keys``: (person_id, program, period) of payment rows that were
    rejected — for those months the input says a payment exists, so no check may call them
    unpaid."""

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
    assistance: pd.DataFrame = field(default_factory=lambda: empty_table("assistance"))
    files: dict[str, str] = field(default_factory=dict)
    netted_payments: pd.DataFrame = field(default_factory=empty_netted)
    unknown_payment_keys: pd.DataFrame = field(default_factory=lambda: empty_unknown_keys())

    def __getitem__(self, name: str) -> pd.DataFrame:
        return getattr(self, name)


@dataclass
class LoadedInputs:
    tables: AuditTables
    rejected: pd.DataFrame
    rows_read: dict[str, int]
    rows_rejected: dict[str, int]
    paths: list[Path]
    # what the reading did beyond typing: sheets read, IDs normalised, payments netted
    notes: dict = field(default_factory=dict)


# --- reading --------------------------------------------------------------------------


SOURCE_ROWS = "source_rows"
"""``frame.attrs`` key: the 1-based data row of each frame row in its file, when rows were
dropped on read (ragged CSV rows); absent means rows 1..n."""
RAGGED = "ragged"
"""``frame.attrs`` key: the rejected-rows frame of CSV rows with the wrong number of fields."""


def read_input(path: Path, name: str | None = None, sheets: tuple[str, ...] = ()
               ) -> pd.DataFrame:
    """Read one file with every column as text (fast pyarrow path for UTF-8 CSV).

    A CSV row with more or fewer fields than the header is not a reason to stop the run: it
    is left out of the frame and listed in ``frame.attrs[RAGGED]`` (file, row, reason), and
    ``frame.attrs[SOURCE_ROWS]`` keeps the data-row numbers of the rows that were kept.
    A workbook is read by :func:`read_workbook` (every sheet carrying the table, header
    found below title rows; ``sheets`` chooses sheets by name)."""
    if path.suffix.lower() == ".xlsx":
        return read_workbook(path, name, sheets)
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


SHEETS = "sheets"
"""``frame.attrs`` key of a workbook: the sheets read and skipped (:func:`read_workbook`)."""
HEADER_SCAN_ROWS = 30  # title rows above a header are few; a header is looked for this deep


def _known_header(cell) -> str | None:
    """The contract name a header cell stands for (contract name or Chinese synonym)."""
    text = "" if cell is None else str(cell).replace("\ufeff", "").strip()
    if not text:
        return None
    if text in CONTRACT_COLUMNS:
        return text
    return CHINESE_COLUMNS.get(text)


def _header_row(rows: list[tuple]) -> int:
    """Index of the header row among a sheet's first rows: the row naming the most known
    columns (title rows such as ××市2024年低保金发放明细表 or 单位：元 name none); the
    first row when none names two."""
    best, best_count = 0, 1
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        count = len({c for c in map(_known_header, row) if c})
        if count > best_count:
            best, best_count = i, count
    return best


def read_workbook(path: Path, name: str | None = None, sheets: tuple[str, ...] = ()
                  ) -> pd.DataFrame:
    """Every sheet of an .xlsx that carries the table, stacked, cells as Python values.

    In each sheet the header is the row naming the most known columns (title rows above it
    are skipped and reported); a sheet carries the table when its header has every required
    column of ``name`` (or, without ``name``, the same columns as the first sheet that has
    a header). Rows are numbered 1.. over the sheets in order (the data rows, as for CSV);
    ``frame.attrs[SHEETS]`` lists each sheet read (header row in Excel numbering, first and
    last data row) and each sheet skipped with the reason. ``sheets`` (``--sheet``) reads
    only those sheets. Fully empty rows are not data and are skipped."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a malformed file is a user mistake: one line, no traceback
        raise UserInputError(f"cannot read workbook ({type(exc).__name__}: {exc})".split(
            "\n")[0], file=path.name) from None
    try:
        names = list(book.sheetnames)
        if sheets:
            unknown = [s for s in sheets if s not in names]
            if unknown:
                raise UserInputError(f"no sheet named {unknown[0]!r} (sheets: "
                                     f"{', '.join(names)})", file=path.name)
            names = [s for s in names if s in sheets]
        required = ([c.name for c in SCHEMAS[name][1] if c.required] if name in SCHEMAS
                    else None)
        parts: list[tuple[str, int, list, list[tuple]]] = []
        skipped: list[dict] = []
        reference: set[str] | None = None
        for sheet in names:
            try:
                rows = [tuple(r) for r in book[sheet].iter_rows(values_only=True)]
            except Exception as exc:
                raise UserInputError(f"cannot read sheet {sheet!r} ({type(exc).__name__})",
                                     file=path.name) from None
            rows = [r for r in rows if any(c is not None and str(c).strip() != "" for c in r)]
            if not rows:
                skipped.append({"sheet": sheet, "reason": "空表 empty"})
                continue
            h = _header_row(rows)
            header = [("" if c is None else str(c).replace("\ufeff", "").strip())
                      for c in rows[h]]
            dup = pd.Index([c for c in header if c])
            if dup.duplicated().any():
                raise UserInputError(f"duplicate column in sheet {sheet!r}", file=path.name,
                                     column=str(dup[dup.duplicated()][0]))
            known = {k for k in map(_known_header, header) if k}
            if required is not None:
                missing = [c for c in required if c not in known]
                carries = not missing
                why = f"缺少必需列 missing required column {missing[0]}" if missing else ""
            else:
                carries = len(known) >= 2 and (reference is None or known == reference)
                why = "表头不同 a different header"
            if carries:
                reference = reference or known
                parts.append((sheet, h, header, rows[h + 1:]))
            else:
                skipped.append({"sheet": sheet, "reason": why})
    finally:
        book.close()
    if not parts:
        if skipped and any("missing required column" in s["reason"] for s in skipped):
            first = next(s for s in skipped if "missing required column" in s["reason"])
            raise UserInputError(f"no sheet carries the table (sheet {first['sheet']!r}: "
                                 f"{first['reason']})", file=path.name)
        return pd.DataFrame()
    columns = list(dict.fromkeys(c for _, _, header, _ in parts for c in header if c))
    frames = []
    report = []
    first = 1
    for sheet, h, header, body in parts:
        width = len(header)
        keep = [i for i, c in enumerate(header) if c]
        # cells under no header (a blank header cell, or right of the last one) cannot be
        # mapped to a column: not read, but counted in the report, never dropped in silence
        unheaded = sum(1 for r in body for i, c in enumerate(r)
                       if (i >= width or not header[i]) and c is not None
                       and str(c).strip() != "")
        body = [tuple(r[:width]) + (None,) * max(0, width - len(r)) for r in body]
        data = {header[i]: [r[i] for r in body] for i in keep}
        frame = pd.DataFrame(data, columns=[header[i] for i in keep], dtype=object)
        frames.append(frame.reindex(columns=columns))
        report.append({"sheet": sheet, "header_row": h + 1, "first_row": first,
                       "last_row": first + len(body) - 1, "rows": len(body),
                       "cells_without_header": unheaded})
        first += len(body)
    frame = (pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0])
    frame = frame.astype(object).where(frame.notna(), None)
    frame.attrs[SHEETS] = {"read": report, "skipped": skipped}
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
    # large_string: what pandas' Arrow-backed text columns hold (no cast in to_pandas);
    # 4 MB blocks: fewer chunks per column, each later whole-column step pays per chunk
    table = pacsv.read_csv(
        path, read_options=pacsv.ReadOptions(column_names=names, skip_rows=1,
                                             block_size=4 << 20),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.large_string()
                                                           for n in names},
                                             strings_can_be_null=False))
    return table.to_pandas(types_mapper=lambda t: pd.StringDtype("pyarrow")
                           if t in (pa.string(), pa.large_string()) else None)


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
    # strip only when a cell can start or end with whitespace (read off Arrow's buffers)
    return base_io.strip_text(series.astype("str").fillna(""))


def _cell_text(x) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    if hasattr(x, "strftime"):
        return x.strftime("%Y-%m-%d")
    return str(x)


@dataclass(frozen=True)
class InputLimits:
    """What the readers accept as a plausible date or amount (``audit_input.*`` parameters,
    params/national/audit_input.yaml): dates within [earliest, latest], amounts finite with
    ``|x| <= max_abs_amount``; ``open_end_*`` are the end-date values that mean open-ended."""

    earliest: np.datetime64 = np.datetime64("1900-01-01", "D")
    latest: np.datetime64 = np.datetime64("2099-12-31", "D")
    open_end_dates: tuple[str, ...] = ()
    open_end_words: tuple[str, ...] = ()
    max_abs_amount: float = 1e7

    @property
    def range_text(self) -> str:
        return f"{self.earliest}..{self.latest}"


def input_limits(params=None) -> InputLimits:
    """The readers' limits from ``params`` (a Parameters object) or, when None, from the
    national ``audit_input.*`` parameters (reading happens before the region is known)."""
    names = ("audit_input.earliest_date", "audit_input.latest_date",
             "audit_input.open_end_dates", "audit_input.open_end_words",
             "audit_input.max_abs_amount")
    if params is not None:
        values = {n: params[n] for n in names}
    else:
        values = _national_input_values(names)
    return InputLimits(
        earliest=np.datetime64(str(values[names[0]]), "D"),
        latest=np.datetime64(str(values[names[1]]), "D"),
        open_end_dates=tuple(str(v) for v in values[names[2]]),
        open_end_words=tuple(str(v) for v in values[names[3]]),
        max_abs_amount=float(values[names[4]]))


def _national_input_values(names) -> dict:
    import datetime as dt

    from jiuzhu_sim.parameters import (
        NATIONAL_CODE,
        _load_tree,
        default_params_dir,
        resolve_raw,
    )

    root = default_params_dir().resolve()
    regions = _load_tree(str(root))
    raw, _ = resolve_raw(regions[NATIONAL_CODE], dt.date.today(), regions, root,
                         only=lambda n: n in names)
    missing = [n for n in names if n not in raw]
    if missing:
        raise UserInputError(f"parameter {missing[0]} is not set (params/national/"
                             "audit_input.yaml)")
    return {n: raw[n].value for n in names}


_DEFAULT_LIMITS: list[InputLimits] = []


def default_limits() -> InputLimits:
    if not _DEFAULT_LIMITS:
        _DEFAULT_LIMITS.append(input_limits())
    return _DEFAULT_LIMITS[0]


_DATE = (r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
         r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_COMPACT_DATE = r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"


def date_parts(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(datetime64[D] of each cell, NaT where not a calendar date; mask of non-blank cells
    that are not dates). Day precision from the start: no datetime64[ns] step, so a year
    like 9999 or 3024 is a date (to be judged by its range), never an overflow."""
    clean = text.str.normalize("NFKC").str.strip() if len(text) else text
    parts = clean.str.extract(_DATE)
    compact = parts["y"].isna() & clean.str.fullmatch(_COMPACT_DATE[1:-1]).fillna(False)
    if compact.any():
        parts.loc[compact, ["y", "m", "d"]] = clean[compact].str.extract(
            _COMPACT_DATE).to_numpy()
    year = pd.to_numeric(parts["y"], errors="coerce").to_numpy(dtype="float64",
                                                               na_value=np.nan)
    month = pd.to_numeric(parts["m"], errors="coerce").to_numpy(dtype="float64",
                                                                na_value=np.nan)
    day = pd.to_numeric(parts["d"], errors="coerce").to_numpy(dtype="float64",
                                                              na_value=np.nan)
    ok = ~(np.isnan(year) | np.isnan(month) | np.isnan(day))
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    y = np.where(ok, year, 1970).astype(np.int64)
    m = np.where(ok, month, 1).astype(np.int64)
    d = np.where(ok, day, 1).astype(np.int64)
    first = ((y - 1970) * 12 + m - 1).astype("datetime64[M]").astype("datetime64[D]")
    values = first + (d - 1).astype("timedelta64[D]")
    ok &= values.astype("datetime64[M]") == first.astype("datetime64[M]")  # 2024-02-30
    values = np.where(ok, values, np.datetime64("NaT"))
    blank = (text == "").to_numpy()
    return values.astype("datetime64[D]"), ~ok & ~blank


def parse_dates(text: pd.Series, limits: InputLimits | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """(datetime64[D] with NaT for blanks, mask of non-blank cells that are not dates or
    fall outside the plausible range). Accepts 2024-01-05, 2024/1/5, 20240105, 2024年1月5日,
    full-width digits and a trailing time."""
    limits = limits or default_limits()
    values, bad = date_parts(text)
    outside = ~np.isnat(values) & ((values < limits.earliest) | (values > limits.latest))
    return np.where(bad | outside, np.datetime64("NaT"), values).astype("datetime64[D]"), \
        bad | outside


def parse_months(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(month index int64, bad mask). Accepts 2024-01, 2024-1, 202401, 2024年1月, 2024/01
    and full dates (the day is ignored)."""
    t = text.str.normalize("NFKC").str.strip() if len(text) else text
    t = (t.str.replace("年", "-", regex=False).str.replace("月", "", regex=False)
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
    limits = default_limits()
    low = int(str(limits.earliest)[:4])
    high = int(str(limits.latest)[:4])
    bad = (np.isnan(year) | np.isnan(month) | (month < 1) | (month > 12) | (year < low)
           | (year > high))
    idx = np.where(bad, 0, np.nan_to_num(year) * 12 + np.nan_to_num(month) - 1).astype(np.int64)
    return idx, bad


def _fast_float(text: pd.Series) -> np.ndarray:
    """Text → float64 (NaN where not a number), via an Arrow cast when every cell is clean."""
    import pyarrow as pa

    try:
        arr = _arrow_column(text)  # Arrow's own buffer: no Python string per cell
        if arr is None:
            arr = pa.array(text.to_numpy(dtype=object), type=pa.string())
        return np.array(arr.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype="float64")
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return np.array(pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64",
                                                                      na_value=np.nan))


_AMOUNT_NOISE = r"[\s,'’元圆¥$]|人民币|RMB|CNY"


def _numbers(text: pd.Series, blank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, bad mask) of a text column; blanks are NaN and not bad. Understood: 1,200;
    941元; ¥941 and ￥941; full-width digits; (338.00) and −338 for negatives. Not finite
    (inf, nan, 1e309) is bad."""
    if text.str.contains(",", regex=False).any():
        text = text.str.replace(",", "", regex=False)
    values = _fast_float(text.where(~pd.Series(blank, index=text.index), "nan")
                         if blank.any() else text)
    odd = ~np.isfinite(values) & ~blank
    if odd.any():  # the few cells that are not plain numbers: clean them, cast again
        cells = text[odd].str.normalize("NFKC").str.replace(_AMOUNT_NOISE, "", regex=True)
        cells = cells.str.replace("\u2212", "-", regex=False)
        paren = cells.str.fullmatch(r"\(([0-9.]+)\)").fillna(False)
        cells = cells.where(~paren, "-" + cells.str.slice(1, -1))
        plain = cells.str.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?").fillna(False)
        values = values.copy()
        values[odd] = np.where(plain.to_numpy(), pd.to_numeric(
            cells.where(plain, "nan"), errors="coerce").to_numpy(dtype="float64",
                                                                 na_value=np.nan), np.nan)
    values = np.where(np.isfinite(values), values, np.nan)
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
    before = pd.Series(np.asarray(uniques, dtype=object), dtype="str")
    values = before
    if mapping:
        values = _map_values(values, mapping)
    if lower:
        values = values.str.lower()
    if text.dtype == "str" and values.equals(before):  # already in contract words
        return text
    taken = pa.array(values.to_numpy(dtype=object), type=pa.large_string()).take(
        pa.array(codes, type=pa.int64()))
    return pd.Series(taken, dtype="str", index=text.index)


def normalise(name: str, frame: pd.DataFrame, file: str, limits: InputLimits | None = None
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed table (good rows, 1-based data row number in ``_row``) and its rejected rows.
    Text columns come out as pandas ``str`` (Arrow-backed), numbers as float64, dates as
    ``datetime64[D]``, months as int64 month indices.

    ``table.attrs`` carries what a reader should report: ``IDS_NORMALISED`` (column → cells
    whose ID changed by normalisation) and, for payments, ``UNKNOWN_KEYS`` (the person,
    program and period of rejected payment rows: those months are unknown, not unpaid)."""
    limits = limits or default_limits()
    normalised: dict[str, int] = {}
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
            values = np.where(np.isinf(values), np.nan, values)
            reject(np.isnan(values) & ~np.isnan(series.to_numpy(dtype="float64",
                                                                 na_value=np.nan)),
                   col.name, "不是有限数字 not a finite number")
            reject(np.abs(np.nan_to_num(values)) > limits.max_abs_amount, col.name,
                   f"金额超出合理范围 amount outside ±{limits.max_abs_amount:,.0f}: ",
                   pd.Series(values, dtype="float64").astype("str"))
            out[col.name] = values
            continue
        if col.kind == "bool" and pd.api.types.is_bool_dtype(series):
            out[col.name] = series.to_numpy(dtype=bool, na_value=False)
            continue
        text = _text(series)
        if col.kind in ("id", "account") and (col.name in RESIDENT_ID_COLUMNS
                                              or col.kind == "account"):
            refuse_numeric_ids(series, col.name, file, row_numbers, text)
        if col.kind == "date" and col.name in OPEN_END_COLUMNS:
            text = _open_end_as_blank(text, limits)
        blank = (text == "").to_numpy()
        if not col.blank_ok:
            reject(blank, col.name, "空值 empty cell")
        if col.kind == "id" and col.name in RESIDENT_ID_COLUMNS:
            out[col.name], changed = _resident_ids(text)
            if changed:
                normalised[col.name] = changed
        elif col.kind == "account":
            out[col.name], changed = _account_numbers(text)
            if changed:
                normalised[col.name] = changed
        elif col.kind == "id":
            out[col.name], changed = _other_ids(text)
            if changed:
                normalised[col.name] = changed
        elif col.kind == "date":
            values, bad = _by_value(text, date_parts)
            reject(bad, col.name, "不是日期 not a date: ", text)
            outside = ~np.isnat(values) & ((values < limits.earliest)
                                           | (values > limits.latest))
            reject(outside, col.name, "日期超出合理范围 date outside the plausible range "
                   f"{limits.range_text}: ", text)
            out[col.name] = np.where(outside, np.datetime64("NaT"), values).astype(
                "datetime64[D]")
        elif col.kind == "month":
            values, bad = _by_value(text, parse_months)
            reject(bad & ~blank, col.name, "不是月份 not a month (YYYY-MM): ", text)
            out[col.name] = values
        elif col.kind == "number":
            values, bad = _numbers(text, blank)
            reject(bad, col.name, "不是数字 not a (finite) number: ", text)
            reject(np.abs(np.nan_to_num(values)) > limits.max_abs_amount, col.name,
                   f"金额超出合理范围 amount outside ±{limits.max_abs_amount:,.0f}: ", text)
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
        elif col.kind == "assistance_kind":
            mapped = _mapped(text, ASSISTANCE_KIND_VALUES, lower=True)
            reject(~mapped.isin(ASSISTANCE_KINDS).to_numpy() & ~blank, col.name,
                   "未知救助类型 unknown kind (medical, temporary): ", mapped)
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
                       "category": MONITORING_VALUES, "coverage_type": COVERAGE_TYPE_VALUES,
                       "care_level": CARE_LEVEL_VALUES}.get(col.kind)
            if mapping:
                out[col.name] = _mapped(text.str.replace("残疾", "", regex=False)
                                        if col.kind == "disability_type" else text, mapping)
            else:
                out[col.name] = text
    # copy=False: the columns are this function's own (pandas would copy each one, and
    # consolidate the numeric ones into a block)
    table = pd.DataFrame({k: (v.reset_index(drop=True) if isinstance(v, pd.Series) else v)
                          for k, v in out.items()}, copy=False)
    if name == "roster" and "_program_sub_type" in table:
        fill = ((table["sub_type"] == "") & (table["_program_sub_type"] != "")).to_numpy()
        if fill.any():
            sub_type = table["sub_type"].to_numpy(dtype=object)
            sub_type[fill] = table["_program_sub_type"].to_numpy(dtype=object)[fill]
            table["sub_type"] = pd.Series(sub_type, dtype="str")
        table = table.drop(columns="_program_sub_type")
    unknown = None
    if name == "payments" and bad_any.any():
        unknown = _unknown_payment_keys(table[bad_any])
    if bad_any.any():
        table = table[~bad_any].reset_index(drop=True)
    rejected = (pd.concat(rejects, ignore_index=True) if rejects
                else base_io.rejected_frame())
    if len(rejected):
        rejected = _mark_totals_rows(rejected, frame, row_numbers, bad_any)
    table.attrs[IDS_NORMALISED] = normalised
    if unknown is not None:
        table.attrs[UNKNOWN_KEYS] = unknown
    return table, rejected


IDS_NORMALISED = "ids_normalised"
UNKNOWN_KEYS = "unknown_payment_keys"
UNKNOWN_KEY_COLUMNS = ["person_id", "program", "period"]
TOTALS_REASON = "合计行 totals row (a sum, not a record)"
_TOTALS = r"^\s*(?:合\s*计|总\s*计|小\s*计|累\s*计|总\s*合\s*计)"


def _unknown_payment_keys(bad: pd.DataFrame) -> pd.DataFrame:
    """(person_id, program, period month index) of rejected payment rows whose three keys
    were readable: the input says a payment exists that month, the audit could not use it."""
    ok = ((pd.Series(bad["person_id"], dtype="str").fillna("") != "").to_numpy()
          & pd.Series(bad["program"], dtype="str").isin(PROGRAMS).to_numpy()
          & (np.asarray(bad["period"], dtype=np.int64) > 0))
    keys = pd.DataFrame({"person_id": pd.Series(bad["person_id"].to_numpy()[ok], dtype="str"),
                         "program": pd.Series(bad["program"].to_numpy()[ok], dtype="str"),
                         "period": np.asarray(bad["period"], dtype=np.int64)[ok]})
    return keys.drop_duplicates().reset_index(drop=True)


def empty_unknown_keys() -> pd.DataFrame:
    return pd.DataFrame({"person_id": pd.Series([], dtype="str"),
                         "program": pd.Series([], dtype="str"),
                         "period": np.zeros(0, dtype=np.int64)})


def _mark_totals_rows(rejected: pd.DataFrame, frame: pd.DataFrame, row_numbers: np.ndarray,
                      bad_any: np.ndarray) -> pd.DataFrame:
    """A rejected row whose first cells (or ID/name cell) read 合计/总计/小计 is a totals row
    of a spreadsheet: say so instead of naming its first empty cell."""
    rows = np.flatnonzero(bad_any)
    cols = list(dict.fromkeys(list(frame.columns[:3]) + [c for c in ("person_id", "name")
                                                         if c in frame.columns]))
    totals = np.zeros(len(rows), dtype=bool)
    for col in cols:
        cells = _text(frame[col].iloc[rows].reset_index(drop=True))
        totals |= cells.str.contains(_TOTALS, regex=True).fillna(False).to_numpy(dtype=bool)
    if not totals.any():
        return rejected
    total_rows = set(row_numbers[rows[totals]].tolist())
    hit = rejected["row"].isin(total_rows).to_numpy()
    rejected = rejected.copy()
    rejected.loc[hit, "column"] = ""
    rejected.loc[hit, "reason"] = TOTALS_REASON
    return rejected


OPEN_END_COLUMNS = frozenset({"end_date"})
"""Date columns where an open-end convention (9999-12-31, 长期 …) means blank."""


def _open_end_as_blank(text: pd.Series, limits: InputLimits) -> pd.Series:
    """Open-end conventions (``audit_input.open_end_dates``/``_words``) → '' (open-ended)."""
    words = set(limits.open_end_words)
    days, _ = _by_value(text, date_parts)
    opens = setops.isin(days.astype("datetime64[D]"),
                    np.array(limits.open_end_dates, dtype="datetime64[D]"))
    opens |= text.isin(words).to_numpy()
    return text.where(~opens, "") if opens.any() else text


_ID_AS_NUMBER = r"^[0-9](?:\.[0-9]+)?[eE]\+?[0-9]+$|^[0-9]{9,}\.[0-9]*$"


def refuse_numeric_ids(series: pd.Series, column: str, file: str,
                       row_numbers: np.ndarray, text: pd.Series | None = None) -> None:
    """An ID or account column stored as numbers has lost digits (a float keeps 15–17 of
    them: 3.50581199005E+17): refuse it with one line saying how to export it as text."""
    where = None
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        present = np.flatnonzero(series.notna().to_numpy())
        where = present[0] if len(present) else None
    elif series.dtype == object:
        kinds = series.map(lambda x: isinstance(x, (int, float, np.integer, np.floating))
                           and not isinstance(x, bool) and x == x).to_numpy(dtype=bool)
        if kinds.any():
            where = int(np.flatnonzero(kinds)[0])
    if where is None:
        text = _text(series) if text is None else text
        # a number written out has a '.', 'e' or 'E' and ends in a digit or '.': on Arrow
        # kernels, the cells not all digits that end so (not IDs ending in X); else one
        # RE2 pass for the '.', 'e' or 'E'
        arr = _arrow_column(text)
        if arr is not None and not any(
                base_io.any_byte(chunk, b".eE") for chunk in getattr(arr, "chunks", [arr])):
            odd = np.zeros(0, dtype=np.int64)  # no '.', 'e' or 'E' anywhere: no number text
        elif arr is not None:
            import pyarrow as pa
            import pyarrow.compute as pc

            odd = np.flatnonzero(~_flags(pc.ascii_is_decimal(arr))
                                 & _flags(pc.greater(pc.binary_length(arr), 0)))
            if len(odd):
                last = pc.utf8_slice_codeunits(arr.take(pa.array(odd)), -1, 2 ** 31 - 1)
                ends = pa.array(list("0123456789."), type=last.type)
                odd = odd[_flags(pc.is_in(last, value_set=ends))]
        else:
            odd = np.flatnonzero(text.str.contains("[.eE]", regex=True).fillna(False)
                                 .to_numpy(dtype=bool))
        if len(odd):
            looks = text.iloc[odd].str.contains(_ID_AS_NUMBER, regex=True).fillna(
                False).to_numpy(dtype=bool)
            if looks.any():
                where = int(odd[np.flatnonzero(looks)[0]])
    if where is not None:
        cell = series.iloc[where]
        raise UserInputError(
            f"号码被存成了数字 stored as a number ({cell!r}): digits are already lost; "
            "export the column as text (Excel: 设置单元格格式→文本 before pasting, or "
            "数据→分列→文本; CSV: keep the full 18 characters, not 3.5E+17) and run again",
            file=file, row=int(row_numbers[where]), column=column)


# real characters, not \u escapes: the pattern must stay RE2 syntax (Arrow's fast regex)
_INVISIBLE = "[\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff\u00a0\u3000]|^['‘’`]+"


def _other_ids(text: pd.Series) -> tuple[pd.Series, int]:
    """Codes other than resident IDs (household_id, region_code, payment_id …): upper case,
    invisible characters and a leading quote removed (hyphens kept: they may belong to the
    code); (values, cells changed). Upper-casing and the search for invisible characters
    run only when Arrow's buffer holds a lowercase letter, a non-ASCII byte or a quote."""
    import pyarrow.compute as pc

    arr = _arrow_column(text)
    fast = arr is not None
    if not fast or _lower_or_wide(arr).any():
        text = text.str.upper()
    if fast and _max_byte(arr) < 0x80 and not any(
            pc.any(pc.starts_with(arr, quote)).as_py() for quote in "'`"):
        return text, 0  # every character of _INVISIBLE is non-ASCII but a leading ' or `
    odd = text.str.contains(_INVISIBLE, regex=True).fillna(False).to_numpy(dtype=bool)
    if not odd.any():
        return text, 0
    fixed = text[odd].str.replace(_INVISIBLE, "", regex=True).str.strip()
    text = text.astype(object)
    text[odd] = fixed.to_numpy(dtype=object)
    return pd.Series(text, dtype="str"), int(odd.sum())



_ACCOUNT_NOISE = "[\\s\u200b-\u200f\u2060\ufeff'\"‘’`\\-‐-―_]"


def _account_numbers(text: pd.Series) -> tuple[pd.Series, int]:
    """Bank account numbers with spaces, hyphens, quotes and invisible characters removed
    (full-width digits → ASCII); (values, cells changed). The cells that are not
    ``[0-9A-Za-z]*`` are found by an Arrow kernel (non-empty and not all ASCII letters and
    digits)."""
    arr = _arrow_column(text)
    if arr is not None:
        import pyarrow.compute as pc

        odd = ~_flags(pc.ascii_is_alnum(arr)) & _flags(pc.greater(pc.binary_length(arr), 0))
    else:
        odd = ~text.str.fullmatch(r"[0-9A-Za-z]*").fillna(False).to_numpy(dtype=bool)
    if not odd.any():
        return text, 0
    fixed = text[odd].str.normalize("NFKC").str.replace(_ACCOUNT_NOISE, "", regex=True)
    changed = int((fixed != text[odd]).sum())
    text = text.astype(object)
    text[odd] = fixed.to_numpy(dtype=object)
    return pd.Series(text, dtype="str"), changed


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


def _load_one(name, path, frame, limits, tables, rejected, rows_read, paths, files,
              notes) -> None:
    """Normalise one input file read by :func:`read_input` into ``tables`` and the tallies
    of :func:`load_inputs`."""
    paths.append(path)
    files[name] = path.name
    if SHEETS in frame.attrs:
        notes["sheets"][name] = frame.attrs[SHEETS]
    ragged = frame.attrs.get(RAGGED)
    table, rej = normalise(name, frame, path.name, limits)
    if table.attrs.get(IDS_NORMALISED):
        notes["ids_normalised"][name] = dict(table.attrs[IDS_NORMALISED])
    tables[name] = table
    rows_read[name] = len(frame) + (0 if ragged is None else len(ragged))
    rejected.extend(r for r in (ragged, rej) if r is not None and len(r))
    if name in NEEDS_ROWS and not len(table):
        _refuse_empty(path.name, rows_read[name], [r for r in (ragged, rej)
                                                   if r is not None and len(r)])


def load_inputs(data_dir: Path | str, sheets: tuple[str, ...] = (),
                limits: InputLimits | None = None) -> LoadedInputs:
    """Find, read and normalise every CONTRACT §5 input in ``data_dir``. ``sheets``
    (``--sheet``): ``NAME`` reads sheet NAME of every workbook that has it, ``INPUT=NAME``
    only of that input's workbook."""
    data_dir = Path(data_dir)
    limits = limits or default_limits()
    tables: dict[str, pd.DataFrame] = {}
    rejected: list[pd.DataFrame] = []
    rows_read: dict[str, int] = {}
    rows_rejected: dict[str, int] = {}
    paths: list[Path] = []
    files: dict[str, str] = {}
    notes: dict = {"sheets": {}, "ids_normalised": {}}

    def found_and_read(name: str) -> tuple[Path | None, pd.DataFrame | None]:
        path = find_input(data_dir, name, required=SCHEMAS[name][0])
        if path is None:
            return None, None
        return path, read_input(path, name, sheets_for(name, path, sheets))

    names = list(SCHEMAS)
    # the next file is found and read on a worker thread (Arrow's reader releases the GIL)
    # while this one is normalised; errors still surface in file order, each when its
    # turn comes
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="jiuzhu-read") as pool:
        ahead = pool.submit(found_and_read, names[0])
        for i, name in enumerate(names):
            path, frame = ahead.result()
            if i + 1 < len(names):
                ahead = pool.submit(found_and_read, names[i + 1])
            if path is None:
                tables[name] = empty_table(name)
                continue
            _load_one(name, path, frame, limits, tables, rejected, rows_read, paths, files,
                      notes)
    for name in rows_read:
        rows_rejected[name] = rows_read[name] - len(tables[name])
    audit_tables, orphans = build_tables(tables, files)
    if len(orphans):  # netted rows are used (netted_payments); reversals with nothing to net
        rejected.append(orphans)  # against are rejected
        rows_rejected["payments"] += len(orphans)
    notes["netting"] = netting_note(audit_tables.netted_payments)
    notes["unknown_payment_months"] = len(audit_tables.unknown_payment_keys)
    rejected_frame = (pd.concat(rejected, ignore_index=True) if rejected
                      else base_io.rejected_frame())
    return LoadedInputs(audit_tables, rejected_frame, rows_read, rows_rejected, paths, notes)


NEEDS_ROWS = ("roster", "payments")
"""Inputs an audit cannot run without rows: an empty one is a mistake, not a clean audit."""


def _refuse_empty(file: str, rows: int, rejected: list[pd.DataFrame]) -> None:
    if not rows:
        raise UserInputError("no data rows (only a header, or an empty file); nothing to "
                             "audit", file=file)
    first = pd.concat(rejected, ignore_index=True).sort_values("row").iloc[0]
    raise UserInputError(f"no usable rows: all {rows} rows rejected (first: row "
                         f"{first['row']}, column {first['column'] or '-'}: "
                         f"{first['reason']})", file=file)


def sheets_for(name: str, path: Path, sheets: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The ``--sheet`` choices that apply to input ``name``'s file (xlsx only): INPUT=NAME
    for this input, or a plain NAME when this workbook has that sheet."""
    if not sheets or path.suffix.lower() != ".xlsx":
        return ()
    mine = [s.split("=", 1)[1] for s in sheets if "=" in s and s.split("=", 1)[0] == name]
    if mine:
        return tuple(mine)
    plain = [s for s in sheets if "=" not in s]
    if not plain:
        return ()
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True)
        present = set(book.sheetnames)
        book.close()
    except Exception:
        return tuple(plain)  # read_workbook says what is wrong with the file
    return tuple(s for s in plain if s in present)


def build_tables(tables: dict[str, pd.DataFrame], files: dict[str, str]
                 ) -> tuple[AuditTables, pd.DataFrame]:
    """AuditTables from normalised frames: negative payment rows netted
    (:func:`net_reversals`), unknown payment months gathered (rejected payment rows, and
    reversals with nothing to net against). Returns the tables and the rejected reversals."""
    payments = tables["payments"]
    unknown = payments.attrs.get(UNKNOWN_KEYS)
    unknown = empty_unknown_keys() if unknown is None else unknown
    payments, netted, orphans = net_reversals(payments, files.get("payments", "payments"))
    if len(orphans):
        orphan_keys = tables["payments"][tables["payments"]["_row"].isin(orphans["row"])]
        unknown = pd.concat([unknown, _unknown_payment_keys(orphan_keys)],
                            ignore_index=True).drop_duplicates().reset_index(drop=True)
    tables = {**tables, "payments": payments}
    return AuditTables(**tables, files=files, netted_payments=netted,
                       unknown_payment_keys=unknown), orphans


NETTING_TOLERANCE = 0.005  # half a fen: what is left after netting that is not money


def net_reversals(payments: pd.DataFrame, file: str
                  ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Net negative payment rows (clawbacks 追回, reversals 冲正) against the payments they
    reverse: same person, program and period.

    An exact reversal (−x against a payment of x) cancels that payment; what remains of a
    month's negatives reduces its largest payments, largest first. Payments reduced to zero
    and the negative rows leave the payments table; the pairs are listed in the netted
    table (NETTED_COLUMNS). A negative row with nothing (or too little) to net against is
    rejected with its reason (third frame, rejected.csv columns); the month's payments then
    stay as they were. Returns (payments, netted, rejected)."""
    amount = np.asarray(payments["amount"], dtype="float64")
    negative = amount < 0
    if not negative.any():
        return payments, empty_netted(), base_io.rejected_frame()
    pay = payments.reset_index(drop=True)
    key = (pd.Series(pay["person_id"], dtype="str") + "|" + pd.Series(pay["program"],
                                                                    dtype="str")
           + "|" + pd.Series(np.asarray(pay["period"], dtype=np.int64).astype(str),
                             dtype="str"))
    codes, _ = pd.factorize(key)
    involved = setops.isin(codes, setops.unique(codes[negative]))
    idx = np.flatnonzero(involved)
    sub = pd.DataFrame({"pos": idx, "code": codes[idx], "amount": amount[idx]})
    neg_total = sub[sub["amount"] < 0].groupby("code")["amount"].sum().abs()
    pos_total = sub[sub["amount"] > 0].groupby("code")["amount"].sum()
    enough = (pos_total.reindex(neg_total.index).fillna(0.0) + NETTING_TOLERANCE
              >= neg_total)
    orphan_codes = neg_total.index[~enough.to_numpy()]
    orphan = sub[(sub["amount"] < 0) & sub["code"].isin(orphan_codes)]
    rejected = pd.DataFrame({
        "file": file, "row": pay["_row"].to_numpy(dtype=np.int64)[orphan["pos"].to_numpy()],
        "column": "amount",
        "reason": "冲销行找不到足额的被冲销发放 reversal with no payment (or too little) of the "
                  "same person, program and period to net against: " + F_amount(
                      orphan["amount"].to_numpy())})
    sub = sub[~sub["code"].isin(orphan_codes)]
    new_amount = amount.copy()
    pairs: list[pd.DataFrame] = []
    # 1. exact reversals: the k-th −x of a month cancels the k-th payment of x
    rounded = np.round(np.abs(sub["amount"].to_numpy()) * 100).astype(np.int64)
    sub = sub.assign(cents=rounded, sign=np.sign(sub["amount"].to_numpy()))
    sub = sub.assign(k=sub.groupby(["code", "cents", "sign"]).cumcount())
    negs = sub[sub["sign"] < 0]
    poss = sub[sub["sign"] > 0]
    exact = negs.merge(poss, on=["code", "cents", "k"], suffixes=("", "_p"))
    if len(exact):
        new_amount[exact["pos_p"].to_numpy()] = 0.0
        pairs.append(pd.DataFrame({"neg": exact["pos"].to_numpy(),
                                   "target": exact["pos_p"].to_numpy(),
                                   "before": amount[exact["pos_p"].to_numpy()],
                                   "after": 0.0}))
    # 2. the rest of each month's negatives: off its largest remaining payments
    rest = negs[~negs["pos"].isin(exact["pos"])]
    if len(rest):
        left = rest.groupby("code")["amount"].sum().abs()
        targets = poss[~poss["pos"].isin(exact["pos_p"]) & poss["code"].isin(left.index)]
        targets = targets.sort_values(["code", "amount", "pos"], ascending=[True, False, True])
        owed = left.reindex(targets["code"]).to_numpy()
        before_cum = targets.groupby("code")["amount"].cumsum().to_numpy() - targets[
            "amount"].to_numpy()
        take = np.clip(owed - before_cum, 0.0, targets["amount"].to_numpy())
        hit = take > 0
        t_pos = targets["pos"].to_numpy()[hit]
        after = np.round(amount[t_pos] - take[hit], 2)
        new_amount[t_pos] = after
        first_neg = rest.groupby("code")["pos"].first()
        pairs.append(pd.DataFrame({"neg": first_neg.reindex(targets["code"].to_numpy()[hit]
                                                            ).to_numpy(),
                                   "target": t_pos, "before": amount[t_pos], "after": after}))
        # a month with several partial negatives: each is listed against the same payments
        others = rest[~rest["pos"].isin(first_neg.to_numpy())]
        if len(others):
            first_target = pd.Series(t_pos, index=targets["code"].to_numpy()[hit])
            first_target = first_target[~first_target.index.duplicated()]
            tgt = first_target.reindex(others["code"]).to_numpy()
            pairs.append(pd.DataFrame({"neg": others["pos"].to_numpy(), "target": tgt,
                                       "before": amount[tgt], "after": new_amount[tgt]}))
    pair = pd.concat(pairs, ignore_index=True)
    rows = pay["_row"].to_numpy(dtype=np.int64)
    ids = pd.Series(pay["payment_id"], dtype="str").to_numpy(dtype=object)
    neg = pair["neg"].to_numpy(dtype=np.int64)
    tgt = pair["target"].to_numpy(dtype=np.int64)
    netted = pd.DataFrame({
        "_row": rows[neg], "payment_id": pd.Series(ids[neg], dtype="str"),
        "person_id": pd.Series(pd.Series(pay["person_id"], dtype="str").to_numpy(
            dtype=object)[neg], dtype="str"),
        "program": pd.Series(pd.Series(pay["program"], dtype="str").to_numpy(
            dtype=object)[neg], dtype="str"),
        "period": np.asarray(pay["period"], dtype=np.int64)[neg],
        "amount": amount[neg], "nets_row": rows[tgt],
        "nets_payment_id": pd.Series(ids[tgt], dtype="str"),
        "amount_before": pair["before"].to_numpy(dtype="float64"),
        "amount_after": pair["after"].to_numpy(dtype="float64")})
    drop = np.zeros(len(pay), dtype=bool)
    drop[sub.loc[sub["sign"] < 0, "pos"].to_numpy()] = True
    drop[orphan["pos"].to_numpy()] = True
    drop |= involved & (new_amount <= NETTING_TOLERANCE) & ~negative
    kept = pay.assign(amount=new_amount)[~drop].reset_index(drop=True)
    kept.attrs = dict(payments.attrs)
    return kept, netted.sort_values(["_row", "nets_row"]).reset_index(drop=True), rejected


def F_amount(values) -> np.ndarray:
    return np.array([f"{v:.2f}" for v in np.asarray(values, dtype="float64")], dtype=object)


def netting_note(netted: pd.DataFrame) -> dict:
    """summary.json's account of the netting."""
    return {"reversal_rows": int(netted["_row"].nunique()) if len(netted) else 0,
            "payments_netted": int(netted["nets_row"].nunique()) if len(netted) else 0,
            "payments_cancelled": int(netted.loc[netted["amount_after"] <= NETTING_TOLERANCE,
                                                 "nets_row"].nunique()) if len(netted) else 0,
            "amount_netted": round(float(-netted.drop_duplicates("_row")["amount"].sum()), 2)
            if len(netted) else 0.0}
