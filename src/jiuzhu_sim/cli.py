"""Command line `jiuzhu` (CONTRACT §1): argument parsing and exit codes only.

Each subcommand hands its parsed arguments to one library function. User mistakes
(:class:`UserInputError`) become exit status 2 with one line on stderr; nothing else is
caught, so a real bug still shows its traceback.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from jiuzhu_sim.exceptions import UserInputError

EXIT_OK = 0
EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2."""

    def error(self, message: str) -> None:  # noqa: D102
        sys.stderr.write(f"jiuzhu: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(EXIT_USER_ERROR)


def _month(text: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not YYYY-MM")
    return text


def _date(text: str) -> str:
    import datetime as dt

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not YYYY-MM-DD")
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a calendar date") from None
    return text


def _years(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})(?::(\d{4}))?", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not YYYY:YYYY")
    first = int(m.group(1))
    last = int(m.group(2) or first)
    if last < first:
        raise argparse.ArgumentTypeError(f"{text!r}: the last year is before the first")
    return first, last


# One example per command, shown by `jiuzhu --help` and by the command's own --help.
EXAMPLES = {
    "simulate": "jiuzhu simulate --persons pop/persons.csv --households pop/households.csv "
                "--out out/sim --params 350581 --date 2024-01-01",
    "explain": "jiuzhu explain --persons pop/persons.csv --households pop/households.csv "
               "--household-id H35058100000042 --date 2024-01-01",
    "synth": "jiuzhu synth population --out pop --households 20000 --seed 1",
    "audit": "jiuzhu audit county --start 2024-01 --end 2024-06 --out out/audit "
             "[--rectified out/audit/三项清单.xlsx]",
    "scenario": "jiuzhu scenario params/scenarios/dibao_standard_48.yaml --out out/scenario "
                "--replications 20",
    "budget": "jiuzhu budget --params 350581 --years 2025:2027 --out out/budget "
              "--replications 200",
    "report": "jiuzhu report audit --out reports/audit.html   # no data: the synthetic county",
    "explore": "jiuzhu explore audit out/audit   # the findings of `jiuzhu audit`, filterable",
    "params": "jiuzhu params show Shishi --date 2024-01-01",
}


def _epilog(*commands: str) -> str:
    return "example" + ("s" if len(commands) > 1 else "") + ":\n" + "\n".join(
        f"  {EXAMPLES[c]}" for c in commands if c in EXAMPLES)


