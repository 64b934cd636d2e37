"""The ``egov-probe`` command line: the parser, built from the table of commands."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from .. import __version__
from ..core.errors import InputError
from . import (audit, evidence, fleet, import_reports, mailboxes, matrix, policy_check, report,
               units, validate)
from .common import EXIT_INPUT

# The commands in the order ``egov-probe --help`` lists them. Each module has NAME, HELP,
# add_arguments(parser) and run(args) -> exit code; a new command is a module and a line here.
COMMANDS = (audit, evidence, units, validate, policy_check, fleet, import_reports, matrix, report,
            mailboxes)


def main(argv: Optional[Sequence[str]] = None) -> int:
    _utf8_stdio()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_INPUT
    try:
        return args.handler(args)
    except InputError as exc:
        print(f"egov-probe: lỗi dữ liệu vào / input error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("egov-probe: đã dừng / interrupted", file=sys.stderr)
        return 130


def _utf8_stdio() -> None:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure") and (stream.encoding or "").lower() != "utf-8":
            stream.reconfigure(encoding="utf-8", errors="replace")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="egov-probe",
        description="Khảo sát máy trạm cho phần mềm lõi HCM Egov Framework 2.0 (Nghệ An). "
                    "Readiness probe for the Nghệ An e-government pilot.")
    parser.add_argument("--version", action="version", version=f"egov-probe {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for command in COMMANDS:
        sub = subparsers.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.add_arguments(sub)
        sub.set_defaults(handler=command.run)
    return parser


if __name__ == "__main__":
    sys.exit(main())
