"""Tiny hand-made audit tables for the check tests (built through audit.io.normalise, so the
types are the ones the runner produces)."""

from __future__ import annotations

import pandas as pd

from jiuzhu_sim.audit.calendar import month_last_day, parse_month
from jiuzhu_sim.audit.checks.base import AuditContext
from jiuzhu_sim.audit.ids import check_character
from jiuzhu_sim.audit.io import SCHEMAS, AuditTables, empty_table, normalise
from jiuzhu_sim.parameters import load_parameters


def rid(seq: int, birth: str = "19800101", region: str = "350581") -> str:
    """A valid 18-character resident ID."""
    body = f"{region}{birth}{seq:03d}"
    return body + check_character(body)


A, B, C, D, G = rid(1), rid(2), rid(3), rid(4), rid(5, "19600101")


def roster_row(pid, program="dibao", start="2023-01-01", end="", amount=500, check="2024-05-01",
               household="H1", region="350581", name="张三", **extra):
    row = {"person_id": pid, "name": name, "household_id": household, "region_code": region,
           "program": program, "start_date": start, "end_date": end,
           "monthly_amount": str(amount), "last_check_date": check}
    row.update({k: str(v) for k, v in extra.items()})
    return row


def pay_row(pid, period, amount=500, paid="", program="dibao", region="350581", account=None,
            payment_id=""):
    paid = paid or f"{period}-25"
    return {"payment_id": payment_id, "person_id": pid,
            "account_holder_id": pid if account is None else account, "region_code": region,
            "program": program, "period": period, "amount": str(amount), "paid_date": paid}


def make_tables(**rows) -> AuditTables:
    frames = {}
    for name in SCHEMAS:
        if name in rows:
            frame = pd.DataFrame(rows[name], dtype=str)
            if not len(frame):
                frames[name] = empty_table(name)
                continue
            for col in SCHEMAS[name][1]:
                if col.required and col.name not in frame:
                    frame[col.name] = ""
            table, rejected = normalise(name, frame, f"{name}.csv")
            assert len(rejected) == 0, rejected
            frames[name] = table
        else:
            frames[name] = empty_table(name)
    return AuditTables(**frames)


def make_ctx(start="2024-01", end="2024-06", overrides=None) -> AuditContext:
    end_m = parse_month(end)
    day = month_last_day(end_m).astype("datetime64[D]").item()
    params = load_parameters("350581", day)
    if overrides:
        params = params.with_overrides(overrides)
    return AuditContext(parse_month(start), end_m, params, region_code="350581")
