"""``egov-probe upload``: queue reports in the outbox, signed with their unit's identity, and
send the whole outbox to the collector (docs/collector.md, "Upload")."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..core.errors import InputError
from .upload_options import (EXIT_INPUT, EXIT_REENROLL, EXIT_WAITING, add_upload_args,
                             identities, open_outbox, queue_report, send_outbox, warn_insecure)

NAME = "upload"
HELP = ("gửi báo cáo lên máy chủ thu thập / upload reports to the collector (exit 0 all sent, "
        "1 some still waiting, 2 input error or refused by the server, 3 enroll again)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path, metavar="FILES|DIRS",
                        help="báo cáo cần gửi (tệp hoặc thư mục) / report files or folders to "
                             "queue; without any, only what waits in the outbox is sent")
    add_upload_args(parser)


def run(args: argparse.Namespace) -> int:
    warn_insecure(args)
    ids = identities(args)
    outbox = open_outbox(args)
    problems = 0
    for path in report_files(args.paths):
        try:
            queue_report(path, ids, outbox)
        except InputError as exc:
            print(f"egov-probe: không đưa vào hàng đợi / not queued: {exc}", file=sys.stderr)
            problems += 1
    code = send_outbox(args, ids, outbox)
    return code if code in (EXIT_REENROLL, EXIT_WAITING) or not problems else EXIT_INPUT


def report_files(paths: list[Path]) -> list[Path]:
    """The files given, and the reports (``*.json``, not mailbox reviews) in the folders."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += [p for p in sorted(path.rglob("*.json")) if not _is_other_document(p)]
        elif path.is_file():
            found.append(path)
        else:
            raise InputError("no such file or folder", path=str(path))
    return found


def _is_other_document(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    try:
        kind = json.loads(head).get("kind")
    except (ValueError, AttributeError):
        return b'"kind": "mailbox_review"' in head
    return kind == "mailbox_review"
