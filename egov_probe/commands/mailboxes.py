"""``egov-probe mailboxes``: officer rosters against the provincial directory (LDAP)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.errors import InputError
from .common import DEFAULT_OUT, add_unit_source_args, load_units

EXIT_ALL_WORKING, EXIT_SOME_LACKING, EXIT_INPUT, EXIT_DIRECTORY, EXIT_REFUSED = 0, 1, 2, 3, 4


NAME = "mailboxes"
HELP = ("rà soát hòm thư công vụ của cán bộ theo thư mục LDAP của tỉnh, lập và áp dụng "
        "kế hoạch cấp hòm thư / check every officer's official mailbox against the "
        "provincial directory, write the provisioning plan, apply a reviewed plan "
        "(exit 0 all working or plan applied, 1 some lacking, 2 input error, "
        "3 directory error, 4 plan refused: the directory changed since the review)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..mailboxes.credentials import READ_PASSWORD_ENV, WRITE_PASSWORD_ENV

    parser.add_argument("rosters", nargs="*", type=Path, metavar="ROSTER",
                        help="danh sách cán bộ / officer roster (.csv UTF-8 or .xlsx)")
    parser.add_argument("--directory", metavar="URL",
                        help="ldap://HOST[:PORT] (StartTLS) or ldaps://HOST[:PORT] (with --apply: "
                             "default the plan's)")
    parser.add_argument("--bind-dn", metavar="DN",
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
    parser.add_argument("--apply", type=Path, metavar="PLAN",
                        help="áp dụng kế hoạch đã duyệt / apply exactly this reviewed plan "
                             "(a *.plan file written by a review; needs --write-bind-dn)")
    parser.add_argument("--store", metavar="FILE|URL",
                        help="kho ghi địa chỉ đã đề xuất / where proposed addresses are recorded "
                             "until applied, so later runs "
                             "do not propose them again: the store (default: $EGOV_STORE or "
                             "egov-store.sqlite; postgresql://... without a password)")
    parser.add_argument("--reserve-in", choices=("store", "directory"), default="store",
                        help="nơi giữ địa chỉ đã đề xuất / where proposed addresses are held until "
                             "applied: the store (default) or the directory (entries under "
                             "directory.reservations_dn, written with --write-bind-dn)")
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
    from ..mailboxes.provision import PlanRefused
    from ..mailboxes.run import run_apply, run_review

    _need("ldap3", "egov-probe[directory]")
    if args.vault_file:
        _need("ansible", "egov-probe[remote]")
    _check_mode(args)
    if args.no_verify_tls:
        warning = text("mailboxes.no_verify")
        print(f"!!! {warning.vi}\n!!! {warning.en}", file=sys.stderr)
    if args.debug_log:
        _debug_log(args.debug_log)
    try:
        if args.apply:
            applied = run_apply(apply_request(args))
            sys.stdout.write(applied.summary(args.lang))
            return EXIT_ALL_WORKING
        outcome = run_review(review_request(args))
    except DirectoryError as exc:
        print(text("mailboxes.directory_error", error=exc).get(args.lang), file=sys.stderr)
        return EXIT_DIRECTORY
    except PlanRefused as exc:
        lines = [text("mailboxes.refused", plan=args.apply).get(args.lang)]
        print("\n  - ".join(lines + [c.message(args.lang) for c in exc.conflicts]),
              file=sys.stderr)
        return EXIT_REFUSED
    sys.stdout.write(outcome.summary(args.lang))
    return EXIT_ALL_WORKING if outcome.all_working else EXIT_SOME_LACKING


def _check_mode(args: argparse.Namespace) -> None:
    """A review (rosters, --directory, --bind-dn) or an application (--apply PLAN,
    --write-bind-dn), not a mix."""
    if args.apply:
        if args.rosters:
            raise InputError("--apply takes a reviewed plan, not rosters: review first, then "
                             "apply the plan the review wrote", field="--apply")
        if not args.write_bind_dn:
            raise InputError("--apply needs --write-bind-dn (an account allowed to add entries)",
                             field="--apply")
        return
    for value, option in ((args.rosters, "ROSTER"), (args.directory, "--directory"),
                          (args.bind_dn, "--bind-dn")):
        if not value:
            raise InputError(f"a review needs {option} (or --apply PLAN to apply a reviewed "
                             f"plan)", field=option)
    if args.reserve_in == "directory" and not args.write_bind_dn:
        raise InputError("--reserve-in directory needs --write-bind-dn (an account allowed to "
                         "add entries under directory.reservations_dn)", field="--reserve-in")


def _need(module: str, extra: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise InputError(f"this needs the Python package {module}: pip install '{extra}'",
                         field=module)


def review_request(args: argparse.Namespace):
    """The review the options ask for; bad options are InputErrors naming the option."""
    from ..mailboxes.config import load_config
    from ..mailboxes.credentials import READ_PASSWORD_ENV
    from ..mailboxes.run import ReviewRequest

    return ReviewRequest(
        rosters=tuple(args.rosters), connection=_connection(args),
        read_account=_account(args, args.bind_dn, READ_PASSWORD_ENV, args.vault_key),
        out_dir=args.out, units=tuple(load_units(args.inventory)), unit_id=args.unit,
        config=load_config(args.config), open_store=_store_opener(args),
        reserve_in=args.reserve_in, write_account=_write_account(args), lang=args.lang)


def apply_request(args: argparse.Namespace):
    """Applying the plan ``--apply`` names."""
    from ..mailboxes.config import load_config
    from ..mailboxes.run import ApplyRequest

    return ApplyRequest(
        plan=args.apply, connection=_connection(args) if args.directory else None,
        tls=_tls(args), write_account=_write_account(args),
        out_dir=args.out, units=tuple(load_units(args.inventory)),
        config=load_config(args.config), open_store=_store_opener(args), lang=args.lang)


def _store_opener(args: argparse.Namespace):
    """Opens the store (``--store``, ``$EGOV_STORE``) when proposals are to be held there."""
    from .store_options import open_store

    return lambda: open_store(args)


def _write_account(args: argparse.Namespace):
    from ..mailboxes.credentials import WRITE_PASSWORD_ENV

    if not args.write_bind_dn:
        return None
    return _account(args, args.write_bind_dn, WRITE_PASSWORD_ENV, args.write_vault_key)


def _connection(args: argparse.Namespace):
    from ..mailboxes.directory import DirectoryAddress
    from ..mailboxes.run import Connection

    try:
        address = DirectoryAddress.parse(args.directory)
    except ValueError as exc:
        raise InputError(str(exc), field="--directory") from exc
    return Connection(address, _tls(args))


def _tls(args: argparse.Namespace):
    """The TLS settings; a --ca-file that is missing or holds no PEM certificate is bad input."""
    import ssl

    from ..mailboxes.directory import TlsSettings

    if args.ca_file:
        if not args.ca_file.is_file():
            raise InputError("CA file not found", path=str(args.ca_file), field="--ca-file")
        try:
            ssl.create_default_context(cafile=str(args.ca_file))
        except (ssl.SSLError, ValueError) as exc:
            raise InputError(f"expected CA certificate(s) in PEM format (-----BEGIN "
                             f"CERTIFICATE-----), the file could not be loaded: {exc}",
                             path=str(args.ca_file), field="--ca-file") from exc
    return TlsSettings(ca_file=str(args.ca_file) if args.ca_file else None,
                       verify=not args.no_verify_tls)


def _account(args: argparse.Namespace, dn: str, env_var: str, key: str):
    from ..mailboxes.credentials import PasswordSource

    return dn, PasswordSource(label=f"account {dn}", env_var=env_var,
                              vault_file=args.vault_file, vault_key=key,
                              vault_password_file=args.vault_password_file)


def _debug_log(path: Path) -> None:
    import logging

    from ldap3.utils.log import EXTENDED, set_library_log_detail_level

    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    logger = logging.getLogger("ldap3")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    set_library_log_detail_level(EXTENDED)

