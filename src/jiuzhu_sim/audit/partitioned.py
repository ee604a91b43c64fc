"""The audit at provincial scale: inputs partitioned by person, checks run partition by
partition, in-process or on Dask (``jiuzhu audit --workers N | --scheduler ADDRESS``).

Every check of CONTRACT §6 looks at one person at a time (their roster rows, payments,
death record, guardians, staff-relative filings, screening lists and alerts), so the
person-keyed inputs are cut by a hash of the normalised ID (``relative_id`` for
``staff_relatives``) and each partition is audited on its own; ``households`` (keyed by
household, small) goes to every partition whole. Findings, rejected rows and the monthly
counts (distinct persons, additive over disjoint person sets) are combined afterwards, so
the result is the single-machine result, whatever the number of partitions or workers.

Memory stays bounded as rows grow: staging streams each input in record batches (Parquet
row groups, Arrow CSV blocks) straight into per-partition Parquet files, and a worker only
ever holds one partition. More rows → more partitions of the same size
(``rows_per_partition``), not bigger ones. What grows with the data is the findings frame.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jiuzhu_sim import io as base_io
from jiuzhu_sim.audit.io import (
    IDS_NORMALISED,
    RAGGED,
    SCHEMAS,
    SOURCE_ROWS,
    AuditTables,
    build_tables,
    chinese_header_map,
    empty_table,
    netting_note,
    normalise,
    read_input,
    read_ragged_csv,
    sheets_for,
)
from jiuzhu_sim.exceptions import UserInputError
from jiuzhu_sim.files import find_input

# the column each person-keyed input is partitioned on; the rest go to every partition
PARTITION_KEY = {"roster": "person_id", "payments": "person_id", "deaths": "person_id",
                 "guardians": "person_id", "staff_relatives": "relative_id",
                 "medical": "person_id", "disability": "person_id",
                 "monitoring": "person_id", "alerts": "person_id",
                 "assistance": "person_id"}
BROADCAST = tuple(name for name in SCHEMAS if name not in PARTITION_KEY)
SOURCE_ROW = "_source_row"
DEFAULT_ROWS_PER_PARTITION = 1_000_000
BATCH_ROWS = 500_000


def partition_of(ids, n_partitions: int) -> np.ndarray:
    """Partition number of each ID: a fixed-key hash of the normalised ID (spaces stripped,
    upper case), modulo ``n_partitions``. The same ID lands in the same partition in every
    file and every run."""
    text = pd.Series(ids, dtype="str").fillna("").str.strip().str.upper()
    try:  # full-width digits, 15-digit IDs: the linkage module's normalisation when present
        from jiuzhu_sim.resident_id import normalize_ids
        text = pd.Series(normalize_ids(text), dtype="str").fillna("")
    except ImportError:
        pass
    hashes = pd.util.hash_pandas_object(text, index=False, categorize=True).to_numpy()
    return (hashes % np.uint64(max(1, int(n_partitions)))).astype(np.int64)


def _is_utf8_csv(path: Path) -> bool:
    head = path.open("rb").read(1 << 16)
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4


def _contract_names(names: list[str]) -> list[str]:
    """Headers stripped of BOMs and spaces, Chinese headers mapped (as ``normalise`` does)."""
    clean = [str(c).replace("\ufeff", "").strip().strip('"') for c in names]
    renames = chinese_header_map(clean)
    return [renames.get(c, c) for c in clean]


def iter_batches(path: Path, batch_rows: int = BATCH_ROWS, name: str | None = None,
                 sheets: tuple[str, ...] = ()):
    """The rows of one input as Arrow tables of at most ``batch_rows`` rows, headers mapped to
    contract names. Parquet and UTF-8 CSV stream; xlsx and GB18030 CSV are read whole
    (their size is bounded by the format and by practice)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyarrow import csv as pacsv

    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            pf = pq.ParquetFile(path)
            names = _contract_names(pf.schema_arrow.names)
            for batch in pf.iter_batches(batch_size=batch_rows):
                yield pa.Table.from_batches([batch]).rename_columns(names)
            return
        if suffix == ".csv" and _is_utf8_csv(path):
            with path.open("rb") as fh:
                first = fh.readline().decode("utf-8-sig")
            raw_names = [c.strip().strip('"') for c in first.rstrip("\r\n").split(",")]
            names = _contract_names(raw_names)
            ragged: list[int] = []

            def on_invalid_row(row) -> str:
                ragged.append(1)
                return "skip"

            reader = pacsv.open_csv(
                path, read_options=pacsv.ReadOptions(column_names=raw_names, skip_rows=1,
                                                     block_size=64 << 20),
                parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid_row),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in raw_names},
                    strings_can_be_null=False))
            pending: list = []
            count = 0
            for batch in reader:
                if ragged:  # Arrow cannot say which row: the careful whole-file reader can
                    raise RaggedCSV(path)
                pending.append(batch)
                count += batch.num_rows
                if count >= batch_rows:
                    yield pa.Table.from_batches(pending).rename_columns(names)
                    pending, count = [], 0
            if pending:
                yield pa.Table.from_batches(pending).rename_columns(names)
            return
    except (UserInputError, RaggedCSV):
        raise
    except Exception as exc:  # a malformed file is a user mistake: one line
        raise UserInputError(f"cannot read file ({type(exc).__name__}: {exc})".split("\n")[0],
                             file=str(path)) from None
    yield from _whole_file_batches(read_input(path, name, sheets), batch_rows)


