"""Official mailbox facts: SMTP submission with STARTTLS and AUTH, IMAPS login and EXAMINE.

Nothing is sent and nothing changes: the SMTP session ends after AUTH (no MAIL FROM), and
the inbox is opened read-only (EXAMINE), never SELECTed. The password is a ``Secret`` (the
mailbox review's: its repr hides it) from an interactive prompt or one environment variable; it is never
written anywhere, and any server text that would echo it is masked.
"""

from __future__ import annotations

import base64
import getpass
import imaplib
import smtplib
import ssl
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from ..core.secret import Secret
from .net_tcp import socket_error_code
from .net_types import ServiceUrl, Step, timed

DEFAULT_PASSWORD_ENV = "EGOV_MAIL_PASSWORD"
_DISABLED_CODES = ("[EXPIRED]", "[CONTACTADMIN]", "[AUTHORIZATIONFAILED]")
_DISABLED_WORDS = ("disabled", "locked", "expired", "suspended", "khóa", "khoa")


def mask(secret: Secret, text: str) -> str:
    """``text`` with the password replaced by ``***`` (a server may echo what it was sent)."""
    value = secret.reveal()
    return text.replace(value, "***") if value else text


def password_from_environment(name: str, environ: Mapping[str, str]) -> Optional[Secret]:
    value = environ.get(name)
    return Secret(value) if value else None


def password_from_prompt(user: str, prompt: Callable[[str], str] = getpass.getpass
                         ) -> Optional[Secret]:
    """Ask without echo; an empty answer is no password."""
    value = prompt(f"Mật khẩu hòm thư / mailbox password for {user}: ")
    return Secret(value) if value else None


@dataclass
class MailProbe:
    """One mail service's session: its steps and how it ended (``ok`` or a failure code)."""

    service: str
    url: str
    steps: list[Step] = field(default_factory=list)
    outcome: str = "ok"
    server_said: Optional[str] = None

    def end(self, step: Step, outcome: str, message: str, secret: Secret, **data: Any) -> None:
        """Record the failing step and the outcome, masking the password in any server text."""
        said = mask(secret, message)
        step.fail(outcome, said, **data)
        self.outcome, self.server_said = outcome, said

    @property
    def failed_step(self) -> Optional[str]:
        return next((s.step for s in self.steps if s.ok is False), None)

    def as_dict(self) -> dict[str, Any]:
        return {"service": self.service, "url": self.url, "outcome": self.outcome,
                "server_said": self.server_said, "steps": [s.as_dict() for s in self.steps]}


def _text(response: Any) -> str:
    if isinstance(response, bytes):
        return response.decode("utf-8", "replace")
    if isinstance(response, (list, tuple)):
        return " ".join(_text(r) for r in response)
    return str(response)


def _begin(probe: MailProbe, name: str) -> Step:
    step = Step(name)
    probe.steps.append(step)
    return step


# --- SMTP submission ------------------------------------------------------------------------


def probe_submission(url: str, user: str, secret: Secret, context: ssl.SSLContext,
                     timeout: float) -> MailProbe:
    """EHLO, STARTTLS (required, verified), EHLO again, AUTH; then QUIT. No mail is sent."""
    target, probe = ServiceUrl.from_url(url), MailProbe("submission", url)
    with timed(_begin(probe, "connect")) as step:
        try:
            smtp = smtplib.SMTP(target.host, target.port, timeout=timeout)
        except (OSError, smtplib.SMTPException) as exc:
            probe.end(step, "unreachable", str(exc), secret, detail=_os_code(exc))
            return probe
        step.succeed()
    try:
        _smtp_session(smtp, user, secret, context, probe)
    finally:
        _smtp_quit(smtp, probe)
    return probe


def _smtp_session(smtp: smtplib.SMTP, user: str, secret: Secret, context: ssl.SSLContext,
                  probe: MailProbe) -> None:
    if not _smtp_ehlo(smtp, probe, "ehlo", secret):
        return None
    if not smtp.has_extn("starttls"):
        return probe.end(_begin(probe, "starttls"), "starttls_missing",
                         "STARTTLS not offered", secret)
    with timed(_begin(probe, "starttls")) as step:
        try:
            smtp.starttls(context=context)
        except ssl.SSLError as exc:
            return probe.end(step, "tls_failed", _ssl_text(exc), secret)
        except (OSError, smtplib.SMTPException) as exc:
            return probe.end(step, "server_error", str(exc), secret)
        step.succeed(protocol=smtp.sock.version() if hasattr(smtp.sock, "version") else None)
    if not _smtp_ehlo(smtp, probe, "ehlo_tls", secret):
        return None
    _smtp_auth(smtp, user, secret, probe)
    return None


