"""``egov-probe viewer add|disable|list``: the accounts that may look at the live page of
``egov-probe serve`` (docs/collector.md). A viewer only views: it cannot upload."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from .common import EXIT_READY
from .store_options import STORE_ENV, open_store

NAME = "viewer"
HELP = ("tài khoản xem trang theo dõi trực tiếp / accounts of the live page (viewer add NAME, "
        "viewer disable NAME, viewer list)")
PASSWORD_ENV = "EGOV_VIEWER_PASSWORD"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("add", "disable", "list"),
                        help="add: a new viewer (password asked twice, or $EGOV_VIEWER_PASSWORD); "
                             "disable: ends the viewer's sessions and logins; list: the viewers")
    parser.add_argument("name", nargs="?", metavar="NAME", help="tên đăng nhập / the login name")
    parser.add_argument("--reset", action="store_true",
                        help="add: đặt mật khẩu mới cho người xem đã có / a new password for an "
                             "existing viewer (and enable it again)")
    parser.add_argument("--store", metavar="FILE|URL",
                        help=f"kho báo cáo / the store (default: ${STORE_ENV} or "
                             f"egov-store.sqlite)")


def run(args: argparse.Namespace) -> int:
    from ..collector.viewers import (add_viewer, check_name, check_password, disable_viewer,
                                     list_viewers)
    from ..core.errors import InputError

    if args.action != "list" and not args.name:
        raise InputError(f"viewer {args.action} needs the viewer's NAME", field="NAME")
    if args.action == "add":  # the password first: nothing is opened if it is refused
        check_name(args.name)
        password = _password()
        check_password(password)
    database = open_store(args)
    try:
        if args.action == "add":
            add_viewer(database, args.name, password, replace=args.reset)
            print(f"Đã {'đặt lại mật khẩu cho' if args.reset else 'thêm'} người xem / viewer "
                  f"{'password reset' if args.reset else 'added'}: {args.name}")
        elif args.action == "disable":
            disable_viewer(database, args.name)
            print(f"Đã khoá người xem / viewer disabled: {args.name}")
        else:
            for viewer in list_viewers(database):
                state = "active" if viewer.active else f"disabled {viewer.disabled_at}"
                print(f"{viewer.name}\t{viewer.created_at}\t{state}")
    finally:
        database.close()
    return EXIT_READY


def _password() -> str:
    """From $EGOV_VIEWER_PASSWORD, else asked twice without echo (never an argument)."""
    from ..core.errors import InputError

    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        raise InputError(f"no terminal to ask the password on: set ${PASSWORD_ENV}",
                         field="password")
    first = getpass.getpass("Mật khẩu / password: ")
    if getpass.getpass("Nhập lại / again: ") != first:
        raise InputError("the two passwords differ", field="password")
    return first
