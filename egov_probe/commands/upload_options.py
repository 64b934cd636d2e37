"""What ``enroll``, ``upload``, ``audit --upload`` and ``fleet --upload`` share: the options
for the collector, this machine's id, the identity folder, signing and queueing reports, and
sending the outbox (docs/collector.md)."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..core.errors import InputError

EXIT_SENT, EXIT_WAITING, EXIT_INPUT, EXIT_REENROLL = 0, 1, 2, 3
DEFAULT_MAX_TIME = 600.0


def add_connection_args(parser: argparse.ArgumentParser, server_required: bool = False) -> None:
    add = parser.add_argument
    add("--server", metavar="URL", required=server_required,
        help="máy chủ thu thập / the collector, https://SERVER[:PORT]"
             + ("" if server_required else " (default: the one the unit enrolled with)"))
    add("--ca-file", type=Path, metavar="FILE",
        help="chứng chỉ CA của máy chủ (PEM) / the server's CA certificate (default: the "
             "system's store, or the one given at enrollment)")
    add("--insecure", action="store_true",
        help="NGUY HIỂM / DANGEROUS: do not verify the server's TLS certificate (said loudly)")
    add("--identity", type=Path, metavar="DIR",
        help="thư mục danh tính / identity folder (default $EGOV_IDENTITY, "
             "/var/lib/egov-probe/identity as root, ~/.local/share/egov-probe/identity, "
             "%%ProgramData%%\\egov-probe\\identity on Windows)")


def add_upload_args(parser: argparse.ArgumentParser) -> None:
    add_connection_args(parser)
    parser.add_argument("--outbox", type=Path, metavar="DIR",
                        help="hàng đợi gửi / the outbox (default: IDENTITY/../outbox)")
    parser.add_argument("--max-time", type=float, default=DEFAULT_MAX_TIME, metavar="S",
                        help=f"thời gian gửi tối đa / stop sending after S seconds; what is "
                             f"left waits for the next run (default {DEFAULT_MAX_TIME:.0f})")


def identity_dir(args: argparse.Namespace) -> Path:
    from ..upload.identity import default_identity_dir
    return args.identity or default_identity_dir()


def outbox_dir(args: argparse.Namespace) -> Path:
    return args.outbox or identity_dir(args).resolve().parent / "outbox"


def this_machine_id() -> Optional[str]:
    """``/etc/machine-id`` on Linux, ``MachineGuid`` on Windows (the audit's own reading)."""
    from ..facts.system import machine_identity_fact
    return (machine_identity_fact().value or {}).get("machine_id")


def warn_insecure(args: argparse.Namespace) -> None:
    if getattr(args, "insecure", False):
        from ..upload.sender import INSECURE_WARNING
        sys.stderr.write(INSECURE_WARNING)


@dataclass
class Identities:
    """The identities of one run, loaded once per unit (an error too, said once)."""

    folder: Path
    machine_id: Optional[str]
    loaded: dict = field(default_factory=dict)

    def get(self, unit_id: str):
        from ..upload.identity import load_identity
        if unit_id not in self.loaded:
            try:
                self.loaded[unit_id] = load_identity(self.folder, unit_id, self.machine_id)
            except InputError as exc:
                self.loaded[unit_id] = exc
            except ImportError as exc:  # cryptography's Rust part needs Windows 10 or newer
                self.loaded[unit_id] = InputError(
                    f"không nạp được thư viện ký số / cannot load the signing library on this "
                    f"system ({exc}); reports are not signed here (Windows 10 or newer, or "
                    f"Linux, is needed)")
        found = self.loaded[unit_id]
        if isinstance(found, InputError):
            raise found
        return found

    def exists(self, unit_id: Optional[str]) -> bool:
        from ..upload.identity import has_identity
        return has_identity(self.folder, unit_id)


def identities(args: argparse.Namespace) -> Identities:
    return Identities(identity_dir(args), this_machine_id())


def sign_beside(report: Path, ids: Identities) -> Optional[Path]:
    """``<report>.json.sig`` beside a report when its unit has an identity here; a problem
    with the identity (a clone, a key readable by others) is said, the report stays."""
    from ..core.atomic import write_text_atomic
    from ..core.signing import sidecar_path, sign_report
    from ..upload.outbox import report_header

    data = Path(report).read_bytes()
    unit = report_header(data, str(report)).unit_id
    if not ids.exists(unit):
        return None
    try:
        identity = ids.get(unit)
    except InputError as exc:
        print(f"egov-probe: báo cáo không được ký / report not signed: {exc}", file=sys.stderr)
        return None
    return write_text_atomic(sidecar_path(report), sign_report(identity.private_key,
                                                               data).to_json())


def queue_report(path: Path, ids: Identities, outbox) -> None:
    """Queue one report file, signed with its unit's identity (InputError when it has none)."""
    from ..upload.outbox import report_header

    data = Path(path).read_bytes()
    unit = report_header(data, str(path)).unit_id
    if not unit:
        raise InputError("a report without a unit (host.unit_id) cannot be uploaded",
                         path=str(path), field="host.unit_id")
    if not ids.exists(unit):
        raise InputError(f"no identity for unit {unit!r} in {ids.folder}: enroll first "
                         f"(egov-probe enroll --server URL) / chưa đăng ký đơn vị {unit}",
                         path=str(path))
    identity = ids.get(unit)
    queued = outbox.queue(data, identity.private_key, str(path), unit_id=unit)
    for evicted in queued.evicted:
        print(f"egov-probe: hàng đợi đầy, bỏ báo cáo cũ / outbox full, dropped the old report "
              f"{evicted}", file=sys.stderr)


def open_outbox(args: argparse.Namespace):
    from ..upload.outbox import Outbox
    return Outbox(outbox_dir(args))


def send_outbox(args: argparse.Namespace, ids: Identities, outbox) -> int:
    """Send everything waiting; the exit code as ``exit_code`` says."""
    from ..upload.sender import HttpClient, Sender, ServerTls, parse_server

    override = parse_server(args.server) if args.server else None

    def client_for(identity) -> HttpClient:
        server = override or parse_server(identity.record.server)
        ca_file = args.ca_file or (Path(identity.record.ca_file) if identity.record.ca_file
                                   else None)
        return HttpClient(server, ServerTls(ca_file, args.insecure))

    if args.max_time <= 0:
        raise InputError(f"expected a positive number of seconds, found {args.max_time}",
                         field="--max-time")
    result = Sender(outbox, ids.get, client_for, max_time=args.max_time).send_all()
    if result.total == 0:
        print("egov-probe: không có báo cáo chờ gửi / nothing waiting to be sent",
              file=sys.stderr)
    return exit_code(result.reenroll, result.waiting, result.rejected)


def exit_code(reenroll, waiting: int, refused: int) -> int:
    """3 enroll again, else 1 some wait (worth another run), else 2 some were refused (by
    the server: ``rejected/``, or bad input here), else 0."""
    if reenroll:
        return EXIT_REENROLL
    if waiting:
        return EXIT_WAITING
    return EXIT_INPUT if refused else EXIT_SENT


def token_from(args: argparse.Namespace, environ=os.environ) -> str:
    """The enrollment token: ``--token`` (warned: visible to every user in the process list),
    ``$EGOV_ENROLL_TOKEN``, or a prompt."""
    import getpass

    if args.token:
        print("egov-probe: CẢNH BÁO: mã đăng ký trên dòng lệnh hiện trong danh sách tiến trình "
              "/ WARNING: a token on the command line is visible in the process list (use "
              "$EGOV_ENROLL_TOKEN or the prompt)", file=sys.stderr)
        token = args.token
    elif environ.get("EGOV_ENROLL_TOKEN"):
        token = environ["EGOV_ENROLL_TOKEN"]
    elif sys.stdin is not None and sys.stdin.isatty():
        token = getpass.getpass("Mã đăng ký / enrollment token: ")
    else:
        raise InputError("no token: give it in $EGOV_ENROLL_TOKEN or type it at the prompt",
                         field="--token")
    token = token.strip()
    if not token.startswith("egt_") or len(token) < 20:
        raise InputError("expected a token made by `egov-probe token create` (egt_…)",
                         field="--token")
    return token
