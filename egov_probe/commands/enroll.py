"""``egov-probe enroll``: make this probe's key and register it with the collector for the
unit the token belongs to (docs/collector.md, "Enrollment")."""

from __future__ import annotations

import argparse
import socket
import sys

from .upload_options import (EXIT_INPUT, EXIT_SENT, EXIT_WAITING, add_connection_args,
                             identity_dir, this_machine_id, token_from, warn_insecure)

NAME = "enroll"
HELP = ("đăng ký máy này với máy chủ thu thập / enroll this probe with the collector "
        "(exit 0 enrolled, 1 server busy or unreachable: try later, 2 refused or input error)")
REFUSALS = {
    "token_invalid": "mã đăng ký không đúng / the token is not valid",
    "token_expired": "mã đăng ký đã hết hạn / the token has expired",
    "token_used_up": "mã đăng ký đã dùng hết lượt / the token has been used up",
    "token_revoked": "mã đăng ký đã bị thu hồi / the token was revoked",
    "unit_revoked": "đơn vị đã bị thu hồi quyền gửi / the unit's access was revoked",
    "key_already_enrolled": "khóa này đã được đăng ký (máy sao chép?) / this key is enrolled "
                            "already (a cloned machine?)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_connection_args(parser, server_required=True)
    parser.add_argument("--token", metavar="T",
                        help="mã đăng ký / the enrollment token (better: $EGOV_ENROLL_TOKEN or "
                             "the prompt; on the command line it shows in the process list)")
    parser.add_argument("--unit", metavar="UNIT_ID",
                        help="đơn vị mong đợi / the unit the token should be for (checked)")
    parser.add_argument("--max-time", type=float, default=120.0, metavar="S",
                        help="chờ máy chủ bận tối đa / wait for a busy server at most S "
                             "seconds (default 120)")


def run(args: argparse.Namespace) -> int:
    from ..core.signing import generate_private_key
    from ..upload.backoff import Backoff, Timing
    from ..upload.identity import PendingKey, new_record
    from ..upload.sender import (EnrollRequest, HttpClient, ServerTls, TlsVerifyError,
                                 parse_server, post_enroll)

    server = parse_server(args.server)
    token = token_from(args)
    warn_insecure(args)
    tls = ServerTls(args.ca_file, args.insecure)
    tls.context()  # a bad --ca-file is said before a token is spent
    machine_id = this_machine_id()
    pending = PendingKey(identity_dir(args), generate_private_key())
    try:
        try:
            answer = post_enroll(HttpClient(server, tls),
                                 EnrollRequest(token, pending.public_key, socket.gethostname(),
                                               machine_id),
                                 Backoff(), Timing(), args.max_time)
        except TlsVerifyError as exc:
            print(f"egov-probe: không đăng ký được / not enrolled: {exc}", file=sys.stderr)
            return EXIT_INPUT
        except OSError as exc:
            print(f"egov-probe: không kết nối được máy chủ, thử lại sau / cannot reach the "
                  f"server, try again later ({exc})", file=sys.stderr)
            return EXIT_WAITING
        if answer.status != 201:
            return _refused(answer)
        identity = pending.commit(new_record(args.server.strip().rstrip("/"), answer.json(),
                                             pending.public_key, machine_id, args.ca_file))
    finally:
        pending.discard()
    record = identity.record
    print(f"đã đăng ký / enrolled: đơn vị / unit {record.unit_id} "
          f"({record.unit_name or record.unit_id}), khóa / key {record.key_id}, "
          f"{identity.folder}")
    if args.unit and args.unit != record.unit_id:
        print(f"egov-probe: mã này thuộc đơn vị {record.unit_id}, không phải {args.unit} / "
              f"the token is for unit {record.unit_id}, not {args.unit}", file=sys.stderr)
        return EXIT_INPUT
    return EXIT_SENT


def _refused(answer) -> int:
    error = answer.error()
    if answer.status in (429, 503) or answer.status >= 500:
        print(f"egov-probe: máy chủ bận, thử lại sau / the server is busy (HTTP "
              f"{answer.status}), try again later", file=sys.stderr)
        return EXIT_WAITING
    print(f"egov-probe: không đăng ký được / not enrolled (HTTP {answer.status}): "
          f"{REFUSALS.get(error, error)}", file=sys.stderr)
    return EXIT_INPUT
