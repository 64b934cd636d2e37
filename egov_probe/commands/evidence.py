"""``egov-probe evidence``: dump the raw values the collectors read (to make a test fixture)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .common import EXIT_READY

NAME = "evidence"
HELP = "ghi dữ liệu thô mà bộ thu thập đọc được / dump the raw values the collectors read"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="tệp JSON để ghi / JSON file to write (default: standard output)")


def run(args: argparse.Namespace) -> int:
    from ..audit.evidence import collect_evidence
    from ..core.atomic import write_json_atomic, writes_through

    data = collect_evidence()
    if args.out:
        quiet = writes_through(args.out)  # stdout, a device or a pipe gets the data alone
        write_json_atomic(args.out, data)
        if not quiet:
            print(args.out)
    else:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    return EXIT_READY