class RaggedCSV(Exception):
    """A streamed CSV has rows with the wrong number of fields: stage it again whole."""


def _whole_file_batches(frame: pd.DataFrame, batch_rows: int):
    """A frame read whole (xlsx, GB18030 or ragged CSV) as Arrow batches; each batch carries
    its rows' source row numbers (``SOURCE_ROW``) when the reader dropped ragged rows."""
    import pyarrow as pa

    source = frame.attrs.get(SOURCE_ROWS)
    frame.columns = _contract_names(list(frame.columns))
    text = {c: frame[c].astype("str").where(frame[c].notna(), "").to_numpy(dtype=object)
            for c in frame.columns}
    table = pa.table({c: pa.array(v, type=pa.string()) for c, v in text.items()})
    if source is not None:
        table = table.append_column(SOURCE_ROW, pa.array(np.asarray(source, dtype=np.int64)))
    for lo in range(0, max(1, table.num_rows), batch_rows):
        yield table.slice(lo, batch_rows)


@dataclass
class Staged:
    """Inputs cut into partitions under ``root`` (``root/<input>/part-<k>.parquet``)."""

    root: Path
    n_partitions: int
    files: dict[str, str]           # input name → file name (as in rejected.csv)
    paths: list[Path]               # the input files, for the manifest
    rows_read: dict[str, int]
    region_counts: Counter          # roster region_code → rows, to pick the parameters
    broadcast: dict[str, pd.DataFrame]
    broadcast_rejected: pd.DataFrame

    def part_path(self, name: str, part: int) -> Path:
        return self.root / name / f"part-{part:05d}.parquet"


def _count_rows(path: Path) -> int | None:
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq
        return pq.ParquetFile(path).metadata.num_rows
    return None


def choose_partitions(data_dir: Path | str, rows_per_partition: int) -> int:
    """Enough partitions that the payments (the largest input) give about
    ``rows_per_partition`` rows each; by file size for CSV/xlsx."""
    path = find_input(Path(data_dir), "payments", required=True)
    rows = _count_rows(path)
    if rows is None:  # CSV: about 100 bytes a payment row
        rows = path.stat().st_size // 100
    return max(1, int(np.ceil(rows / max(1, rows_per_partition))))