def _smtp_ehlo(smtp: smtplib.SMTP, probe: MailProbe, name: str, secret: Secret) -> bool:
    with timed(_begin(probe, name)) as step:
        try:
            code, answer = smtp.ehlo()
        except (OSError, smtplib.SMTPException) as exc:
            probe.end(step, "server_error", str(exc), secret)
            return False
        if code != 250:
            probe.end(step, "server_error", f"{code} {_text(answer)}", secret)
            return False
        step.succeed(extensions=sorted(smtp.esmtp_features))
    return True


def _smtp_auth(smtp: smtplib.SMTP, user: str, secret: Secret, probe: MailProbe) -> None:
    step = _begin(probe, "auth")
    if not smtp.has_extn("auth"):
        probe.end(step, "auth_missing", "AUTH not offered after STARTTLS", secret)
        return
    offered = smtp.esmtp_features["auth"].upper().split()
    mechanism = "PLAIN" if "PLAIN" in offered else "LOGIN"
    with timed(step):
        try:
            code, answer = _smtp_auth_exchange(smtp, mechanism, user, secret)
        except (OSError, smtplib.SMTPException) as exc:
            probe.end(step, _login_error(exc), str(exc), secret, mechanism=mechanism)
            return
        said = f"{code} {_text(answer)}"
        if code != 235:
            probe.end(step, _auth_outcome(said, code), said, secret, mechanism=mechanism)
            return
        step.succeed(mechanism=mechanism, reply=said)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _smtp_auth_exchange(smtp: smtplib.SMTP, mechanism: str, user: str, secret: Secret
                        ) -> tuple[int, bytes]:
    """AUTH PLAIN or LOGIN with UTF-8 credentials (smtplib's own AUTH accepts ASCII only)."""
    if mechanism == "PLAIN":
        return smtp.docmd("AUTH", "PLAIN " + _b64(f"\0{user}\0{secret.reveal()}"))
    code, answer = smtp.docmd("AUTH", "LOGIN")
    for value in (user, secret.reveal()):
        if code != 334:
            break
        code, answer = smtp.docmd(_b64(value))
    return code, answer


def _smtp_quit(smtp: smtplib.SMTP, probe: MailProbe) -> None:
    if smtp.sock is None:
        return
    with timed(_begin(probe, "quit")) as step:
        try:
            smtp.quit()
            step.succeed()
        except (OSError, smtplib.SMTPException) as exc:
            step.fail("server_error", str(exc))
            smtp.close()


def _auth_outcome(said: str, code: int) -> str:
    """What a refused login means, as far as the server says."""
    lowered = said.lower()
    if any(c.lower() in lowered for c in _DISABLED_CODES) or any(
            w in lowered for w in _DISABLED_WORDS):
        return "account_disabled"
    if code in (454, 421) or "[unavailable]" in lowered:
        return "server_error"
    return "wrong_password"


def _login_error(exc: BaseException) -> str:
    """No answer to a login in time (servers slow down after wrong passwords), else an error."""
    timed_out = isinstance(exc, OSError) and socket_error_code(exc) == "timeout"
    return "login_timeout" if timed_out else "server_error"


def _os_code(exc: BaseException) -> str:
    return socket_error_code(exc) if isinstance(exc, OSError) else "smtp_error"


