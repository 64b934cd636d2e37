"""``egov-probe import``: take report and review files (folders, zip files) into the store."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import EXIT_INPUT, EXIT_READY
from .store_options import add_store_args, open_store

NAME = "import"
HELP = "nhập báo cáo vào kho (thư mục, tệp zip) / import reports into the store"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                        help="tệp .json, tệp .zip hoặc thư mục / report files, zip files, folders")
    parser.add_argument("--quarantine", type=Path, metavar="DIR",
                        help="nơi chép tệp lỗi / where copies of bad files go, with the reason "
                             "beside them; the originals are never changed (default: "
                             "egov-quarantine beside the SQLite store)")
    add_store_args(parser)


def _default_quarantine(database) -> Path:
    if database.dialect == "sqlite":
        return Path(database.location).resolve().parent / "egov-quarantine"
    return Path("egov-quarantine")


def run(args: argparse.Namespace) -> int:
    from ..matrix.inventory import load_unit_infos
    from ..store import import_paths

    unit_ids = [info.unit.unit_id for info in load_unit_infos(args.inventory)]
    database = open_store(args)
    try:
        summary = import_paths(database, args.paths, unit_ids,
                               args.quarantine or _default_quarantine(database))
    finally:
        database.close()
    for origin, reason, target in summary.quarantined:
        print(f"CÁCH LY / QUARANTINED {origin}: {reason} -> {target}", file=sys.stderr)
    for path in summary.ignored:
        print(f"BỎ QUA / IGNORED {path} (not .json or .zip; left alone)", file=sys.stderr)
    for path in summary.not_reports:
        print(f"BỎ QUA / SKIPPED {path} (JSON that is not a report; left alone)", file=sys.stderr)
    print(f"Kho / store {database.location}: đã nhập / imported {len(summary.imported)}, "
          f"trùng / duplicates {len(summary.duplicates)}, cách ly / quarantined "
          f"{len(summary.quarantined)}, bỏ qua / ignored "
          f"{len(summary.ignored) + len(summary.not_reports)}")
    return EXIT_INPUT if summary.quarantined else EXIT_READY
