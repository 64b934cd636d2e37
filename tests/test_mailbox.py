"""The official mailbox against real Postfix (submission, STARTTLS, SASL via Dovecot) and
Dovecot (IMAPS), started by the tests on loopback ports with a test mailbox."""

from __future__ import annotations

import pytest

from egov_probe.core.model import Status
from egov_probe.core.secret import Secret
from egov_probe.facts.mailbox import mask, probe_imap, probe_submission, tls_context
from egov_probe.judge.mailbox import judge_mail, not_checked
from tests.servers.ca import TestCA
from tests.servers.mail import MailServers
from tests.servers.ports import free_port

pytestmark = pytest.mark.services

USER, PASSWORD = "lan.nt@egov.test", "Ngh3-An!mật-khẩu"
DISABLED = "khoa.tk@egov.test"
MESSAGE = "From: vanthu@egov.test\nTo: lan.nt@egov.test\nSubject: Giay moi hop\n\nNoi dung.\n"


@pytest.fixture(scope="module")
def mail(tmp_path_factory):
    ca = TestCA(tmp_path_factory.mktemp("mailca"))
    servers = MailServers(ca.issue("mail", "127.0.0.1", "localhost"),
                          {USER: PASSWORD, DISABLED: "Khoa-123"}, disabled=[DISABLED])
    with servers:
        servers.ca = ca
        yield servers


def _urls(mail, submission_port=None):
    return (f"smtp://127.0.0.1:{submission_port or mail.submission_port}",
            f"imaps://127.0.0.1:{mail.imaps_port}")


def _both(mail, user=USER, password=PASSWORD, trusted=True, submission_port=None):
    context = tls_context(str(mail.ca.root.cert) if trusted else None)
    smtp_url, imap_url = _urls(mail, submission_port)
    secret = Secret(password)
    return (judge_mail(probe_submission(smtp_url, user, secret, context, 5), user),
            judge_mail(probe_imap(imap_url, user, secret, context, 5), user))


def _flags(mail, user):
    return mail.doveadm("fetch", "-u", user, "flags uid", "mailbox", "INBOX", "ALL")


def test_right_password_logs_in_and_out_without_changing_the_mailbox(mail):
    mail.deliver(USER, MESSAGE)
    before = _flags(mail, USER)
    submission, imap = _both(mail)
    assert submission.status is Status.PASS, submission.details
    assert imap.status is Status.PASS, imap.details
    smtp_steps = [s["step"] for s in submission.details["steps"]]
    assert smtp_steps == ["connect", "ehlo", "starttls", "ehlo_tls", "auth", "quit"]
    examine = next(s for s in imap.details["steps"] if s["step"] == "examine")
    assert examine["command"] == "EXAMINE INBOX" and examine["messages"] == 1
    assert [s["step"] for s in imap.details["steps"]][-1] == "logout"
    after = _flags(mail, USER)
    assert after == before and "\\Seen" not in after
    logs = mail.logs()
    assert "ehlo=2 starttls=1 auth=1 quit=1 commands=5" in logs  # no MAIL/RCPT/DATA
    assert "Logged out" in logs and "deleted=0 expunged=0" in logs


def test_wrong_password(mail):
    submission, imap = _both(mail, password="sai-mat-khau")
    for check, step in ((submission, "auth"), (imap, "login")):
        assert check.status is Status.FAIL
        assert (check.details["failed_step"], check.details["error"]) == (step, "wrong_password")
        assert "Sai tên đăng nhập hoặc mật khẩu" in check.remedy.vi
    assert "535" in submission.remedy.en and "AUTHENTICATIONFAILED" in imap.remedy.en


def test_missing_account_reads_as_a_wrong_login_because_the_server_says_no_more(mail):
    """Dovecot answers an unknown user exactly as a wrong password (no account probing)."""
    submission, imap = _both(mail, user="khongco@egov.test", password=PASSWORD)
    assert submission.details["error"] == imap.details["error"] == "wrong_password"
    assert "khongco@egov.test" in imap.remedy.vi


