"""``egov-probe validate``: check report files against the published schema."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.errors import InputError
from .common import EXIT_INPUT, EXIT_READY

NAME = "validate"
HELP = "kiểm tra tệp báo cáo theo lược đồ / validate report files against the schema"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="REPORT")


def run(args: argparse.Namespace) -> int:
    from ..core.report_file import read_report

    failed = 0
    for path in args.files:
        try:
            read_report(path)
            print(f"OK  {path}")
        except InputError as exc:
            failed += 1
            print(f"BAD {exc}", file=sys.stderr)
    return EXIT_INPUT if failed else EXIT_READY