def _add_params(p: argparse.ArgumentParser, default_region: str | None = "350581") -> None:
    p.add_argument("--params", default=default_region,
                   help="region code, name (e.g. 350581, Shishi) or a region YAML file")
    p.add_argument("--date", type=_date, default=None,
                   help="date the parameters apply on (YYYY-MM-DD; default: today)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter by its dotted name (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="jiuzhu", description="jiuzhu_sim (救助 sim): social-assistance "
                     "simulation and audit look-back (回头看)", epilog=_epilog(*EXAMPLES),
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    from jiuzhu_sim import __version__

    parser.add_argument("--version", action="version", version=f"jiuzhu_sim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add = sub.add_parser

    def add_parser(name, **kwargs):  # every command's --help ends with its example
        return _add(name, epilog=_epilog(name),
                    formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)

    sub.add_parser = add_parser

    p = sub.add_parser("simulate", help="apply the rules to a population; write households_out, "
                       "persons_out, summary.json")
    p.add_argument("--persons", required=True, type=Path,
                   help="persons table (.csv, .xlsx or .parquet; CONTRACT §3 columns)")
    p.add_argument("--households", required=True, type=Path,
                   help="households table (.csv, .xlsx or .parquet; CONTRACT §3 columns)")
    p.add_argument("--out", required=True, type=Path,
                   help="output folder: households_out, persons_out, summary.json")
    _add_params(p)
    p.add_argument("--seed", type=int, default=20240101,
                   help="seed of the administrative-process model (enrollment draw)")
    p.add_argument("--format", choices=["csv", "parquet"], default="csv",
                   help="format of the output tables (default: csv)")
    p.add_argument("--calibrate", action="store_true",
                   help="reweight households to the region's calibration.* targets (ages, "
                   "dibao recipients urban/rural, mean income) before the weighted figures; "
                   "writes calibration_fit.csv")

    p = sub.add_parser("explain", help="show how the rules treat one household, step by step")
    p.add_argument("--persons", required=True, type=Path,
                   help="persons table (.csv, .xlsx or .parquet)")
    p.add_argument("--households", required=True, type=Path,
                   help="households table (.csv, .xlsx or .parquet)")
    p.add_argument("--household-id", required=True, help="the household_id to explain")
    _add_params(p)
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="text (step by step, default) or json (the same record)")

    p = sub.add_parser("synth", help="generate synthetic data")
    p.add_argument("kind", choices=["population", "audit"],
                   help="population (persons, households) or audit (a county's roster, "
                        "payments, deaths … with planted anomalies)")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--households", type=int, default=None,
                   help="number of households (default: the region's population."
                        "default_households / audit_synth.* parameters)")
    p.add_argument("--seed", type=int, default=20240101,
                   help="random seed (the same seed gives the same files)")
    _add_params(p)
    p.add_argument("--format", choices=["csv", "parquet"], default="csv",
                   help="format of the written tables (default: csv)")
    p.add_argument("--start", type=_month, default=None, help="audit data: first month")
    p.add_argument("--end", type=_month, default=None, help="audit data: last month")

    p = sub.add_parser("audit", help="audit look-back (回头看) over one-card payments")
    p.add_argument("data_dir", type=Path,
                   help="folder with roster, payments, deaths and the optional inputs "
                        "(CONTRACT §5; .csv, .xlsx or .parquet)")
    p.add_argument("--start", required=True, type=_month, help="first month audited (YYYY-MM)")
    p.add_argument("--end", required=True, type=_month, help="last month audited (YYYY-MM)")
    p.add_argument("--out", required=True, type=Path,
                   help="output folder: findings.csv, 三项清单.xlsx, monthly_stats.csv, "
                        "rejected.csv, summary.json …")
    _add_params(p, default_region=None)
    p.add_argument("--rectified", type=Path, default=None,
                   help="last round's 三项清单.xlsx (or its 整改清单 as csv) with 整改状态 "
                        "filled in from the drop-down; gives the 成果清单 (对账销号)")
    engine = p.add_mutually_exclusive_group()
    engine.add_argument("--workers", type=int, default=None,
                        help="audit partitions on a local Dask cluster of N workers")
    engine.add_argument("--scheduler", default=None,
                        help="audit partitions on an existing Dask cluster (ADDRESS)")
    p.add_argument("--partitions", type=int, default=None,
                   help="cut the inputs into N partitions by person (default with "
                        "--workers/--scheduler: about a million payment rows each)")
    p.add_argument("--work-dir", type=Path, default=None,
                   help="where partitions are staged (must be visible to the workers)")
    p.add_argument("--no-linkage", action="store_true",
                   help="skip the probable-match review list (review_matches.csv)")
    p.add_argument("--sheet", action="append", default=[], metavar="[INPUT=]SHEET",
                   help="read only this sheet of the workbooks (repeatable; INPUT=SHEET for "
                        "one input, e.g. payments=2024Q1); default: every sheet carrying "
                        "the table")

    p = sub.add_parser("scenario", help="compare a baseline with reforms")
    p.add_argument("scenario_file", type=Path,
                   help="SCENARIO.yaml (examples in params/scenarios/)")
    p.add_argument("--out", required=True, type=Path,
                   help="output folder: comparison, winners_losers, frontier, summary.json")
    p.add_argument("--replications", type=int, default=None,
                   help="Monte Carlo replications (default: the file's replications)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, default=None,
                   help="run partitions on a local Dask cluster of N workers")
    g.add_argument("--scheduler", default=None,
                   help="run partitions on an existing Dask cluster (ADDRESS)")

    p = sub.add_parser("budget", help="multi-year budget with uncertainty")
    _add_params(p)
    p.add_argument("--years", required=True, type=_years,
                   help="first and last budget year, YYYY:YYYY (or one year YYYY)")
    p.add_argument("--out", required=True, type=Path,
                   help="output folder: budget table, standards, capacity, summary.json")
    p.add_argument("--replications", type=int, default=None,
                   help="Monte Carlo replications for the P5–P95 band (default: "
                        "budget.default_replications)")
    p.add_argument("--households", type=int, default=None,
                   help="synthetic sample households (default: budget.default_households)")
    p.add_argument("--seed", type=int, default=20240101, help="random seed")
    p.add_argument("--roster", type=Path, default=None,
                   help="audit DATA_DIR (roster, optional payments): its active approvals are "
                        "the base-year cost; the simulation supplies only the change")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, default=None,
                   help="run replications on a local Dask cluster of N workers")
    g.add_argument("--scheduler", default=None,
                   help="run replications on an existing Dask cluster (ADDRESS)")

    p = sub.add_parser("report", help="render a parameterised notebook to HTML")
    p.add_argument("kind", choices=["audit", "scenario", "budget"],
                   help="which report: audit look-back, scenario analysis or budget")
    p.add_argument("source", nargs="?", default=None,
                   help="audit: DATA_DIR; scenario: SCENARIO.yaml; budget: unused")
    p.add_argument("--start", type=_month, default=None,
                   help="audit: first month (YYYY-MM; with DATA_DIR)")
    p.add_argument("--end", type=_month, default=None,
                   help="audit: last month (YYYY-MM; with DATA_DIR)")
    p.add_argument("--out", required=True, type=Path,
                   help="the HTML file to write (the executed notebook and the outputs go "
                        "beside it)")
    _add_params(p, default_region=None)
    p.add_argument("--seed", type=int, default=20240101,
                   help="random seed of the synthetic data and simulations")
    p.add_argument("--unmask", action="store_true", help="show IDs and names in full")
    p.add_argument("--years", type=_years, default=None,
                   help="budget: first and last year, YYYY:YYYY")

    p = sub.add_parser("explore", help="serve the live scenario or audit explorer as a page "
                       "on localhost (Voilà; needs the explore extra)")
    p.add_argument("kind", choices=["scenario", "audit"],
                   help="scenario (sliders over the rules) or audit (findings of one audit run)")
    p.add_argument("audit_dir", nargs="?", type=Path, default=None, metavar="AUDIT_OUT_DIR",
                   help="audit: the folder `jiuzhu audit --out` wrote")
    p.add_argument("--port", type=int, default=8866,
                   help="localhost port to serve on (default: 8866)")
    p.add_argument("--params", default=None, help="scenario: region code or name")
    p.add_argument("--date", type=_date, default=None, help="scenario: parameter date")
    p.add_argument("--households", type=int, default=None, help="scenario: population size")
    p.add_argument("--seed", type=int, default=None, help="scenario: population seed")
    p.add_argument("--unmask", action="store_true", help="audit: start with IDs and names shown")
    p.add_argument("--token", default=None, help="access token (default: a random one)")

    p = sub.add_parser("params", help="show or compare parameters")
    psub = p.add_subparsers(dest="params_command", required=True, parser_class=_Parser)
    q = psub.add_parser("show", help="every parameter of a region on a date, with unit, "
                        "source and reference")
    q.add_argument("region", help="region code or name (e.g. 350581, Shishi) or a YAML file")
    q.add_argument("--date", type=_date, default=None,
                   help="date the parameters apply on (YYYY-MM-DD; default: today)")
    q.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter by its dotted name (repeatable)")
    q.add_argument("--format", choices=["text", "json"], default="text",
                   help="text table (default) or json with each value's inheritance chain")
    q = psub.add_parser("diff", help="compare two regions or two dates: A B, "
                        "A@YYYY-MM-DD B@YYYY-MM-DD, or A A --date-a D1 --date-b D2")
    q.add_argument("a", help="region, or region@YYYY-MM-DD")
    q.add_argument("b", help="region, or region@YYYY-MM-DD")
    q.add_argument("--date", type=_date, default=None, help="date of both sides")
    q.add_argument("--date-a", type=_date, default=None, help="date of side A (YYYY-MM-DD)")
    q.add_argument("--date-b", type=_date, default=None, help="date of side B (YYYY-MM-DD)")
    q.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter on both sides (repeatable)")
    q = psub.add_parser("regions", help="list the built-in regions and their parents")
    return parser


