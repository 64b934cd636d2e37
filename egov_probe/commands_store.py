"""Sub-commands of the readiness store: ``import``, ``matrix`` and ``report monthly``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .cli import EXIT_INPUT, EXIT_READY, add_command

STORE_ENV = "EGOV_STORE"
DEFAULT_MATRIX_OUT = "egov-matrix"


def register(commands: argparse._SubParsersAction) -> None:
    add_command(commands, "import", _import_args, cmd_import,
                "nhập báo cáo vào kho (thư mục, tệp zip) / import reports into the store")
    add_command(commands, "matrix", _matrix_args, cmd_matrix,
                "ma trận sẵn sàng theo đơn vị (HTML, XLSX, CSV, JSON) / the per-unit readiness matrix")
    add_command(commands, "report", _report_args, cmd_report,
                "báo cáo sơ kết tháng / the monthly progress report (report monthly --month YYYY-MM)")


def _common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="FILE|URL",
                        help=f"kho báo cáo: tệp SQLite hoặc postgresql://... / the store "
                             f"(default: ${STORE_ENV} or egov-store.sqlite; a PostgreSQL password "
                             f"comes from PGPASSWORD or ~/.pgpass, never the command line)")
    parser.add_argument("-i", "--inventory", type=Path,
                        help="Ansible YAML inventory with the unit groups (default: ./inventory "
                             "if present, else the shipped units)")


def _output_args(parser: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    parser.add_argument("--out", type=Path, default=Path(DEFAULT_MATRIX_OUT), metavar="DIR",
                        help=f"thư mục ghi / output folder (default: {DEFAULT_MATRIX_OUT})")
    parser.add_argument("--format", default=",".join(formats),
                        help=f"định dạng, cách nhau dấu phẩy / formats (default: {','.join(formats)})")
    parser.add_argument("--lang", choices=("vi", "en"), default="vi", help="ngôn ngữ / language")


def _import_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                        help="tệp .json, tệp .zip hoặc thư mục / report files, zip files, folders")
    parser.add_argument("--quarantine", type=Path, metavar="DIR",
                        help="nơi chuyển tệp lỗi / where bad files go, with the reason beside "
                             "them (default: egov-quarantine beside the SQLite store)")
    _common_args(parser)


def _matrix_args(parser: argparse.ArgumentParser) -> None:
    from .render.matrix_files import FORMATS

    _common_args(parser)
    _output_args(parser, FORMATS)
    parser.add_argument("--phase", type=int, help="chỉ giai đoạn / only this phase")
    parser.add_argument("--district", help="chỉ huyện (tên hoặc mã) / only this district (name or GSO code)")
    parser.add_argument("--as-of", metavar="YYYY-MM-DD",
                        help="tình trạng đến hết ngày / the state at the end of this day (Vietnam time)")
    parser.add_argument("--since", metavar="YYYY-MM-DD",
                        help="chỉ tính báo cáo từ ngày / only reports from this day on")


def _report_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=("monthly",), help="loại báo cáo / report kind")
    parser.add_argument("--month", required=True, metavar="YYYY-MM", help="tháng / the month")
    _common_args(parser)
    _output_args(parser, ("html", "xlsx"))


def _open_store(args: argparse.Namespace):
    from urllib.parse import urlsplit

    from .errors import InputError
    from .store import open_database
    from .store.db import redact_url

    if args.store and "://" in args.store and urlsplit(args.store).password is not None:
        raise InputError(f"a password on the command line shows in the process list: remove it "
                         f"from {redact_url(args.store)} and use PGPASSWORD, ~/.pgpass or "
                         f"${STORE_ENV}", field="--store")
    return open_database(args.store or os.environ.get(STORE_ENV) or None)


def _formats(value: str, allowed: tuple[str, ...]) -> list[str]:
    from .errors import InputError

    formats = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in formats if f not in allowed]
    if unknown or not formats:
        raise InputError(f"expected formats among {', '.join(allowed)}, found {value!r}",
                         field="--format")
    return formats


def _default_quarantine(database) -> Path:
    if database.dialect == "sqlite":
        return Path(database.location).resolve().parent / "egov-quarantine"
    return Path("egov-quarantine")


def cmd_import(args: argparse.Namespace) -> int:
    from .matrix.inventory import load_unit_infos
    from .store import import_paths

    unit_ids = [info.unit.unit_id for info in load_unit_infos(args.inventory)]
    database = _open_store(args)
    try:
        summary = import_paths(database, args.paths, unit_ids,
                               args.quarantine or _default_quarantine(database))
    finally:
        database.close()
    for origin, reason, target in summary.quarantined:
        print(f"CÁCH LY / QUARANTINED {origin}: {reason} -> {target}", file=sys.stderr)
    for path in summary.ignored:
        print(f"BỎ QUA / IGNORED {path} (not .json or .zip)", file=sys.stderr)
    print(f"Kho / store {database.location}: đã nhập / imported {len(summary.imported)}, "
          f"trùng / duplicates {len(summary.duplicates)}, cách ly / quarantined "
          f"{len(summary.quarantined)}, bỏ qua / ignored {len(summary.ignored)}")
    return EXIT_INPUT if summary.quarantined else EXIT_READY


def cmd_matrix(args: argparse.Namespace) -> int:
    from .matrix import MatrixFilter, load_unit_infos
    from .matrix.periods import parse_day
    from .matrix.service import matrix_from_store
    from .plan import load_plan
    from .render.matrix_files import FORMATS, write_matrix

    formats = _formats(args.format, FORMATS)
    filters = MatrixFilter(phase=args.phase, district=args.district,
                           as_of=parse_day(args.as_of, "--as-of") if args.as_of else None,
                           since=parse_day(args.since, "--since") if args.since else None)
    infos = load_unit_infos(args.inventory)
    database = _open_store(args)
    try:
        matrix = matrix_from_store(database, infos, load_plan(), filters)
    finally:
        database.close()
    _check_filter_matches(matrix, filters)
    stem = f"matrix-{(filters.as_of.isoformat() if filters.as_of else matrix.generated_at[:10])}"
    for path in write_matrix(matrix, args.out, stem, formats, args.lang):
        print(path)
    counts = matrix.status_counts()
    print(" · ".join(f"{_label(s, args.lang)}: {n}" for s, n in counts.items()))
    return EXIT_READY


def _label(key: str, lang: str) -> str:
    from .render.matrix_table import label

    return label(key, lang)


def _check_filter_matches(matrix, filters) -> None:
    from .errors import InputError

    if not matrix.rows and (filters.phase is not None or filters.district):
        option = "--district" if filters.district else "--phase"
        raise InputError("no unit of the inventory matches this filter", field=option)


def cmd_report(args: argparse.Namespace) -> int:
    from .matrix import load_unit_infos
    from .matrix.monthly import monthly_report
    from .matrix.periods import parse_month
    from .plan import load_plan
    from .report_io import write_atomic_with
    from .report_io import write_text_atomic
    from .render.matrix_monthly import monthly_workbook, render_monthly_html

    formats = _formats(args.format, ("html", "xlsx"))
    year, month = parse_month(args.month)
    infos = load_unit_infos(args.inventory)
    database = _open_store(args)
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
        print(f"{_label('phase', args.lang)} {progress.phase.number}: "
              f"{progress.ready(progress.before)} -> {progress.ready(progress.now)} "
              f"({progress.change:+d}) / {progress.total}; behind: {len(progress.behind)}")
    return EXIT_READY
