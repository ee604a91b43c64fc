"""Audit explorer: from a count of findings to the input rows behind one (docs/explore.md).

An :class:`AuditExplorer` reads an audit output folder (``jiuzhu audit ... --out DIR``,
CONTRACT §6): ``findings.csv``, ``findings_evidence.csv`` (each finding's input rows: file,
1-based data row, key fields) and ``summary.json`` when present. It filters findings by
check, region (a county code, or a township code of 9+ digits), month and severity; shows a
finding's evidence rows and its Chinese detail; and exports the filtered findings with their
evidence to xlsx. IDs and names are masked (CONTRACT §7, :func:`jiuzhu_sim.report.masked`:
ID and name columns, ``key_fields`` field by field, and IDs and names inside ``detail``)
unless the explorer is unmasked — in what it shows and in what it exports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from jiuzhu_sim.exceptions import UserInputError

NO_MONTH = ""
"""The month value of findings without one (``period`` empty: invalid_id, review_overdue …)."""
SEVERITY_ORDER = ("high", "medium", "low")
SHOWN_COLUMNS = ["finding_id", "check", "severity", "person_id", "name", "region_code",
                 "program", "period", "amount_at_risk", "detail"]
EVIDENCE_COLUMNS = ["finding_id", "file", "row", "key_fields"]
ID_COLUMNS = ("finding_id", "person_id", "region_code", "period")


@dataclass(frozen=True)
class FindingFilter:
    """Which findings to show: each field a tuple of allowed values; empty = all."""

    checks: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    months: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()


class AuditExplorer:
    """Findings of one audit output folder, filtered, masked unless ``mask=False``."""

    def __init__(self, out_dir: Path | str, *, mask: bool = True):
        self.out_dir = Path(out_dir)
        if not self.out_dir.is_dir():
            raise UserInputError("audit output folder not found", file=str(self.out_dir))
        path = self.out_dir / "findings.csv"
        if not path.is_file():
            raise UserInputError("not an audit output folder: findings.csv is missing "
                                 "(run `jiuzhu audit DATA_DIR --start --end --out DIR`)",
                                 file=str(self.out_dir))
        self.findings = _read_csv(path, SHOWN_COLUMNS)
        self.findings["amount_at_risk"] = pd.to_numeric(self.findings["amount_at_risk"],
                                                        errors="coerce").fillna(0.0)
        evidence_path = self.out_dir / "findings_evidence.csv"
        self.evidence_table = (_read_csv(evidence_path, EVIDENCE_COLUMNS)
                               if evidence_path.is_file()
                               else pd.DataFrame(columns=EVIDENCE_COLUMNS, dtype=str))
        if len(self.evidence_table):
            self.evidence_table["row"] = pd.to_numeric(self.evidence_table["row"],
                                                       errors="coerce").astype("Int64")
        summary_path = self.out_dir / "summary.json"
        self.summary: dict[str, Any] = {}
        if summary_path.is_file():
            try:
                self.summary = json.loads(summary_path.read_text(encoding="utf-8"))
            except ValueError:
                raise UserInputError("summary.json is not valid JSON",
                                     file=str(summary_path)) from None
        self.mask = bool(mask)

    # -- choices -------------------------------------------------------------------------

    def options(self) -> dict[str, list[str]]:
        """The values each filter can take, from the findings themselves."""
        f = self.findings
        severities = [s for s in SEVERITY_ORDER if s in set(f["severity"])]
        severities += sorted(set(f["severity"]) - set(SEVERITY_ORDER))
        return {"checks": sorted(set(f["check"])), "regions": sorted(set(f["region_code"])),
                "months": sorted(set(f["period"])), "severities": severities}

    # -- filtering -----------------------------------------------------------------------

    def select(self, flt: FindingFilter | None = None) -> pd.DataFrame:
        """Unmasked findings passing the filter, largest amount at risk first."""
        flt = flt or FindingFilter()
        f = self.findings
        keep = pd.Series(True, index=f.index)
        for column, allowed in (("check", flt.checks), ("region_code", flt.regions),
                                ("period", flt.months), ("severity", flt.severities)):
            if allowed:
                keep &= f[column].isin([str(v) for v in allowed])
        out = f[keep].sort_values(["amount_at_risk", "check", "finding_id"],
                                  ascending=[False, True, True], kind="stable")
        return out.reset_index(drop=True)

    def filtered(self, flt: FindingFilter | None = None) -> pd.DataFrame:
        """The findings passing the filter as shown: masked unless unmasked."""
        return self._shown(self.select(flt))

    def counts(self, flt: FindingFilter | None = None) -> pd.DataFrame:
        """Findings and amount at risk per check (the filter applied)."""
        sel = self.select(flt)
        if sel.empty:
            return pd.DataFrame(columns=["check", "findings", "amount_at_risk"])
        return (sel.groupby("check", as_index=False)
                .agg(findings=("finding_id", "size"), amount_at_risk=("amount_at_risk", "sum"))
                .sort_values(["findings", "check"], ascending=[False, True])
                .reset_index(drop=True))

    # -- one finding ---------------------------------------------------------------------

    def finding(self, finding_id: str) -> pd.Series:
        """One finding as shown (masked unless unmasked)."""
        rows = self.findings[self.findings["finding_id"] == str(finding_id)]
        if rows.empty:
            raise UserInputError(f"no finding {finding_id!r} in findings.csv",
                                 file=str(self.out_dir / "findings.csv"), column="finding_id")
        return self._shown(rows.reset_index(drop=True)).iloc[0]

    def detail(self, finding_id: str) -> str:
        """The finding's Chinese detail text (IDs and names masked unless unmasked)."""
        return str(self.finding(finding_id)["detail"])

    def evidence(self, finding_id: str) -> pd.DataFrame:
        """The input rows the finding rests on: file, row (1-based data row), key fields."""
        self.finding(finding_id)  # an unknown ID is a user mistake, not an empty table
        rows = self.evidence_table[self.evidence_table["finding_id"] == str(finding_id)]
        rows = rows.sort_values(["file", "row"], kind="stable").reset_index(drop=True)
        return self._shown(rows, names=self._names_of(finding_id))

    # -- export --------------------------------------------------------------------------

    def export_xlsx(self, path: Path | str, flt: FindingFilter | None = None) -> Path:
        """Write the filtered findings (sheet 发现 findings) and their evidence rows (sheet
        证据 evidence) to an xlsx workbook, masked unless unmasked."""
        from jiuzhu_sim.io import write_xlsx

        sel = self.select(flt)
        evidence = self.evidence_table[self.evidence_table["finding_id"].isin(
            sel["finding_id"])]
        evidence = evidence.merge(sel[["finding_id", "check", "person_id"]], on="finding_id",
                                  how="left")[["finding_id", "check", "person_id", "file", "row",
                                               "key_fields"]]
        names = set(sel["name"].dropna().astype(str))
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_xlsx(path, {"发现 findings": self._shown(sel),
                                 "证据 evidence": self._shown(evidence.reset_index(drop=True),
                                                            names=names)})

    # -- masking -------------------------------------------------------------------------

    def _names_of(self, finding_id: str) -> set[str]:
        rows = self.findings[self.findings["finding_id"] == str(finding_id)]
        return set(rows["name"].dropna().astype(str))

    def _shown(self, frame: pd.DataFrame, names: set[str] | None = None) -> pd.DataFrame:
        from jiuzhu_sim.report import masked

        if frame.empty:  # privacy.mask_ids fails on zero rows (numpy's char.multiply)
            return frame
        return masked(frame, self.mask, names or ())


def _read_csv(path: Path, columns: list[str]) -> pd.DataFrame:
    """An audit output CSV with every column as text (IDs and codes stay strings)."""
    from jiuzhu_sim.io import read_table

    frame = read_table(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UserInputError("missing column (is this an audit output folder?)", file=str(path),
                             column=missing[0])
    return frame.fillna("")