# --- handlers: one library call each ------------------------------------------------------


def _load_params(args: argparse.Namespace, default_region: str = "350581"):
    from jiuzhu_sim.parameters import load_parameters

    return load_parameters(args.params or default_region, args.date, args.overrides)


def _cmd_simulate(args: argparse.Namespace) -> int:
    from jiuzhu_sim.simulation import simulate_files

    summary = simulate_files(args.persons, args.households, args.out, _load_params(args),
                             seed=args.seed, fmt=args.format, command=sys.argv,
                             calibrate=args.calibrate)
    print(json.dumps({k: summary[k] for k in summary if k not in ("parameters", "manifest")},
                     ensure_ascii=False, indent=2, default=str))
    return EXIT_OK


def _cmd_explain(args: argparse.Namespace) -> int:
    from jiuzhu_sim.explain import explain_files

    print(explain_files(args.persons, args.households, args.household_id, _load_params(args),
                        fmt=args.format))
    return EXIT_OK


def _cmd_synth(args: argparse.Namespace) -> int:
    if args.kind == "population":
        from jiuzhu_sim.population import write_population

        paths = write_population(args.out, _load_params(args), n_households=args.households,
                                 seed=args.seed, fmt=args.format)
    else:
        from jiuzhu_sim.audit.synth import write_audit_data

        paths = write_audit_data(args.out, _load_params(args), n_households=args.households,
                                 seed=args.seed, start=args.start, end=args.end, fmt=args.format)
    for path in paths:
        print(path)
    return EXIT_OK