def stage_inputs(data_dir: Path | str, root: Path, n_partitions: int,
                 batch_rows: int = BATCH_ROWS, sheets: tuple[str, ...] = ()) -> Staged:
    """Stream every input into per-partition Parquet files, each row carrying its 1-based
    row number in the source file (``_source_row``), so rejected rows and evidence still
    name the original row."""

    data_dir = Path(data_dir)
    files: dict[str, str] = {}
    paths: list[Path] = []
    rows_read: dict[str, int] = {}
    region_counts: Counter = Counter()
    broadcast: dict[str, pd.DataFrame] = {}
    rejected: list[pd.DataFrame] = []
    for name, (required, _) in SCHEMAS.items():
        path = find_input(data_dir, name, required=required)
        if path is None:
            continue
        paths.append(path)
        files[name] = path.name
        if name in BROADCAST:
            frame = read_input(path, name, sheets_for(name, path, sheets))
            ragged = frame.attrs.get(RAGGED)
            table, rej = normalise(name, frame, path.name)
            broadcast[name] = table
            rows_read[name] = len(frame) + (0 if ragged is None else len(ragged))
            rejected.extend(r for r in (ragged, rej) if r is not None and len(r))
            continue
        try:
            rows_read[name] = _stage_one(
                name, iter_batches(path, batch_rows, name, sheets_for(name, path, sheets)),
                path, root, n_partitions, region_counts)
        except RaggedCSV:
            # rows with the wrong number of fields: read the file whole with the careful
            # reader (each such row rejected with its row number) and stage it again
            frame = read_ragged_csv(path)
            ragged = frame.attrs[RAGGED]
            rows_read[name] = len(ragged) + _stage_one(
                name, _whole_file_batches(frame, batch_rows), path, root, n_partitions,
                region_counts, restart=True)
            if len(ragged):
                rejected.append(ragged)
    return Staged(root, n_partitions, files, paths, rows_read, region_counts, broadcast,
                  pd.concat(rejected, ignore_index=True) if rejected
                  else base_io.rejected_frame())


def _stage_one(name: str, batches, path: Path, root: Path, n_partitions: int,
           region_counts: Counter, restart: bool = False) -> int:
    """Write one person-keyed input's batches into its partition files; the rows written."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    key = PARTITION_KEY[name]
    if restart:
        shutil.rmtree(root / name, ignore_errors=True)
    (root / name).mkdir(parents=True, exist_ok=True)
    writers: dict[int, Any] = {}
    offset = 0
    counts: Counter = Counter()
    try:
        for table in batches:
            if key not in table.column_names:
                raise UserInputError("required column is missing", file=path.name,
                                     column=key)
            n = table.num_rows
            if SOURCE_ROW not in table.column_names:
                table = table.append_column(SOURCE_ROW, pa.array(
                    np.arange(offset + 1, offset + n + 1, dtype=np.int64)))
            offset += n
            if name == "roster" and "region_code" in table.column_names:
                counts.update(pd.Series(
                    table.column("region_code").to_pandas(), dtype="str").str.strip()
                    .value_counts().to_dict())
            parts = partition_of(table.column(key).to_pandas(), n_partitions)
            order = np.argsort(parts, kind="stable")
            sorted_parts = parts[order]
            bounds = np.flatnonzero(np.diff(sorted_parts)) + 1
            starts = np.concatenate([[0], bounds])
            ends = np.concatenate([bounds, [n]])
            for lo, hi in zip(starts, ends, strict=True):
                if hi <= lo:
                    continue
                part = int(sorted_parts[lo])
                piece = table.take(pa.array(order[lo:hi]))
                if part not in writers:
                    writers[part] = pq.ParquetWriter(
                        root / name / f"part-{part:05d}.parquet", piece.schema)
                writers[part].write_table(piece)
    finally:
        for writer in writers.values():
            writer.close()
    region_counts.update(counts)  # only once the input is staged (not on a restart)
    return offset


def load_partition(staged: Staged, part: int, only: tuple[str, ...] | None = None
                   ) -> tuple[AuditTables, pd.DataFrame]:
    """The normalised tables of one partition, rows renumbered to their source rows, and the
    partition's rejected rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables: dict[str, pd.DataFrame] = {}
    rejected: list[pd.DataFrame] = []
    for name in SCHEMAS:
        if name in BROADCAST:
            tables[name] = staged.broadcast.get(name, empty_table(name))
            continue
        path = staged.part_path(name, part)
        if (name not in staged.files or not path.is_file()
                or (only is not None and name not in only)):
            tables[name] = empty_table(name)
            continue
        frame = pq.read_table(path).to_pandas(
            types_mapper=lambda t: pd.StringDtype("pyarrow") if t == pa.string() else None)
        source = frame.pop(SOURCE_ROW).to_numpy(dtype=np.int64)
        table, rej = normalise(name, frame, staged.files[name])
        table["_row"] = source[table["_row"].to_numpy(dtype=np.int64) - 1]
        if len(rej):
            rej = rej.copy()
            rej["row"] = source[rej["row"].to_numpy(dtype=np.int64) - 1]
            rejected.append(rej)
        tables[name] = table
    audit_tables, orphans = build_tables(tables, dict(staged.files))
    if len(orphans):
        rejected.append(orphans)
    rej_frame = (pd.concat(rejected, ignore_index=True) if rejected
                 else base_io.rejected_frame())
    return audit_tables, rej_frame


