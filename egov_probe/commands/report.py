"""``egov-probe report monthly``: the monthly progress report from the store (HTML, XLSX)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import EXIT_READY
from .store_options import add_output_args, add_store_args, label, open_store, parse_formats

NAME = "report"
HELP = "báo cáo sơ kết tháng / the monthly progress report (report monthly --month YYYY-MM)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=("monthly",), help="loại báo cáo / report kind")
    parser.add_argument("--month", required=True, metavar="YYYY-MM", help="tháng / the month")
    add_store_args(parser)
    add_output_args(parser, ("html", "xlsx"))


def run(args: argparse.Namespace) -> int:
    from ..core.atomic import write_atomic_with, write_text_atomic
    from ..core.plan import load_plan
    from ..matrix import load_unit_infos
    from ..matrix.monthly import monthly_report
    from ..matrix.periods import parse_month
    from ..render.matrix_monthly import monthly_workbook, render_monthly_html

    formats = parse_formats(args.format, ("html", "xlsx"))
    year, month = parse_month(args.month)
    infos = load_unit_infos(args.inventory)
    database = open_store(args)
    try:
        report = monthly_report(database, infos, load_plan(), year, month)
    finally:
        database.close()
    stem = Path(args.out) / f"monthly-{year:04d}-{month:02d}"
    if "html" in formats:
        print(write_text_atomic(stem.with_suffix(".html"), render_monthly_html(report, args.lang)))
    if "xlsx" in formats:
        print(write_atomic_with(stem.with_suffix(".xlsx"), monthly_workbook(report, args.lang).save))
    for progress in report.phases:
        print(f"{label('phase', args.lang)} {progress.phase.number}: "
              f"{progress.ready(progress.before)} -> {progress.ready(progress.now)} "
              f"({progress.change:+d}) / {progress.total}; behind: {len(progress.behind)}")
    return EXIT_READY