def _cmd_audit(args: argparse.Namespace) -> int:
    """``jiuzhu audit DATA_DIR --start --end --out [--params] [--date] [--set] [--rectified]``:
    run, print the findings' counts."""
    from collections import Counter

    from jiuzhu_sim.audit.runner import run_audit

    result = run_audit(args.data_dir, args.start, args.end, params=args.params,
                       out_dir=args.out, rectified=getattr(args, "rectified", None),
                       command=sys.argv, overrides=list(getattr(args, "overrides", []) or []),
                       date=getattr(args, "date", None),
                       workers=getattr(args, "workers", None),
                       scheduler=getattr(args, "scheduler", None),
                       partitions=getattr(args, "partitions", None),
                       linkage=not getattr(args, "no_linkage", False),
                       work_dir=getattr(args, "work_dir", None),
                       sheets=tuple(getattr(args, "sheet", None) or ()),
                       progress=bool(getattr(args, "workers", None)
                                     or getattr(args, "scheduler", None)))
    s = result.summary
    counts = Counter({k: v["findings"] for k, v in s["findings"].items() if v["findings"]})
    print(json.dumps({"findings_total": s["findings_total"],
                      "amount_at_risk_total": s["amount_at_risk_total"],
                      "findings": dict(counts), "rows_read": s["rows_read"],
                      "rows_rejected": s["rows_rejected"],
                      "review_matches": s.get("review_matches", {}).get("total", 0),
                      "engine": s["engine"], "out": str(args.out)},
                     ensure_ascii=False, indent=2))
    return EXIT_OK


def _cmd_scenario(args: argparse.Namespace) -> int:
    """``jiuzhu scenario``: run and print the comparison's key columns."""
    from jiuzhu_sim.scenario import run_scenario

    result = run_scenario(args.scenario_file, args.out, replications=args.replications,
                          workers=args.workers, scheduler=args.scheduler, command=sys.argv)
    cols = ["scenario", "region", "coverage_rate", "exclusion_error_rate",
            "inclusion_error_rate", "leakage_rate", "cost_total", "delta_cost_total",
            "fgt0_after"]
    print(result.comparison[[c for c in cols if c in result.comparison]].to_string(index=False))
    print(f"# written to {args.out}")
    return EXIT_OK


