"""The ``egov-probe`` command line."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import unicodedata
from pathlib import Path
from typing import Callable, Optional, Sequence

from . import __version__
from .errors import InputError

EXIT_READY, EXIT_NOT_READY, EXIT_INPUT = 0, 1, 2
DEFAULT_OUT = "egov-reports"

# Modules that add their own sub-commands: each has ``register(commands)`` that calls
# ``add_command(commands, name, arguments, handler, help_text)``. One line per module.
COMMAND_MODULES: tuple[str, ...] = (
    "egov_probe.commands_fleet",
    "egov_probe.commands_store",
    "egov_probe.commands_mailboxes",
)


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
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    add_command(commands, "audit", _audit_args, cmd_audit,
         "khảo sát máy này / audit this machine (exit 0 ready, 1 not ready, 2 input error)")
    add_command(commands, "evidence", _evidence_args, cmd_evidence,
         "ghi dữ liệu thô mà bộ thu thập đọc được / dump the raw values the collectors read")
    add_command(commands, "units", _units_args, cmd_units, "liệt kê đơn vị thí điểm / list the pilot units")
    add_command(commands, "validate", _validate_args, cmd_validate,
         "kiểm tra tệp báo cáo theo lược đồ / validate report files against the schema")
    add_command(commands, "policy-check", _policy_check_args, cmd_policy_check,
         "kiểm tra tệp chính sách / validate a policy file")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(commands)
    return parser


def add_command(commands: argparse._SubParsersAction, name: str,
         arguments: Callable[[argparse.ArgumentParser], None],
         handler: Callable[[argparse.Namespace], int], help_text: str) -> None:
    sub = commands.add_parser(name, help=help_text, description=help_text)
    arguments(sub)
    sub.set_defaults(handler=handler)





def _unit_source_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-i", "--inventory", type=Path,
                        help="Ansible YAML inventory (file or folder) with the unit groups; "
                             "default: the units shipped with the probe")


def _audit_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--unit", metavar="UNIT_ID", help="mã đơn vị / unit id (see `egov-probe units`)")
    parser.add_argument("--officer", metavar="NAME", help="cán bộ sử dụng máy / the officer using this machine")
    parser.add_argument("--policy", type=Path, metavar="FILE", help="tệp chính sách YAML / policy file")
    parser.add_argument("--out", type=Path, default=Path(DEFAULT_OUT), metavar="DIR",
                        help=f"thư mục lưu báo cáo / report folder (default: {DEFAULT_OUT})")
    parser.add_argument("--lang", choices=("vi", "en"), default="vi", help="ngôn ngữ / language")
    parser.add_argument("--json", action="store_true", help="in báo cáo JSON / print the report as JSON")
    parser.add_argument("--network", action=argparse.BooleanOptionalAction, default=False,
                        help="kiểm tra kết nối, đồng hồ, chữ ký số theo chính sách / check the "
                             "policy's endpoints, the clock and the signature services")
    parser.add_argument("--mailbox-user", metavar="ADDRESS",
                        help="kiểm tra hòm thư công vụ này / check this official mailbox "
                             "(password from $EGOV_MAIL_PASSWORD or --ask-password)")
    parser.add_argument("--ask-password", action="store_true",
                        help="hỏi mật khẩu hòm thư / prompt for the mailbox password")
    _unit_source_args(parser)


def _evidence_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="tệp JSON để ghi / JSON file to write (default: standard output)")


def _units_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--phase", type=int, choices=(1, 2))
    _unit_source_args(parser)


def _validate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="REPORT")


def _policy_check_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("policy", type=Path, metavar="FILE")


def load_units(inventory: Optional[Path]):
    from .units import load_units_csv, units_from_inventory
    return units_from_inventory(inventory) if inventory else load_units_csv()


def cmd_audit(args: argparse.Namespace) -> int:
    from .audit import run_audit
    from .policy import load_policy
    from .render.summary import render_summary
    from .report_io import write_report_atomic
    from .units import find_unit

    unit = find_unit(load_units(args.inventory), args.unit) if args.unit else None
    officer = unicodedata.normalize("NFC", args.officer.strip()) if args.officer else None
    policy = load_policy(args.policy, phase=unit.phase if unit else None,
                         unit_id=unit.unit_id if unit else None)
    report = run_audit(policy, unit=unit, officer=officer, sections=_audit_sections(args, policy))
    path = write_report_atomic(report, args.out)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(render_summary(report, args.lang, str(path),
                                        unit.name_vi if unit else None))
    return EXIT_NOT_READY if report.readiness() == "not_ready" else EXIT_READY


def _audit_sections(args: argparse.Namespace, policy) -> list:
    from .audit import audit_sections

    if args.ask_password and not args.mailbox_user:
        raise InputError("needs --mailbox-user ADDRESS", field="--ask-password")
    login = None
    if args.mailbox_user:
        from .facts.mailbox import mailbox_login

        if "@" not in args.mailbox_user.strip("@"):
            raise InputError(f"expected a mail address like ten@nghean.gov.vn, found "
                             f"{args.mailbox_user!r}", field="--mailbox-user")
        login = mailbox_login(args.mailbox_user, policy.section("mailbox"),
                              ask=args.ask_password, environ=os.environ)
    return audit_sections(network=args.network, mailbox=login)


def cmd_evidence(args: argparse.Namespace) -> int:
    from .evidence import collect_evidence
    from .report_io import write_json_atomic, writes_through

    data = collect_evidence()
    if args.out:
        quiet = writes_through(args.out)  # stdout, a device or a pipe gets the data alone
        write_json_atomic(args.out, data)
        if not quiet:
            print(args.out)
    else:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    return EXIT_READY


def cmd_units(args: argparse.Namespace) -> int:
    for unit in load_units(args.inventory):
        if args.phase in (None, unit.phase):
            print(f"{unit.unit_id}\t{unit.phase}\t{unit.gso_code or '-'}\t{unit.name_vi}")
    return EXIT_READY


def cmd_validate(args: argparse.Namespace) -> int:
    from .report_io import read_report

    failed = 0
    for path in args.files:
        try:
            read_report(path)
            print(f"OK  {path}")
        except InputError as exc:
            failed += 1
            print(f"BAD {exc}", file=sys.stderr)
    return EXIT_INPUT if failed else EXIT_READY


def cmd_policy_check(args: argparse.Namespace) -> int:
    from .policy import load_policy

    policy = load_policy(args.policy)
    print(f"OK  {args.policy}: {policy.policy_id} v{policy.version} sha256 {policy.sha256}")
    return EXIT_READY


if __name__ == "__main__":
    sys.exit(main())