def test_disabled_account_as_far_as_the_server_says(mail):
    """Dovecot's ``nologin`` refuses IMAP logins with its reason; Postfix's SASL through
    Dovecot does not apply it (only login services do), and the probe reports just that."""
    submission, imap = _both(mail, user=DISABLED, password="Khoa-123")
    assert (imap.status, imap.details["failed_step"]) == (Status.FAIL, "login")
    assert imap.details["error"] == "account_disabled"
    assert "bị khóa" in imap.remedy.vi and "[CONTACTADMIN] account-disabled" in imap.remedy.en
    assert submission.status is Status.PASS


def test_starttls_not_offered_stops_before_any_password_is_sent(mail):
    submission, _imap = _both(mail, submission_port=mail.plain_port)
    assert submission.status is Status.FAIL
    assert (submission.details["failed_step"], submission.details["error"]) == (
        "starttls", "starttls_missing")
    assert "auth" not in [s["step"] for s in submission.details["steps"]]
    assert "STARTTLS" in submission.remedy.vi


def test_certificate_not_trusted(mail):
    submission, imap = _both(mail, trusted=False)
    assert (submission.details["failed_step"], submission.details["error"]) == (
        "starttls", "tls_failed")
    assert (imap.details["failed_step"], imap.details["error"]) == ("connect_tls", "tls_failed")
    assert "unable to get local issuer certificate" in imap.remedy.en
    assert "Lỗi TLS" in submission.remedy.vi


def test_server_unreachable(mail):
    port = free_port()
    context = tls_context(str(mail.ca.root.cert))
    for probe in (probe_submission(f"smtp://127.0.0.1:{port}", USER, Secret(PASSWORD),
                                   context, 2),
                  probe_imap(f"imaps://127.0.0.1:{port}", USER, Secret(PASSWORD), context, 2)):
        check = judge_mail(probe, USER)
        assert check.status is Status.FAIL and check.details["error"] == "unreachable"
        assert f"cổng {port}" in check.remedy.vi


def test_no_user_skips_and_no_password_is_an_error_that_says_how_to_give_one():
    assert not_checked("imap", "imaps://mail.example:993", None, "X").status is Status.SKIPPED
    check = not_checked("imap", "imaps://mail.example:993", USER, "EGOV_MAIL_PASSWORD")
    assert check.status is Status.ERROR and "EGOV_MAIL_PASSWORD" in check.remedy.vi
    assert "--ask-password" in check.remedy.en


def test_secret_never_shows_itself():
    secret = Secret(PASSWORD)
    assert PASSWORD not in repr(secret) and PASSWORD not in str(secret)
    assert mask(secret, f"echo {PASSWORD}!") == "echo ***!"


def test_password_comes_from_the_prompt_or_the_policy_variable_only():
    from egov_probe.facts.mailbox import mailbox_login

    rules = {"password_env": "HOP_THU_PW"}
    asked = mailbox_login(USER, rules, ask=True, environ={"HOP_THU_PW": "env"},
                          prompt=lambda _text: PASSWORD)
    assert asked.secret.reveal() == PASSWORD
    from_env = mailbox_login(USER, rules, ask=False, environ={"HOP_THU_PW": "env",
                                                            "EGOV_MAIL_PASSWORD": "other"})
    assert from_env.secret.reveal() == "env" and from_env.password_env == "HOP_THU_PW"
    assert mailbox_login(USER, {}, ask=False, environ={}).secret is None
    assert mailbox_login(USER, {}, ask=True, environ={}, prompt=lambda _t: "").secret is None


def test_a_server_slowing_down_after_wrong_passwords_is_told_apart(tmp_path_factory):
    """Dovecot's own authentication penalty: after one failure from this address the next
    answer comes after seconds; past the probe's timeout that is a login_timeout."""
    ca = TestCA(tmp_path_factory.mktemp("penaltyca"))
    context = tls_context(str(ca.root.cert))
    with MailServers(ca.issue("mail", "127.0.0.1"), {USER: PASSWORD}, auth_penalty=True) as mail:
        url = f"imaps://127.0.0.1:{mail.imaps_port}"
        first = probe_imap(url, USER, Secret("sai-1"), context, 1.5)
        second = probe_imap(url, USER, Secret("sai-2"), context, 1.5)
    assert first.outcome == "wrong_password"
    check = judge_mail(second, USER)
    assert (check.details["failed_step"], check.details["error"]) == ("login", "login_timeout")
    assert "chống dò mật khẩu" in check.remedy.vi