def _cmd_budget(args: argparse.Namespace) -> int:
    """``jiuzhu budget [--roster DATA_DIR]``: the budget run (:func:`jiuzhu_sim.budget.
    run_budget`) for the real county, then the finance table, the roster-anchored estimate
    beside the synthetic one and the per-township capacity table (:mod:`jiuzhu_sim.finance`);
    prints the P50 tables."""
    import datetime as dt

    from jiuzhu_sim.budget import run_budget
    from jiuzhu_sim.finance import (
        FINANCE_HEADERS,
        finance_table,
        read_roster_base,
        roster_anchored,
        township_table,
        write_finance,
    )
    from jiuzhu_sim.parameters import load_parameters

    first, last = (int(y) for y in args.years)
    date = args.date or min(dt.date.today(), dt.date(first, 1, 1)).isoformat()
    params = load_parameters(args.params or "350581", date, args.overrides)
    base_year = params.date.year
    roster_dir = getattr(args, "roster", None)
    roster = read_roster_base(roster_dir, params.date, params) if roster_dir else None
    # the roster anchors on the base year: run from it even when --years starts later
    run_first = base_year if roster is not None else first
    result = run_budget(params, (run_first, last), args.out, replications=args.replications,
                        households=args.households, seed=args.seed, workers=args.workers,
                        scheduler=args.scheduler, command=sys.argv)
    anchored = roster_anchored(result.draws, base_year, roster) if roster is not None else None
    finance = finance_table(result.table, first, roster, anchored)
    townships = township_table(params)
    write_finance(Path(args.out), finance, anchored, townships, roster)
    population = float(result.standards.loc[result.standards["year"] == first,
                                             "persons"].iloc[0])
    census = params.values.get("region.resident_population")
    print(f"# {params.region_code} {params.region_name}: represented population "
          f"{population:,.0f} in {first}"
          + (f" (census {census.value:,} — {census.reference})" if census else
             " (the synthetic sample: no region.resident_population for this region)"))
    pivot = result.table.pivot(index="program", columns="year", values="p50")
    print(f"# synthetic estimate, annual cost, yuan, P50 of {result.summary['replications']} "
          f"replications (P5/P95 in {Path(args.out) / 'budget.csv'})")
    print(pivot.round(0).to_string())
    if anchored is not None:
        print(f"# roster base year {base_year} (active on {params.date.isoformat()}, "
              f"× {params['budget.months_per_year']} months) and roster-anchored P50 "
              f"(budget_roster.csv)")
        wide = anchored.pivot(index="program", columns="year", values="roster_p50")
        print(wide.round(0).to_string())
    print(f"# 财政预算表 {first} (财政预算表.xlsx / .csv)")
    shown = finance[["program_name", "last_year", "budget_p50", "budget_p5", "budget_p95",
                     "change", "change_share"]].rename(columns=FINANCE_HEADERS)
    print(shown.round(3).to_string(index=False))
    for note in result.capacity["purchased_services_note"]:
        if note:
            print(f"# 004 四: {note}")
            break
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    """``jiuzhu report``: render, print the HTML path; a failing cell → one line, exit ≠ 0."""
    from jiuzhu_sim.report import EXIT_CELL_FAILED, ReportCellError, render_report

    years = None if args.years is None else f"{args.years[0]}:{args.years[1]}"
    try:
        rendered = render_report(args.kind, args.out, source=args.source, start=args.start,
                                 end=args.end, region=args.params, date=args.date,
                                 overrides=args.overrides, seed=args.seed, unmask=args.unmask,
                                 years=years)
    except ReportCellError as exc:
        sys.stderr.write(f"jiuzhu report: {exc.one_line()}\n")
        return EXIT_USER_ERROR if exc.user_error else EXIT_CELL_FAILED
    print(rendered.html)
    print(f"# executed notebook: {rendered.notebook}; outputs: {rendered.output_dir} "
          f"({rendered.seconds:.1f} s)")
    return EXIT_OK


def _cmd_explore(args: argparse.Namespace) -> int:
    from jiuzhu_sim.explore.serve import serve

    extra = ({"audit_dir": args.audit_dir, "mask": not args.unmask} if args.kind == "audit"
             else {"audit_dir": args.audit_dir, "region": args.params, "date": args.date,
                   "households": args.households, "seed": args.seed})
    return serve(args.kind, port=args.port, token=args.token, **extra)


