"""Dovecot (IMAPS) and Postfix (submission with STARTTLS, SASL through Dovecot) for tests.

Both run with their own config and spool in one folder under /tmp (world-traversable: their
unprivileged processes must reach it), on loopback ports chosen free, with test mailboxes
from a passwd-file. ``MailServers.accounts`` maps user -> password; a user listed in
``disabled`` has the right password but ``nologin`` set, as an administrator would disable it.
Dovecot's authentication penalty (slower answers after failed logins from one address) is off
unless ``auth_penalty``: the tests' many failures from 127.0.0.1 would pile it up.

    with MailServers(ca.issue("mail", "127.0.0.1", "localhost"), {"lan@egov.test": "pw"}) as mail:
        mail.submission_port, mail.plain_port, mail.imaps_port
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping, Optional, Sequence

from .ca import Issued
from .ports import free_port, wait_listening
from .procs import Managed, Server

MAIL_UID = MAIL_GID = 65534  # nobody/nogroup own the test mailboxes
_CORE_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


_NO_AUTH_PENALTY = """
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}"""


class MailServers(Managed):
    def __init__(self, tls: Issued, accounts: Mapping[str, str],
                 disabled: Sequence[str] = (), auth_penalty: bool = False) -> None:
        self.tls, self.accounts, self.disabled = tls, dict(accounts), tuple(disabled)
        self.auth_penalty = auth_penalty  # Dovecot's default slowing down after failures
        self.folder = Path(tempfile.mkdtemp(prefix="egov-mail-"))
        self.folder.chmod(0o755)
        self.imaps_port, self.submission_port, self.plain_port = (free_port() for _ in range(3))
        self.dovecot: Optional[Server] = None
        self.postfix: Optional[Server] = None

    # --- Dovecot ----------------------------------------------------------------------------

    def _dovecot_conf(self) -> Path:
        d = self.folder
        for sub in ("run", "state", "home", "auth"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        shutil.copy(self.tls.cert, d / "mail.crt")
        shutil.copy(self.tls.key, d / "mail.key")
        lines = []
        for user, password in self.accounts.items():
            extra = "nologin=y reason=account-disabled" \
                if user in self.disabled else ""
            lines.append(f"{user}:{{PLAIN}}{password}::::::{extra}")
        (d / "passwd").write_text("\n".join(lines) + "\n")
        conf = d / "dovecot.conf"
        conf.write_text(f"""
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{d}/mail.crt
ssl_key = <{d}/mail.key
auth_mechanisms = plain login
auth_failure_delay = 0
disable_plaintext_auth = yes
first_valid_uid = 100
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = {d}/passwd
}}
userdb {{
  driver = static
  args = uid={MAIL_UID} gid={MAIL_GID} home={d}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {self.imaps_port}
    ssl = yes
  }}
}}
{"" if self.auth_penalty else _NO_AUTH_PENALTY}
service auth {{
  unix_listener {d}/auth/sasl {{
    mode = 0666
  }}
}}
""")
        return conf

    def maildir(self, user: str) -> Path:
        """The user's inbox (Maildir), created owned by the mail user."""
        root = self.folder / "home" / user / "Maildir"
        for sub in ("new", "cur", "tmp"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        for path in [root.parent, root, *(root / s for s in ("new", "cur", "tmp"))]:
            shutil.chown(path, MAIL_UID, MAIL_GID)
        return root

    def deliver(self, user: str, message: str, name: str = "1.test") -> Path:
        """Put a message in ``user``'s inbox as a delivery agent would (Maildir/new)."""
        path = self.maildir(user) / "new" / name
        path.write_text(message)
        shutil.chown(path, MAIL_UID, MAIL_GID)
        return path

    def doveadm(self, *argv: str) -> str:
        done = subprocess.run(["doveadm", "-c", str(self.folder / "dovecot.conf"), *argv],
                              capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"doveadm {' '.join(argv)}: {done.stderr}")
        return done.stdout

    # --- Postfix ----------------------------------------------------------------------------

    def _postfix_conf(self) -> Path:
        d = self.folder
        conf = d / "postfix"
        for sub in ("postfix", "spool", "data"):
            (d / sub).mkdir(exist_ok=True)
        shutil.chown(d / "data", "postfix", "postfix")
        (conf / "main.cf").write_text(f"""
compatibility_level = 3.6
queue_directory = {d}/spool
data_directory = {d}/data
mail_owner = postfix
myhostname = mail.egov.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
maillog_file_prefixes = {d}
maillog_file = {d}/postfix.log
alias_maps =
alias_database =
smtpd_tls_cert_file = {d}/mail.crt
smtpd_tls_key_file = {d}/mail.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {d}/auth/sasl
smtpd_sasl_auth_enable = yes
smtpd_error_sleep_time = 0
smtpd_relay_restrictions = permit_sasl_authenticated, reject
""")
        (conf / "master.cf").write_text(
            f"127.0.0.1:{self.submission_port} inet n - n - - smtpd\n"
            f"127.0.0.1:{self.plain_port} inet n - n - - smtpd"
            " -o smtpd_tls_security_level=none -o smtpd_sasl_auth_enable=no\n"
            + _CORE_SERVICES)
        return conf

    # --- both -------------------------------------------------------------------------------

    def start(self) -> MailServers:
        """Start both servers (once: a second call, e.g. from ``with``, changes nothing)."""
        if self.dovecot is not None:
            return self
        dovecot_conf = self._dovecot_conf()
        for user in self.accounts:
            self.maildir(user)
        self.dovecot = Server(["dovecot", "-F", "-c", str(dovecot_conf)],
                              self.folder / "dovecot.stdout").start()
        postfix_conf = self._postfix_conf()
        self.postfix = Server(["postfix", "-c", str(postfix_conf), "start-fg"],
                              self.folder / "postfix.stdout").start()
        try:
            for port in (self.imaps_port, self.submission_port, self.plain_port):
                wait_listening("127.0.0.1", port, timeout=20)
        except RuntimeError as exc:
            logs = self.logs()
            self.stop()
            raise RuntimeError(f"{exc}\n{logs}") from None
        return self

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in (
            self.folder / "dovecot.log", self.folder / "postfix.log",
            self.folder / "dovecot.stdout", self.folder / "postfix.stdout") if p.exists())

    def stop(self) -> None:
        if self.postfix:
            subprocess.run(["postfix", "-c", str(self.folder / "postfix"), "stop"],
                           capture_output=True, check=False)
            self.postfix.stop()
        if self.dovecot:
            self.dovecot.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