def audit_partition(part: int, common: dict) -> dict:
    """Audit one partition: its findings, rejected rows, rejected counts and monthly counts.
    A module-level function of ``(task, common)`` so Dask can ship it."""
    from jiuzhu_sim.audit.checks.base import AuditContext
    from jiuzhu_sim.audit.execute import netting_evidence, run_checks
    from jiuzhu_sim.audit.findings import evidence_frame
    from jiuzhu_sim.audit.stats import monthly_stats

    staged: Staged = common["staged"]
    tables, rejected = load_partition(staged, part)
    # account holders' households, wherever their roster rows are (account_mismatch: 到人到户)
    tables.household_members = common.get("household_members")
    ctx = AuditContext(common["start_month"], common["end_month"], common["params"],
                       region_code=str(common["params"].region_code),
                       overrides=common["overrides"])
    timings: dict[str, float] = {}
    findings = run_checks(tables, ctx, timings)
    evidence = netting_evidence(evidence_frame(ctx), findings, tables)
    ctx.evidence.clear()
    check_notes = ctx.notes
    stats = monthly_stats(tables, ctx)
    link = None
    if common.get("linkage"):
        from jiuzhu_sim.audit.linkage import link_inputs
        link = link_inputs(tables.roster, tables.payments, tables.deaths,
                           common["start_month"], common["end_month"])
    normalised: Counter = Counter()
    for name in PARTITION_KEY:
        for col, count in tables[name].attrs.get(IDS_NORMALISED, {}).items():
            normalised[f"{name}.{col}"] += count
    notes = {"ids_normalised": dict(normalised),
             "netting": netting_note(tables.netted_payments),
             "unknown_payment_months": len(tables.unknown_payment_keys)}
    rows_rejected = Counter()
    for name, file in staged.files.items():
        if name not in BROADCAST:
            rows_rejected[name] = int((rejected["file"] == file).sum()) if len(rejected) else 0
    return {"part": part, "findings": findings, "evidence": evidence, "rejected": rejected,
            "link": link, "notes": notes, "check_notes": check_notes,
            "rows_rejected": dict(rows_rejected), "stats": stats, "timings": timings,
            "rows": {name: len(tables[name]) for name in PARTITION_KEY}}


def _staged_columns(staged: Staged, name: str, part: int, columns: list[str]
                    ) -> pd.DataFrame | None:
    """Some raw (staged, not yet normalised) columns of one partition, or None."""
    import pyarrow.parquet as pq

    path = staged.part_path(name, part)
    if name not in staged.files or not path.is_file():
        return None
    present = [c for c in columns if c in pq.ParquetFile(path).schema_arrow.names]
    if len(present) < len(columns):
        return None
    return pq.read_table(path, columns=columns).to_pandas()


def household_members(staged: Staged) -> pd.DataFrame:
    """(person_id, household_id) roster rows of every account holder who is not the payee,
    across all partitions: an account holder's roster row may sit in another partition than
    the payee's, and a payment into the account of a member of the payee's household is
    correct (account_mismatch, 到人到户). IDs normalised as on read."""
    from jiuzhu_sim.audit.io import _resident_ids as normalised

    def _resident_ids(text: pd.Series) -> pd.Series:
        out = normalised(text)
        return out[0] if isinstance(out, tuple) else out  # (ids, cells changed)

    holders: set[str] = set()
    for part in range(staged.n_partitions):
        pay = _staged_columns(staged, "payments", part, ["person_id", "account_holder_id"])
        if pay is None or not len(pay):
            continue
        person = _resident_ids(pd.Series(pay["person_id"], dtype="str").fillna("").str.strip())
        holder = _resident_ids(pd.Series(pay["account_holder_id"], dtype="str").fillna("")
                               .str.strip())
        other = (holder != person).to_numpy() & (holder != "").to_numpy()
        holders.update(pd.unique(holder[other]))
    frames = []
    if holders:
        wanted = pd.Index(sorted(holders))
        for part in range(staged.n_partitions):
            r = _staged_columns(staged, "roster", part, ["person_id", "household_id"])
            if r is None or not len(r):
                continue
            person = _resident_ids(pd.Series(r["person_id"], dtype="str").fillna("")
                                   .str.strip())
            keep = wanted.get_indexer(person) >= 0
            if keep.any():
                frames.append(pd.DataFrame({
                    "person_id": person[keep].to_numpy(dtype=object),
                    "household_id": pd.Series(r["household_id"], dtype="str").fillna("")
                    .str.strip().str.upper()[keep].to_numpy(dtype=object)}))
    if not frames:
        return pd.DataFrame({"person_id": pd.Series([], dtype="str"),
                             "household_id": pd.Series([], dtype="str")})
    return pd.concat(frames, ignore_index=True).drop_duplicates().reset_index(drop=True)