def _cmd_params(args: argparse.Namespace) -> int:
    from jiuzhu_sim.parameters import (
        diff_parameters,
        list_regions,
        load_parameters,
        parse_region_at,
    )

    if args.params_command == "regions":
        for reg in list_regions():
            print(f"{reg.code}  {reg.name}  {reg.name_en}  parent={reg.parent or '-'}")
        return EXIT_OK
    if args.params_command == "show":
        params = load_parameters(args.region, args.date, args.overrides)
        if args.format == "json":
            doc = params.manifest_entry()
            doc["inheritance"] = params.inheritance
            doc["values"] = {n: params.explain_value(n) for n in sorted(params.values)}
            print(json.dumps(doc, ensure_ascii=False, indent=2, default=str))
            return EXIT_OK
        print(f"# {params.region_code} {params.region_name} on {params.date.isoformat()}")
        print("# 继承链 inheritance: " + " → ".join(
            f"{r['region_code']} {r['name']}" for r in params.inheritance))
        print(f"# {'name':<56} {'value':>14} {'unit':<24} {'since':<10} source · reference")
        for name in sorted(params.values):
            pv = params.values[name]
            print(f"{name:<58} {pv.value!s:>14} {pv.unit:<24} {pv.since or '-':<10} "
                  f"{pv.source} · {pv.reference}")
            chain = params.chains.get(name, [])
            replaced = [e for e in chain if e.get("status") == "overridden"]
            if replaced or (pv.source == "--set" and chain):
                shown = replaced if pv.source != "--set" else chain
                print("    ↳ 覆盖了 replaces: " + "; ".join(
                    f"{e['region_code']} {e['source']} = {e['value']}"
                    + (f" (since {e['since']})" if e["since"] else "") for e in shown))
        return EXIT_OK
    region_a, at_a = parse_region_at(args.a)
    region_b, at_b = parse_region_at(args.b)
    a = load_parameters(region_a, at_a or args.date_a or args.date, args.overrides)
    b = load_parameters(region_b, at_b or args.date_b or args.date, args.overrides)
    rows = diff_parameters(a, b)
    labels = [k for k in (rows[0] if rows else {}) if k not in (
        "name", "source_a", "source_b", "reference_a", "reference_b", "origin_a", "origin_b")]
    if not labels:
        labels = [f"{a.region_code}@{a.date.isoformat()}", f"{b.region_code}@{b.date.isoformat()}"]
    print(f"# A = {a.region_code} {a.region_name} on {a.date.isoformat()}; "
          f"B = {b.region_code} {b.region_name} on {b.date.isoformat()}")
    print(f"# {'name':<56} {labels[0]:>20} {labels[1]:>20}  source A | source B")
    print("# ↳ lines: a side with no value of its own, and the parent value it falls back to")
    for row in rows:
        va, vb = ("(none)" if row[k] is None else row[k] for k in labels)
        print(f"{row['name']:<58} {va!s:>20} {vb!s:>20}  "
              f"{row['source_a'] or '-'} | {row['source_b'] or '-'}")
        for side, params, value in (("a", a, va), ("b", b, vb)):
            origin = row[f"origin_{side}"]
            if origin["kind"] in ("inherited", "before_own"):
                why = ("has no value of its own yet on " + params.date.isoformat()
                       if origin["kind"] == "before_own" else "has no value of its own")
                ref = row[f"reference_{side}"]
                print(f"    ↳ {params.region_code} {params.region_name} {why} → falls back "
                      f"to {origin['region_code']} {origin['region_name']} = {value}"
                      + (" (assumption)" if origin["assumption"] else "")
                      + (f": {ref}" if ref else ""))
    if not rows:
        print("(no differences)")
    return EXIT_OK


HANDLERS = {
    "simulate": _cmd_simulate,
    "explain": _cmd_explain,
    "synth": _cmd_synth,
    "audit": _cmd_audit,
    "scenario": _cmd_scenario,
    "budget": _cmd_budget,
    "report": _cmd_report,
    "explore": _cmd_explore,
    "params": _cmd_params,
}


