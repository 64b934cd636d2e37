"""The official mailbox judged: one result for submission (SMTP) and one for reading (IMAPS).

The failing step and the outcome (unreachable, tls_failed, starttls_missing, auth_missing,
wrong_password, account_disabled, login_timeout, server_error, no_password) are in ``details``;
the remedy is the diagnosis from ``data/messages_network.yml`` (``mailbox.diagnosis``).
"""

from __future__ import annotations

from typing import Mapping, Optional

from ..core import messages
from ..core.model import CheckResult, Evidence, Status
from ..facts.mailbox import MailboxLogin, MailProbe
from ..facts.net_types import ServiceUrl

TITLES = {"submission": "mailbox.submission", "imap": "mailbox.imap"}
EXPECTED = {"submission": "EHLO → STARTTLS (verified) → EHLO → AUTH → QUIT",
            "imap": "TLS (verified) → LOGIN → EXAMINE INBOX → LOGOUT"}


def judge_mail(probe: MailProbe, user: str) -> CheckResult:
    target = ServiceUrl.from_url(probe.url)
    check = CheckResult(
        id=f"mailbox.{probe.service}", category="mailbox",
        title=messages.text(TITLES[probe.service], port=target.port),
        status=Status.PASS if probe.outcome == "ok" else Status.FAIL,
        observed=probe.outcome if probe.outcome != "ok" else _observed_ok(probe),
        expected=EXPECTED[probe.service],
        duration_ms=round(sum(s.ms for s in probe.steps), 3),
        evidence=[Evidence("network", probe.url)],
        details={"url": probe.url, "user": user, "steps": [s.as_dict() for s in probe.steps]})
    if probe.outcome != "ok":
        check.details.update(failed_step=probe.failed_step, error=probe.outcome)
        check.remedy = messages.text("mailbox.diagnosis", probe.outcome, host=target.host,
                                     port=target.port, user=user,
                                     message=probe.server_said or "")
    return check


def _observed_ok(probe: MailProbe) -> str:
    examine = next((s for s in probe.steps if s.step == "examine"), None)
    if examine is not None:
        return f"logged in, INBOX {examine.data.get('messages')} messages (read-only)"
    return "STARTTLS + AUTH ok"


def not_checked(service: str, url: str, user: Optional[str], env: str) -> CheckResult:
    """No user given: skipped. A user but no password: an error saying how to give one."""
    target = ServiceUrl.from_url(url)
    check = CheckResult(id=f"mailbox.{service}", category="mailbox",
                        title=messages.text(TITLES[service], port=target.port),
                        status=Status.SKIPPED, expected=EXPECTED[service],
                        details={"url": url, "user": user})
    if user:
        check.status = Status.ERROR
        check.observed = "no_password"
        check.details.update(error="no_password")
        check.remedy = messages.text("mailbox.diagnosis", "no_password", env=env)
    return check


def judge_mailbox(probes: list[MailProbe], rules: Mapping, login: Optional[MailboxLogin]
                  ) -> list[CheckResult]:
    """One result per service; skipped without a user, an error without a password."""
    if login is None or login.secret is None:
        env = login.password_env if login else rules.get("password_env", "EGOV_MAIL_PASSWORD")
        user = login.user if login else None
        return [not_checked(service, rules[key], user, env)
                for service, key in (("submission", "submission_url"), ("imap", "imap_url"))
                if rules.get(key)]
    return [judge_mail(probe, login.user) for probe in probes]
