"""``egov-probe mailboxes``: officer rosters against the provincial directory (LDAP)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.errors import InputError
from .common import DEFAULT_OUT, add_unit_source_args, load_units

EXIT_ALL_WORKING, EXIT_SOME_LACKING, EXIT_INPUT, EXIT_DIRECTORY = 0, 1, 2, 3
NAME = "mailboxes"
HELP = ("rà soát hòm thư công vụ của cán bộ theo thư mục LDAP của tỉnh / check every "
        "officer's official mailbox against the provincial directory (exit 0 all working, "
        "1 some lacking, 2 input error, 3 directory error)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..mailboxes.credentials import READ_PASSWORD_ENV, WRITE_PASSWORD_ENV

    parser.add_argument("rosters", nargs="+", type=Path, metavar="ROSTER",
                        help="danh sách cán bộ / officer roster (.csv UTF-8 or .xlsx)")
    parser.add_argument("--directory", required=True, metavar="URL",
                        help="ldap://HOST[:PORT] (StartTLS) or ldaps://HOST[:PORT]")
    parser.add_argument("--bind-dn", required=True, metavar="DN",
                        help="read-only account; password from --vault-file, "
                             f"${READ_PASSWORD_ENV} or a prompt")
    parser.add_argument("--unit", metavar="UNIT_ID", help="only this unit of the rosters")
    parser.add_argument("--ca-file", type=Path, metavar="FILE",
                        help="CA certificate(s) (PEM) the directory's certificate must chain to; "
                             "default: the system's trusted CAs")
    parser.add_argument("--no-verify-tls", action="store_true",
                        help="DANGER: do not verify the directory's certificate (testing only)")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="naming rule, directory layout and disabled markers (YAML); "
                             "default: the shipped mailbox_naming.yml")
    parser.add_argument("--vault-file", type=Path, metavar="FILE",
                        help="ansible-vault vars file holding the passwords")
    parser.add_argument("--vault-key", default="ldap_bind_password", metavar="NAME",
                        help="its variable with the read-only password (default: %(default)s)")
    parser.add_argument("--vault-password-file", type=Path, metavar="FILE",
                        help="the vault's password file (default: $ANSIBLE_VAULT_PASSWORD_FILE)")
    parser.add_argument("--apply", action="store_true",
                        help="add the proposed entries to the directory (needs --write-bind-dn)")
    parser.add_argument("--write-bind-dn", metavar="DN",
                        help="account allowed to add entries; password from --vault-file "
                             f"(--write-vault-key), ${WRITE_PASSWORD_ENV} or a prompt")
    parser.add_argument("--write-vault-key", default="ldap_write_password", metavar="NAME",
                        help="the vault variable with the write password (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path(DEFAULT_OUT), metavar="DIR",
                        help=f"thư mục lưu kết quả / output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--lang", choices=("vi", "en"), default="vi", help="ngôn ngữ / language")
    parser.add_argument("--debug-log", type=Path, metavar="FILE",
                        help="write the LDAP library's detailed log here (passwords hidden)")
    add_unit_source_args(parser)


def run(args: argparse.Namespace) -> int:
    from ..core.messages import text
    from ..mailboxes.directory import DirectoryError
    from ..mailboxes.run import run_review

    _need("ldap3", "egov-probe[directory]")
    if args.vault_file:
        _need("ansible", "egov-probe[remote]")
    if args.apply and not args.write_bind_dn:
        raise InputError("--apply needs --write-bind-dn (an account allowed to add entries)",
                         field="--apply")
    if args.no_verify_tls:
        warning = text("mailboxes.no_verify")
        print(f"!!! {warning.vi}\n!!! {warning.en}", file=sys.stderr)
    if args.debug_log:
        _debug_log(args.debug_log)
    try:
        outcome = run_review(review_request(args))
    except DirectoryError as exc:
        print(text("mailboxes.directory_error", error=exc).get(args.lang), file=sys.stderr)
        return EXIT_DIRECTORY
    sys.stdout.write(outcome.summary(args.lang))
    return EXIT_ALL_WORKING if outcome.all_working else EXIT_SOME_LACKING


def _need(module: str, extra: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise InputError(f"this needs the Python package {module}: pip install '{extra}'",
                         field=module)


def review_request(args: argparse.Namespace):
    """The run the options ask for; bad options are InputErrors naming the option."""
    from ..mailboxes.config import load_config
    from ..mailboxes.credentials import READ_PASSWORD_ENV, WRITE_PASSWORD_ENV, PasswordSource
    from ..mailboxes.directory import DirectoryAddress, TlsSettings
    from ..mailboxes.run import ReviewRequest

    try:
        address = DirectoryAddress.parse(args.directory)
    except ValueError as exc:
        raise InputError(str(exc), field="--directory") from exc
    if args.ca_file and not args.ca_file.is_file():
        raise InputError("CA file not found", path=str(args.ca_file), field="--ca-file")

    def account(dn: str, env_var: str, key: str) -> tuple[str, PasswordSource]:
        return dn, PasswordSource(label=f"account {dn}", env_var=env_var,
                                  vault_file=args.vault_file, vault_key=key,
                                  vault_password_file=args.vault_password_file)

    return ReviewRequest(
        rosters=tuple(args.rosters), address=address,
        tls=TlsSettings(ca_file=str(args.ca_file) if args.ca_file else None,
                        verify=not args.no_verify_tls),
        read_account=account(args.bind_dn, READ_PASSWORD_ENV, args.vault_key),
        write_account=account(args.write_bind_dn, WRITE_PASSWORD_ENV, args.write_vault_key)
        if args.apply else None,
        out_dir=args.out, units=tuple(load_units(args.inventory)), unit_id=args.unit,
        config=load_config(args.config))


def _debug_log(path: Path) -> None:
    import logging

    from ldap3.utils.log import EXTENDED, set_library_log_detail_level

    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    logger = logging.getLogger("ldap3")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    set_library_log_detail_level(EXTENDED)