def _no_huge_page_advice() -> None:
    """Stop numpy advising the kernel to back large arrays with huge pages, unless the user
    chose (``NUMPY_MADVISE_HUGEPAGE``). Where transparent huge pages are "madvise" with
    synchronous defragmentation (Debian's and Ubuntu's default), every advised allocation
    may compact memory first: on the benchmarks that was 2–3 s of system time per run
    (simulate 1 M households, audit 200 k people), for no gain in user time
    (docs/performance.md)."""
    import os

    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # pragma: no cover - numpy < 2
        try:
            from numpy.core.multiarray import _set_madvise_hugepage
        except ImportError:
            return
    _set_madvise_hugepage(False)


def _arrow_memory_pool() -> None:
    """Arrow's jemalloc pool for this process's Arrow buffers, unless the user chose
    (``ARROW_DEFAULT_MEMORY_POOL``) or this pyarrow has no jemalloc (Windows). The
    default pool of the Linux wheels, mimalloc, hands freed memory back to the kernel
    10 ms after it is freed (``madvise(MADV_DONTNEED)``) and takes it back page by page
    on the next allocation; the audit and simulate free and allocate column-sized buffers
    all along, so on the benchmarks that was about 1 GB of purges and 5–7 s of system
    time per run. jemalloc keeps freed pages for reuse (docs/performance.md)."""
    import os

    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:  # pragma: no cover - pyarrow built without jemalloc
        pass


def _start_hashing_inputs(args: argparse.Namespace) -> None:
    """Start hashing the inputs the command's manifest records, before the imports of
    numpy, pandas and Arrow (about half a second on one core): the hashing takes the core
    they leave idle instead of one the command's own work needs (docs/performance.md)."""
    from jiuzhu_sim.manifest import start_hashing

    if args.command == "simulate":
        start_hashing([args.persons, args.households])
    elif args.command == "audit":
        from jiuzhu_sim.files import audit_input_files

        try:
            files = audit_input_files(args.data_dir)
        except OSError:  # an unreadable folder: the audit's reader reports it
            files = []
        start_hashing([*files, getattr(args, "rectified", None)])


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _start_hashing_inputs(args)
    _no_huge_page_advice()
    _arrow_memory_pool()
    try:
        return HANDLERS[args.command](args)
    except UserInputError as exc:
        sys.stderr.write(f"jiuzhu {args.command}: {exc.one_line()}\n")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("jiuzhu: interrupted\n")
        return 130
    except BrokenPipeError:  # `jiuzhu simulate ... | head`: the reader left, not an error
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        # the machine's refusal of a named file (disk full, read-only, no permission): what
        # and where in one line; an error with no file named is a bug, shown in full
        if exc.filename is None:
            raise
        names = exc.filename if exc.filename2 is None else f"{exc.filename} → {exc.filename2}"
        sys.stderr.write(f"jiuzhu {args.command}: {names}: {exc.strerror}\n")
        return EXIT_USER_ERROR


def console(argv: list[str] | None = None) -> None:
    """The ``jiuzhu`` command (``[project.scripts]``, ``python -m jiuzhu_sim``): :func:`main`,
    then the process ends with its exit status (:func:`_leave`)."""
    _leave(main(argv))


def _leave(status: int) -> None:
    """End the process with ``status`` once the command is done, without the interpreter's
    teardown: freeing every object one by one (the audit's and the simulation's gigabyte
    of tables) took 0.1 s of an audit run, 0.3 s with the linkage; the kernel frees the
    memory at exit at once. What a normal exit does that matters still happens: the
    ``atexit`` handlers run (multiprocessing's, logging's, temporary files' finalizers,
    coverage) and stdout and stderr are flushed. A file left open in a global is not
    flushed (jiuzhu closes what it writes before the command returns). While a thread that is not a daemon still runs (a normal exit
    would wait for it), or when flushing fails, it is a normal exit."""
    import atexit
    import os
    import threading

    if not isinstance(status, int) or isinstance(status, bool):
        raise SystemExit(status)
    waiting = [t for t in threading.enumerate()
               if t is not threading.current_thread() and not t.daemon and t.is_alive()]
    if waiting:
        raise SystemExit(status)
    try:
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None: started with that descriptor closed
                stream.flush()
    except (OSError, ValueError, AttributeError):  # a broken stream: the interpreter reports
        raise SystemExit(status) from None
    os._exit(status)


if __name__ == "__main__":
    console()
