"""The provincial mail server, as far as the relay test needs it: a real Postfix on the lab's
bridge address, offering STARTTLS with a certificate from a CA of the test's choosing, accepting
mail from the lab's network and delivering it to a Maildir the test reads."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.servers.ca import Issued
from tests.servers.mail import _CORE_SERVICES
from tests.servers.ports import wait_listening
from tests.servers.procs import Managed, Server

MAIL_UID = MAIL_GID = 65534


class ProvincialRelay(Managed):
    def __init__(self, tls: Issued, address: str, port: int, network: str, domain: str) -> None:
        self.tls, self.address, self.port, self.network, self.domain = (tls, address, port,
                                                                       network, domain)
        self.folder = Path(tempfile.mkdtemp(prefix="egov-relay-"))
        self.folder.chmod(0o755)
        self.server: Server | None = None

    @property
    def inbox(self) -> Path:
        return self.folder / "mail" / "inbox" / "new"

    def received(self) -> list[str]:
        return [p.read_text(errors="replace") for p in sorted(self.inbox.glob("*"))] \
            if self.inbox.is_dir() else []

    def _conf(self) -> Path:
        d = self.folder
        for sub in ("postfix", "spool", "data", "mail"):
            (d / sub).mkdir(exist_ok=True)
        shutil.chown(d / "data", "postfix", "postfix")
        shutil.chown(d / "mail", MAIL_UID, MAIL_GID)
        shutil.copy(self.tls.cert, d / "relay.crt")
        shutil.copy(self.tls.key, d / "relay.key")
        (d / "postfix" / "main.cf").write_text(f"""
compatibility_level = 3.6
queue_directory = {d}/spool
data_directory = {d}/data
mail_owner = postfix
myhostname = relay.egov.test
mydestination =
inet_interfaces = {self.address}
inet_protocols = ipv4
maillog_file_prefixes = {d}
maillog_file = {d}/postfix.log
alias_maps =
alias_database =
mynetworks = {self.network}
smtpd_tls_cert_file = {d}/relay.crt
smtpd_tls_key_file = {d}/relay.key
smtpd_tls_security_level = may
smtpd_relay_restrictions = permit_mynetworks, reject
virtual_mailbox_domains = {self.domain}
virtual_mailbox_base = {d}/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:{MAIL_UID}
virtual_gid_maps = static:{MAIL_GID}
""")
        (d / "postfix" / "master.cf").write_text(
            f"{self.address}:{self.port} inet n - n - - smtpd\n"
            "virtual   unix  -       n       n       -       -       virtual\n"
            + _CORE_SERVICES)
        return d / "postfix"

    def start(self) -> "ProvincialRelay":
        if self.server is None:
            conf = self._conf()
            self.server = Server(["postfix", "-c", str(conf), "start-fg"],
                                 self.folder / "postfix.stdout").start()
            try:
                wait_listening(self.address, self.port, timeout=20)
            except RuntimeError as exc:
                logs = "\n".join(p.read_text(errors="replace") for p in (
                    self.folder / "postfix.log", self.folder / "postfix.stdout") if p.exists())
                self.stop()
                raise RuntimeError(f"{exc}\n{logs}") from None
        return self

    def stop(self) -> None:
        if self.server:
            subprocess.run(["postfix", "-c", str(self.folder / "postfix"), "stop"],
                           capture_output=True, check=False)
            self.server.stop()
            self.server = None
        shutil.rmtree(self.folder, ignore_errors=True)
