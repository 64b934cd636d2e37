"""The ``egov-probe`` command line: the parser, built from the table of commands."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from typing import Optional, Sequence

from .. import __version__
from ..core.errors import InputError, OutputError
from . import (audit, enroll, evidence, fleet, import_reports, kit, mailboxes, matrix,
               policy_check, report, serve, store, token, units, upload, validate, viewer)
from .common import EXIT_INPUT

# The commands in the order ``egov-probe --help`` lists them. Each module has NAME, HELP,
# add_arguments(parser) and run(args) -> exit code; a new command is a module and a line here.
COMMANDS = (audit, evidence, units, validate, policy_check, fleet, import_reports, matrix, report,
            store, mailboxes, kit, serve, token, enroll, upload, viewer)
DEBUG_HELP = "in chi tiết lỗi (traceback) / show the traceback of an error"


def main(argv: Optional[Sequence[str]] = None,
         parser: Optional[argparse.ArgumentParser] = None) -> int:
    """Run one command. The one error boundary: whatever goes wrong, the user sees one clear
    line and exit code 2 (130 when interrupted), never a traceback unless ``--debug``.

    ``parser``: one built earlier by ``build_parser`` (many commands in one process)."""
    _utf8_stdio()
    parser = parser or build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_INPUT
    debug = bool(getattr(args, "debug", False))
    _quiet_libraries(debug)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("egov-probe: đã dừng / interrupted", file=sys.stderr)
        return 130
    except BaseException as exc:  # noqa: BLE001 - the boundary
        if isinstance(exc, SystemExit):
            raise
        print(f"egov-probe: {error_line(exc)}", file=sys.stderr)
        if debug:
            traceback.print_exc(file=sys.stderr)
        return EXIT_INPUT


def error_line(exc: BaseException) -> str:
    """One line saying what went wrong, in Vietnamese and English."""
    if isinstance(exc, OutputError):
        return f"không ghi được / cannot write: {exc}"
    if isinstance(exc, InputError):
        return f"lỗi dữ liệu vào / input error: {exc}"
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return f"lỗi tệp hoặc mạng / file or network error: {where}{exc.strerror or exc}"
    if type(exc).__module__.split(".")[0] in ("sqlite3", "psycopg"):
        return f"lỗi kho báo cáo / store error: {' '.join(str(exc).split())[:300]}"
    if isinstance(exc, MemoryError):
        return "hết bộ nhớ / out of memory (a file far too large?)"
    text = " ".join(str(exc).split())[:300]
    return (f"lỗi nội bộ / internal error ({type(exc).__name__}: {text}); chạy lại với --debug "
            f"và gửi kết quả cho nhóm phát triển / run again with --debug and send the output "
            f"to the developers")


def _quiet_libraries(debug: bool) -> None:
    """paramiko logs a traceback when a port answers something other than SSH; the fleet
    reports that host as unreachable, so the traceback is only shown with --debug."""
    if not debug:
        logger = logging.getLogger("paramiko")
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def _utf8_stdio() -> None:
    """UTF-8 out; a file name in another encoding prints with its odd bytes escaped."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="egov-probe",
        description="Khảo sát máy trạm cho phần mềm lõi HCM Egov Framework 2.0 (Nghệ An). "
                    "Readiness probe for the Nghệ An e-government pilot.")
    parser.add_argument("--version", action="version", version=f"egov-probe {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for command in COMMANDS:
        sub = subparsers.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.add_arguments(sub)
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                         help=DEBUG_HELP)
        sub.set_defaults(handler=command.run)
    return parser


if __name__ == "__main__":
    sys.exit(main())