def fetch_payments(part: int, common: dict) -> pd.DataFrame:
    """Window payments (person_id, region_code, month, amount) of the people in
    ``common['persons']`` from one partition: the context of probable matches."""
    from jiuzhu_sim.audit.linkage import _payment_months

    staged: Staged = common["staged"]
    path = staged.part_path("payments", part)
    if "payments" not in staged.files or not path.is_file():
        return _payment_months(empty_table("payments"), None, None)
    tables, _ = load_partition(staged, part, only=("payments",))
    pay = tables.payments
    pay = pay[pd.Series(pay["person_id"], dtype="str").isin(common["persons"]).to_numpy()]
    return _payment_months(pay, common["start_month"], common["end_month"])


def combine_stats(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Monthly counts of disjoint person partitions add up; an item no partition could
    derive stays empty."""
    first = parts[0]
    out = first[["月份"]].copy()
    for col in first.columns[1:]:
        stacked = pd.concat([p[col].reset_index(drop=True) for p in parts], axis=1)
        out[col] = stacked.sum(axis=1, min_count=1).astype("Int64")
    return out


class Workspace:
    """A scratch folder for staged partitions (removed afterwards unless ``keep``)."""

    def __init__(self, where: Path | str | None = None, keep: bool = False):
        self.keep = keep
        self.path = Path(tempfile.mkdtemp(prefix="jiuzhu-audit-", dir=where))

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc) -> None:
        if not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)


def run_partitioned(data_dir, start_month: int, end_month: int, params_resolver, overrides=(),
                    workers: int | None = None, scheduler: str | None = None,
                    partitions: int | None = None,
                    rows_per_partition: int = DEFAULT_ROWS_PER_PARTITION,
                    work_dir=None, progress: bool = True, linkage: bool = True,
                    sheets: tuple[str, ...] = ()) -> dict:
    """Stage, audit every partition (in-process or on Dask), combine.

    ``params_resolver(region_counts)`` returns the parameters (the runner's rule: ``--params``
    or the roster's most common region). Returns findings, rejected, stats, rows_read,
    rows_rejected, paths, params, timings, evidence and the probable-match review list
    (linked across partitions: people-level inputs are gathered, links found once, then the
    linked people's payments fetched back from their partitions)."""
    from jiuzhu_sim.audit.findings import FINDING_COLUMNS, empty_findings
    from jiuzhu_sim.distributed import run_partitions

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if partitions is not None and int(partitions) < 1:
        raise UserInputError(f"--partitions {partitions}: must be at least 1")
    n_parts = (int(partitions) if partitions is not None
               else choose_partitions(data_dir, rows_per_partition))
    with Workspace(work_dir) as root:
        staged = stage_inputs(data_dir, root, n_parts, sheets=tuple(sheets))
        timings["stage"] = round(time.perf_counter() - t0, 3)
        params = params_resolver(staged.region_counts)
        common = {"staged": staged, "start_month": start_month, "end_month": end_month,
                  "params": params, "overrides": list(overrides), "linkage": linkage,
                  "household_members": household_members(staged)}
        t1 = time.perf_counter()
        results = run_partitions(audit_partition, range(n_parts), workers=workers,
                                 scheduler=scheduler, progress=progress,
                                 desc="audit partitions", common=common)
        timings["checks_total"] = round(time.perf_counter() - t1, 3)
        review = None
        if linkage:
            from jiuzhu_sim.audit import linkage as link

            t2 = time.perf_counter()
            inputs = link.combine_inputs([r["link"] for r in results])
            links = link.find_links(inputs, params)
            persons = link.persons_to_fetch(links)
            pays = run_partitions(fetch_payments, range(n_parts), workers=workers,
                                  scheduler=scheduler, progress=progress,
                                  desc="linked payments",
                                  common={**common, "persons": persons}) if persons else []
            pay = (pd.concat(pays, ignore_index=True) if pays else
                   link._payment_months(empty_table("payments"), None, None))
            review = link.review_rows(links, inputs, pay)
            timings["linkage"] = round(time.perf_counter() - t2, 3)
    parts = [r["findings"] for r in results if len(r["findings"])]
    findings = (pd.concat(parts, ignore_index=True)[FINDING_COLUMNS] if parts
                else empty_findings())
    findings = order_findings(findings)
    rejected = pd.concat([staged.broadcast_rejected] + [r["rejected"] for r in results],
                         ignore_index=True)
    rejected = order_rejected(rejected, staged.files)
    rows_rejected = {name: 0 for name in staged.rows_read}
    for r in results:
        for name, count in r["rows_rejected"].items():
            rows_rejected[name] += count
    for name, file in staged.files.items():
        # broadcast inputs' rejected rows, and every CSV's rows with the wrong field count
        at_stage = int((staged.broadcast_rejected["file"] == file).sum())
        rows_rejected[name] = at_stage + (0 if name in BROADCAST else rows_rejected[name])
    check_seconds: Counter = Counter()
    for r in results:
        check_seconds.update(r["timings"])
    timings.update({k: round(v, 3) for k, v in check_seconds.items()})
    from jiuzhu_sim.audit.checks.base import merge_notes

    notes: dict = {}
    for r in results:
        merge_notes(notes, r.get("check_notes", {}))
    evidence = [r["evidence"] for r in results if len(r["evidence"])]
    evidence = (pd.concat(evidence, ignore_index=True) if evidence
                else results[0]["evidence"])
    return {"findings": findings, "rejected": rejected, "evidence": evidence,
            "review": review, "notes": notes,
            "input": combine_notes(staged, [r["notes"] for r in results]),
            "stats": combine_stats([r["stats"] for r in results]),
            "rows_read": staged.rows_read, "rows_rejected": rows_rejected,
            "paths": staged.paths, "params": params, "timings": timings,
            "partitions": n_parts}


def combine_notes(staged: Staged, notes: list[dict]) -> dict:
    """summary.json ``input`` of a partitioned run: the partitions' counts added up, in the
    in-process shape (``ids_normalised`` by input and column). Workbook sheets are not
    reported here (the staging reads them; see the in-process run)."""
    ids: dict[str, dict[str, int]] = {}
    for name, table in staged.broadcast.items():
        for col, count in table.attrs.get(IDS_NORMALISED, {}).items():
            ids.setdefault(name, {})[col] = count
    netting = Counter()
    for note in notes:
        for key, count in note["ids_normalised"].items():
            name, col = key.split(".", 1)
            ids.setdefault(name, {})[col] = ids.get(name, {}).get(col, 0) + count
        netting.update(note["netting"])
    return {"ids_normalised": ids,
            "netting": {k: (round(v, 2) if isinstance(v, float) else int(v))
                        for k, v in netting.items()},
            "unknown_payment_months": sum(n["unknown_payment_months"] for n in notes)}


def order_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """Registry order of checks, then region, person, period, finding ID — one order for
    the single-machine and the partitioned paths."""
    from jiuzhu_sim.audit.checks.registry import CHECKS

    rank = {check.code: i for i, check in enumerate(CHECKS)}
    key = findings["check"].map(rank).fillna(len(rank)).astype(int)
    return (findings.assign(_rank=key)
            .sort_values(["_rank", "region_code", "person_id", "period", "finding_id"],
                         kind="stable")
            .drop(columns="_rank").reset_index(drop=True))


def order_rejected(rejected: pd.DataFrame, files: dict[str, str]) -> pd.DataFrame:
    """Input order (CONTRACT §5), then source row."""
    rank = {file: i for i, file in enumerate(files.values())}
    if not len(rejected):
        return rejected
    return (rejected.assign(_rank=rejected["file"].map(rank).fillna(len(rank)))
            .sort_values(["_rank", "row"], kind="stable").drop(columns="_rank")
            .reset_index(drop=True))
