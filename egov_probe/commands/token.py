"""``egov-probe token create|list|revoke|restore``: enrollment tokens of the collector
(docs/collector.md, "EnrollmentRequest"). A token is printed once, when made; the store keeps only
its SHA-256."""

from __future__ import annotations

import argparse
import difflib
import sys

from .common import EXIT_INPUT, EXIT_READY
from .store_options import add_store_args, open_store

NAME = "token"
HELP = ("mã đăng ký máy khảo sát / enrollment tokens for the collector: create, list, "
        "revoke, restore")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="tạo mã (in một lần) / make a token, shown once")
    create.add_argument("--unit", required=True, metavar="UNIT_ID", help="đơn vị / the unit")
    create.add_argument("--ttl", default="7d", help="hiệu lực / valid for (30m, 12h, 7d, 2w; "
                                                    "default: 7d)")
    create.add_argument("--uses", type=int, metavar="N",
                        help="số lần dùng / enrollments it allows (default: no limit)")
    create.add_argument("--note", help="ghi chú / a note shown by `token list`")
    actions.add_parser("list", help="liệt kê (không in mã) / list tokens (never their text)")
    revoke = actions.add_parser("revoke", help="thu hồi một mã hoặc cả đơn vị / revoke a "
                                               "token, or every token and key of a unit")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("token_id", nargs="?", type=int, metavar="ID", help="mã số / token id")
    which.add_argument("--unit", metavar="UNIT_ID", help="cả đơn vị / the whole unit")
    which.add_argument("--key", metavar="KEY_ID", help="khóa của một máy / one probe's key "
                                                       "(a stolen or cloned machine)")
    revoke.add_argument("--reason", help="lý do / why (unit revocation)")
    restore = actions.add_parser("restore", help="khôi phục đơn vị / undo a unit's revocation")
    restore.add_argument("--unit", required=True, metavar="UNIT_ID")
    for sub in actions.choices.values():
        add_store_args(sub)


def run(args: argparse.Namespace) -> int:
    from ..core.clock import utc_now

    action = {"create": _create, "list": _list, "revoke": _revoke, "restore": _restore}
    database = open_store(args)
    try:
        return action[args.action](args, database, utc_now())
    finally:
        database.close()


def known_unit(args: argparse.Namespace) -> str:
    """``--unit``, when the inventory (or the shipped units) has it; InputError otherwise."""
    from ..core.errors import InputError
    from ..matrix.inventory import load_unit_infos

    unit_ids = sorted(info.unit.unit_id for info in load_unit_infos(args.inventory))
    if args.unit not in unit_ids:
        near = difflib.get_close_matches(args.unit, unit_ids, n=3, cutoff=0.5)
        hint = f"; did you mean: {', '.join(near)}?" if near else ""
        raise InputError(f"unknown unit id {args.unit!r} (not in the inventory){hint}",
                         field="--unit")
    return args.unit


def _create(args: argparse.Namespace, database, now) -> int:
    from ..collector.access import create_token, parse_ttl
    from ..core.errors import InputError

    if args.uses is not None and args.uses < 1:
        raise InputError(f"expected at least 1, found {args.uses}", field="--uses")
    made = create_token(database, known_unit(args), now, parse_ttl(args.ttl), args.uses,
                        args.note)
    uses = made.uses if made.uses is not None else "∞"
    print(f"Mã đăng ký số / token {made.token_id} cho đơn vị / for unit {made.unit_id}, hết hạn "
          f"/ expires {made.expires_at}, số lần / uses {uses}. Mã chỉ hiện một lần / shown "
          f"once only:", file=sys.stderr)
    print(made.token, flush=True)
    return EXIT_READY


def _list(args: argparse.Namespace, database, now) -> int:
    from ..collector.access import list_tokens, revoked_units

    revoked = revoked_units(database)
    print("id\tđơn vị/unit\ttrạng thái/state\tcòn/uses_left\tmáy/keys\thết hạn/expires\t"
          "ghi chú/note")
    for token in list_tokens(database):
        uses = "-" if token.uses_left is None else token.uses_left
        print(f"{token.token_id}\t{token.unit_id}\t{token.state(now, revoked)}\t{uses}\t"
              f"{token.keys}\t{token.expires_at}\t{token.note or ''}")
    if revoked:
        print(f"Đơn vị bị thu hồi / revoked units: {', '.join(sorted(revoked))}")
    return EXIT_READY


def _revoke(args: argparse.Namespace, database, now) -> int:
    from ..collector.access import revoke_key, revoke_token, revoke_unit

    if args.key is not None:
        if not revoke_key(database, args.key.strip().lower(), now):
            print(f"egov-probe: không có khóa / no key {args.key}", file=sys.stderr)
            return EXIT_INPUT
        print(f"Khóa / key {args.key}: đã thu hồi / revoked")
        return EXIT_READY
    if args.unit is not None:
        unit_id = known_unit(args)
        done = revoke_unit(database, unit_id, now, args.reason)
        state = "đã thu hồi / revoked" if done else "đã bị thu hồi từ trước / was revoked already"
        print(f"Đơn vị / unit {unit_id}: {state} (mọi mã và khóa / every token and key)")
        return EXIT_READY
    if not revoke_token(database, args.token_id, now):
        print(f"egov-probe: không có mã số / no token {args.token_id}", file=sys.stderr)
        return EXIT_INPUT
    print(f"Mã số / token {args.token_id}: đã thu hồi / revoked")
    return EXIT_READY


def _restore(args: argparse.Namespace, database, now) -> int:
    from ..collector.access import restore_unit

    unit_id = known_unit(args)
    done = restore_unit(database, unit_id)
    state = "đã khôi phục / restored" if done else "không bị thu hồi / was not revoked"
    print(f"Đơn vị / unit {unit_id}: {state}")
    return EXIT_READY
