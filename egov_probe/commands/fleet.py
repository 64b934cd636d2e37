"""``egov-probe fleet``: audit the workstations of an Ansible inventory over SSH and WinRM."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys
from pathlib import Path

from ..core.errors import InputError
from .common import DEFAULT_OUT, EXIT_NOT_READY, EXIT_READY
from .upload_options import add_upload_args

EXIT_INTERRUPTED = 130
PASSWORD_ENV = "EGOV_FLEET_PASSWORD"
INSECURE_WARNING = (
    "\n!!! CẢNH BÁO: KHÔNG kiểm tra khóa máy chủ SSH (--insecure-skip-host-key-check): kẻ gian "
    "có thể mạo danh máy trạm và nhận mật khẩu.\n"
    "!!! WARNING: SSH host keys are NOT verified (--insecure-skip-host-key-check): anyone on "
    "the path can impersonate a workstation and receive its password.\n\n")
NAME = "fleet"
HELP = ("khảo sát các máy trạm trong kho Ansible qua SSH/WinRM / audit the inventory's "
        "workstations over SSH and WinRM (exit 0 all ready, 1 some not, 2 input error, "
        "130 interrupted)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("-i", "--inventory", type=Path, action="append", metavar="INVENTORY",
        help="Ansible inventory file or folder (repeatable)")
    add("--limit", metavar="PATTERN", help="Ansible host pattern (groups, hosts, wildcards, !x, &y)")
    add("--forks", type=int, default=32, help="hosts audited at once (default 32)")
    add("--out", type=Path, default=Path(DEFAULT_OUT), metavar="DIR",
        help=f"report folder, one OUT/<host>.json per host (default {DEFAULT_OUT})")
    add("--since", metavar="TIME", type=_since,
        help="skip hosts with a complete report in OUT finished since TIME (ISO 8601; "
             "without a zone: this machine's local time)")
    add("--force", action="store_true", help="audit every host even with --since")
    add("--policy", type=Path, metavar="FILE", help="policy file (default: the shipped one)")
    add("--deadline", type=float, default=120.0, metavar="SECONDS",
        help="time allowed to each host, connection included (default 120)")
    add("--connect-timeout", type=float, default=10.0, metavar="SECONDS")
    add("--retries", type=int, default=3, help="connection attempts per host (default 3)")
    add("--known-hosts", action="append", metavar="FILE",
        help="known_hosts file (repeatable; default ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts)")
    add("--insecure-skip-host-key-check", action="store_true",
        help="DANGEROUS: accept any SSH host key (say so loudly, recorded in every report)")
    add("--insecure-skip-winrm-cert-check", action="store_true",
        help="DANGEROUS: accept any WinRM TLS certificate, like ansible_winrm_server_cert_"
             "validation: ignore (say so loudly, recorded in every report)")
    add("-k", "--ask-pass", action="store_true",
        help=f"ask for the login password once (else from the vault or ${PASSWORD_ENV})")
    add("--vault-password-file", action="append", default=[], metavar="FILE")
    add("--vault-id", action="append", default=[], metavar="ID")
    add("-J", "--ask-vault-pass", action="store_true")
    add("--network", action="store_true",
        help="also the network and signature checks, run ON each Linux host with its own "
             "python3 (the probe is sent over the SSH session, nothing installed); Windows "
             "hosts and hosts without python3 get 'not checked'")
    add("--lang", choices=("vi", "en"), default="vi")
    add("--print-collector", action="store_true",
        help="print the Linux collector script with a new record mark (used by "
             "playbooks/audit_workstations.yml; --from-evidence reads the mark back from "
             "DIR/collector.sh)")
    add("--from-evidence", type=Path, metavar="DIR",
        help="judge collector outputs that Ansible fetched (DIR/<host>.out) instead of connecting")
    add("--upload", action="store_true",
        help="gửi báo cáo lên máy chủ thu thập / queue each report written, signed with its "
             "unit's identity on this machine, and send them (egov-probe enroll per unit)")
    add_upload_args(parser)


def _since(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time like 2026-11-28T08:00 or 2026-11-28T01:00Z, found {text!r}"
        ) from exc
    return moment if moment.tzinfo else moment.astimezone()


def run(args: argparse.Namespace) -> int:
    if args.print_collector:
        from ..fleet.linux import new_collector
        sys.stdout.write(new_collector().script)
        return EXIT_READY
    if not args.inventory:
        raise InputError("an inventory is required (-i INVENTORY)", field="-i")
    if args.network and args.from_evidence:
        raise InputError("the network checks run on the hosts over SSH: not with "
                         "--from-evidence (run egov-probe fleet --network, or egov-probe audit "
                         "--network on the machines)", field="--network")
    if args.forks < 1:
        raise InputError(f"expected a positive number, found {args.forks}", field="--forks")
    from ..fleet.inventory import VaultOptions, load_targets
    from ..fleet.progress import Progress
    from ..fleet.runner import run_fleet

    targets = load_targets(args.inventory, args.limit, VaultOptions(
        tuple(args.vault_password_file), tuple(args.vault_id), args.ask_vault_pass),
        _password(args))
    if args.insecure_skip_host_key_check:
        sys.stderr.write(INSECURE_WARNING)
    settings = _settings(args)
    _warn_unverified_winrm(targets, settings.transport)
    progress = Progress(len(targets), sys.stderr, args.lang)
    if args.from_evidence:
        from ..fleet.ansible_path import import_evidence
        result = import_evidence(targets, settings, progress, args.from_evidence)
    else:
        result = run_fleet(targets, settings, progress)
    code = _print_result(result, args.lang)
    if args.upload and not result.interrupted:
        _upload(args, result)
    return code


def _upload(args: argparse.Namespace, result) -> None:
    """Queue each report written with its unit's identity, then send; a host whose unit has
    no identity here is named, not dropped silently. The exit code stays the readiness."""
    from .upload_options import (identities, open_outbox, queue_report, send_outbox,
                                 warn_insecure)

    warn_insecure(args)
    ids = identities(args)
    outbox = open_outbox(args)
    for name in sorted(result.reports):
        try:
            queue_report(result.reports[name], ids, outbox)
        except (InputError, OSError) as exc:
            print(f"egov-probe: {name}: không đưa vào hàng đợi / not queued: {exc}",
                  file=sys.stderr)
    try:
        if send_outbox(args, ids, outbox):
            print(f"egov-probe: còn báo cáo chờ gửi / reports still wait in {outbox.folder} "
                  f"(egov-probe upload)", file=sys.stderr)
    except (InputError, OSError) as exc:
        print(f"egov-probe: chưa gửi được / not uploaded: {exc}", file=sys.stderr)


def _warn_unverified_winrm(targets, transport) -> None:
    """One loud warning per switch that leaves WinRM hosts unverified, naming the hosts."""
    from ..core import messages
    from ..fleet.collect import unverified_because

    by_switch: dict[str, list[str]] = {}
    for target in targets:
        switch = unverified_because(target, transport)
        if target.connection == "winrm" and switch:
            by_switch.setdefault(switch, []).append(target.name)
    for switch, hosts in by_switch.items():
        warning = messages.text("fleet.winrm_unverified", "warning", switch=switch,
                                hosts=", ".join(hosts))
        sys.stderr.write(f"\n{warning.vi}\n{warning.en}\n\n")


def _password(args: argparse.Namespace):
    from ..core.secret import Secret

    if args.ask_pass:
        return Secret(getpass.getpass("Mật khẩu đăng nhập / login password: "))
    value = os.environ.get(PASSWORD_ENV)
    return Secret(value) if value else None


def _settings(args: argparse.Namespace):
    from ..fleet.collect import TransportOptions
    from ..fleet.runner import FleetSettings
    from ..fleet.ssh import SshOptions, default_known_hosts

    ssh = SshOptions(known_hosts=tuple(args.known_hosts or default_known_hosts()),
                     check_host_keys=not args.insecure_skip_host_key_check,
                     connect_timeout=args.connect_timeout, retries=max(1, args.retries))
    return FleetSettings(out=args.out, forks=args.forks, deadline_s=args.deadline,
                         since=args.since, force=args.force, policy_path=args.policy,
                         transport=TransportOptions(
                             ssh=ssh, winrm_insecure=args.insecure_skip_winrm_cert_check),
                         network=args.network)


def _print_result(result, lang: str) -> int:
    from ..fleet.progress import LABELS

    index = 1 if lang == "en" else 0
    for name in sorted(result.reports):
        label = LABELS[result.categories[name]][index]
        print(f"{name}\t{label}\t{result.reports[name]}")
    for name in result.skipped:
        print(f"{name}\t{LABELS['skipped'][index]}")
    if result.interrupted:
        left = len(result.not_done)
        print(("đã dừng: {n} máy chưa khảo sát, chạy lại với --since để tiếp tục" if index == 0
               else "interrupted: {n} hosts not audited; run again with --since to resume"
               ).format(n=left), file=sys.stderr)
        return EXIT_INTERRUPTED
    all_ready = all(result.categories[name] == "ready" for name in result.reports)
    return EXIT_READY if all_ready else EXIT_NOT_READY