def _ssl_text(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return exc.verify_message or str(exc)
    return str(exc)


# --- IMAPS ----------------------------------------------------------------------------------


def probe_imap(url: str, user: str, secret: Secret, context: ssl.SSLContext,
               timeout: float) -> MailProbe:
    """TLS connect (verified), LOGIN, EXAMINE INBOX (read-only), LOGOUT."""
    target, probe = ServiceUrl.from_url(url), MailProbe("imap", url)
    imap = _imap_connect(target, context, timeout, secret, probe)
    if imap is None:
        return probe
    try:
        if _imap_login(imap, user, secret, probe):
            _imap_examine(imap, secret, probe)
    finally:
        with timed(_begin(probe, "logout")) as step:
            try:
                imap.logout()
                step.succeed()
            except (OSError, imaplib.IMAP4.error) as exc:
                step.fail("server_error", str(exc))
    return probe


def _imap_connect(target: ServiceUrl, context: ssl.SSLContext, timeout: float, secret: Secret,
                  probe: MailProbe) -> Optional[imaplib.IMAP4_SSL]:
    with timed(_begin(probe, "connect_tls")) as step:
        try:
            imap = imaplib.IMAP4_SSL(target.host, target.port, ssl_context=context,
                                     timeout=timeout)
        except ssl.SSLError as exc:
            probe.end(step, "tls_failed", _ssl_text(exc), secret)
            return None
        except (OSError, imaplib.IMAP4.error) as exc:
            probe.end(step, "unreachable", str(exc), secret, detail=_os_code(exc))
            return None
        step.succeed(protocol=imap.sock.version(), capabilities=sorted(imap.capabilities))
    return imap


def _imap_login(imap: imaplib.IMAP4_SSL, user: str, secret: Secret, probe: MailProbe) -> bool:
    """AUTHENTICATE PLAIN (UTF-8 safe) when offered, else LOGIN."""
    with timed(_begin(probe, "login")) as step:
        plain = "AUTH=PLAIN" in imap.capabilities
        try:
            if plain:
                imap.authenticate("PLAIN", lambda _challenge: (
                    f"\0{user}\0{secret.reveal()}".encode("utf-8")))
            else:
                imap.login(user, secret.reveal())
        except imaplib.IMAP4.error as exc:
            said = _text(exc.args[0] if exc.args else exc)
            probe.end(step, _auth_outcome(said, 535), said, secret)
            return False
        except (OSError, UnicodeError) as exc:
            probe.end(step, _login_error(exc), str(exc), secret)
            return False
        step.succeed(mechanism="AUTHENTICATE PLAIN" if plain else "LOGIN")
    return True


def _imap_examine(imap: imaplib.IMAP4_SSL, secret: Secret, probe: MailProbe) -> None:
    with timed(_begin(probe, "examine")) as step:
        try:
            status, data = imap.select("INBOX", readonly=True)  # sends EXAMINE
        except (OSError, imaplib.IMAP4.error) as exc:
            return probe.end(step, "server_error", str(exc), secret)
        if status != "OK":
            return probe.end(step, "server_error", _text(data), secret)
        step.succeed(command="EXAMINE INBOX", messages=int(_text(data[0]) or 0))
    return None


def tls_context(ca_file: Optional[str]) -> ssl.SSLContext:
    """Verified TLS 1.2+ with the system's trust store (plus ``ca_file``)."""
    from .net_tls import client_context

    return client_context(ca_file)




@dataclass(frozen=True)
class MailboxLogin:
    """The officer's address and password (None: none was given), and where one is looked for."""

    user: str
    secret: Optional[Secret]
    password_env: str = DEFAULT_PASSWORD_ENV


def mailbox_login(user: str, rules: Mapping, *, ask: bool, environ: Mapping[str, str],
                  prompt: Callable[[str], str] = getpass.getpass) -> MailboxLogin:
    """The password from the prompt when ``ask``, else from the policy's environment variable."""
    env = rules.get("password_env", DEFAULT_PASSWORD_ENV)
    secret = password_from_prompt(user, prompt) if ask else password_from_environment(env,
                                                                                       environ)
    return MailboxLogin(user, secret, env)


def collect_mailbox(rules: Mapping, login: MailboxLogin, ca_file: Optional[str]
                    ) -> list[MailProbe]:
    """Both sessions, one after the other (never in parallel: one login at a time)."""
    assert login.secret is not None
    context, timeout = tls_context(ca_file), float(rules.get("timeout_s", 10))
    probes = []
    if rules.get("submission_url"):
        probes.append(probe_submission(rules["submission_url"], login.user, login.secret,
                                       context, timeout))
    if rules.get("imap_url"):
        probes.append(probe_imap(rules["imap_url"], login.user, login.secret, context,
                                 timeout))
    return probes
