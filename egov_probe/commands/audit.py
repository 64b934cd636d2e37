"""``egov-probe audit``: audit this machine and write its report."""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from pathlib import Path

from ..core.errors import InputError
from .common import DEFAULT_OUT, EXIT_NOT_READY, EXIT_READY, add_unit_source_args, load_units
from .upload_options import add_upload_args

NAME = "audit"
HELP = "khảo sát máy này / audit this machine (exit 0 ready, 1 not ready, 2 input error)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
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
    add_unit_source_args(parser)
    parser.add_argument("--upload", action="store_true",
                        help="gửi báo cáo lên máy chủ thu thập / also upload the report (the "
                             "unit must be enrolled: egov-probe enroll); the exit code stays "
                             "the readiness")
    add_upload_args(parser)


def run(args: argparse.Namespace) -> int:
    from ..audit.run import run_audit
    from ..core.report_file import write_report_atomic
    from ..core.units import find_unit
    from ..judge.policy import load_policy
    from ..render.summary import render_summary

    unit = find_unit(load_units(args.inventory), args.unit) if args.unit else None
    officer = unicodedata.normalize("NFC", args.officer.strip()) if args.officer else None
    policy = load_policy(args.policy, phase=unit.phase if unit else None,
                         unit_id=unit.unit_id if unit else None)
    report = run_audit(policy, unit=unit, officer=officer, sections=_sections(args, policy))
    path = write_report_atomic(report, args.out)
    _sign_and_upload(args, path, report.host)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(render_summary(report, args.lang, str(path),
                                        unit.name_vi if unit else None))
    return EXIT_NOT_READY if report.readiness() == "not_ready" else EXIT_READY


def _sign_and_upload(args: argparse.Namespace, path: Path, host) -> None:
    """The ``.sig`` beside the report when its unit has an identity here; with ``--upload``
    the report is queued and sent. Upload trouble is said on stderr, never changes the exit
    code (that is the machine's readiness). ``host``: the report's, whose machine id the
    audit has just read (not read again)."""
    from ..upload.identity import has_identity
    from .upload_options import (Identities, identity_dir, open_outbox, queue_report,
                                 send_outbox, sign_beside, warn_insecure)

    if not args.upload and not has_identity(identity_dir(args), host.unit_id):
        return  # nothing to sign with, nothing to send: the report is not read again
    if args.upload:
        warn_insecure(args)
    try:
        ids = Identities(identity_dir(args), host.machine_id)
        sign_beside(path, ids)
        if args.upload:
            outbox = open_outbox(args)
            queue_report(path, ids, outbox)
            code = send_outbox(args, ids, outbox)
            if code:
                print(f"egov-probe: báo cáo chưa gửi hết, còn trong hàng đợi / not everything "
                      f"was sent; the report waits in {outbox.folder} (egov-probe upload)",
                      file=sys.stderr)
    except (InputError, OSError) as exc:
        print(f"egov-probe: chưa gửi được / not uploaded: {exc}", file=sys.stderr)


def _sections(args: argparse.Namespace, policy) -> list:
    from ..audit.sections import audit_sections

    if args.ask_password and not args.mailbox_user:
        raise InputError("needs --mailbox-user ADDRESS", field="--ask-password")
    login = None
    if args.mailbox_user:
        from ..facts.mailbox import mailbox_login

        if "@" not in args.mailbox_user.strip("@"):
            raise InputError(f"expected a mail address like ten@nghean.gov.vn, found "
                             f"{args.mailbox_user!r}", field="--mailbox-user")
        login = mailbox_login(args.mailbox_user, policy.section("mailbox"),
                              ask=args.ask_password, environ=os.environ)
    return audit_sections(network=args.network, mailbox=login)
