"""The live page in a real browser: Debian's chromium driven by Selenium through Debian's
chromium-driver (no download), against a real uvicorn on loopback serving the collector's
page over a store with the matrix's scenario.

Reports arrive through the real upload API (an enrolled probe's signed PUT), which
announces each stored report's unit on the update bus.
"""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest

from egov_probe.collector import page
from egov_probe.collector.viewers import COOKIE, SessionSigner, add_viewer, disable_viewer
from tests.collector.conftest import enroll_probe, report_bytes, upload
from tests.collector.page_fixtures import (PASSWORD, VIEWER, browser, login,  # noqa: F401
                                           page_context, scenario_store, served,
                                           uvicorn_on_loopback, wait_live)
from egov_probe.store import import_paths
from tests.test_store_factory import make_report, write_report

pytestmark = pytest.mark.browsers
UNIT = "xa-ma-thanh"


def test_the_page_needs_a_login_and_refuses_a_wrong_password(served, browser):
    answer = served.request("GET", "/")
    assert answer.status == 303 and answer.headers["location"].startswith("/login?")
    for path in ("/rows/" + UNIT, f"/rows?unit={UNIT}", "/events", "/charts"):
        assert served.request("GET", path).status == 401, path
    assert served.request("GET", f"/units/{UNIT}").status == 303
    forged = SessionSigner(b"another secret" * 3).issue(VIEWER, time.time())
    assert served.request("GET", "/", cookie=forged).status == 303

    browser.get(served.url + "/")
    assert "/login" in browser.current_url
    assert "Đăng nhập" in browser.page_source
    login(browser, VIEWER, "sai mật khẩu rồi")
    assert browser.find_element("id", "login-error").text == "Sai tên đăng nhập hoặc mật khẩu."
    assert "/login" in browser.current_url and browser.get_cookie(COOKIE) is None
    login(browser, "không-có-ai", PASSWORD)
    assert browser.find_element("id", "login-error")
    assert browser.get_cookie(COOKIE) is None


def test_after_login_the_matrix_shows_and_a_report_changes_its_row_within_2_s(served, browser):
    browser.get(served.url + "/")
    login(browser, VIEWER, PASSWORD)
    rows = browser.find_elements("css selector", "#matrix tr.unit")
    assert len(rows) == len(served.ctx.units) == 78
    assert "MA TRẬN SẴN SÀNG" in browser.find_element("tag name", "h1").text
    row = browser.find_element("id", f"unit-{UNIT}")
    assert row.get_attribute("data-status") == "ready"
    assert row.find_element("css selector", "td.outbox").text == "không rõ"
    cookie = browser.get_cookie(COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["secure"]  # TLS

    load_id = browser.find_element("id", "page").get_attribute("data-load-id")
    browser.execute_script("window.egovTestMarker = 'still the same page';")
    wait_live(browser)
    probe = enroll_probe(served.collector, UNIT, machine_id="m-mathanh-0")
    report = make_report(UNIT, "mathanh-0", "2015-11-20T03:00:00Z", machine_id="m-mathanh-0",
                         statuses={"browser.chrome.machine": "fail"})
    started = time.monotonic()
    reply = upload(served.collector, probe, report_bytes(report), outbox=3)
    assert reply.status == 201, reply.body
    # The issue's promise: the row changes within 2 s of the upload, without reloading.
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 2.0, poll_frequency=0.05).until(lambda b: b.execute_script(
        "return document.getElementById(arguments[0]).dataset.status;", f"unit-{UNIT}")
        == "not_ready")
    delay = time.monotonic() - started
    assert delay < 2.0
    row = browser.find_element("id", f"unit-{UNIT}")
    assert "Khắc phục chrome.machine" in row.text
    assert row.find_element("css selector", "td.outbox").text == "3"
    assert row.find_element("css selector", "td.last-sent").text.startswith("20")
    assert browser.find_element("id", "page").get_attribute("data-load-id") == load_id
    assert browser.execute_script("return window.egovTestMarker;") == "still the same page"
    print(f"row updated {delay:.3f} s after the upload began")


def test_english_on_request(served, browser):
    browser.get(served.url + "/?lang=en")
    login(browser, VIEWER, PASSWORD)
    assert "lang=en" in browser.current_url
    assert "READINESS MATRIX" in browser.find_element("tag name", "h1").text
    page = browser.find_element("id", "matrix").text
    assert "Last sent (UTC)" in page and "Not surveyed" in page and "Chưa khảo sát" not in page
    assert browser.find_element("id", f"unit-{UNIT}").find_element(
        "css selector", "td.outbox").text == "unknown"
    browser.get(served.url + "/")
    assert "Gửi lần cuối (UTC)" in browser.find_element("id", "matrix").text


def test_a_units_details_show_its_hosts_failed_checks_and_remedies(served, browser):
    served.upload(make_report("xa-lang-thanh", "langthanh-9", "2015-11-21T03:00:00Z",
                              statuses={"system.ram": "fail", "clock.offset": "warn"}))
    browser.get(served.url + "/")
    login(browser, VIEWER, PASSWORD)
    browser.find_element("css selector", "#unit-xa-lang-thanh a").click()
    assert browser.current_url.endswith("/units/xa-lang-thanh?lang=vi")
    host = browser.find_element("css selector", 'section.host[data-host="langthanh-9"]')
    failed = {tr.get_attribute("data-check"): tr.text
              for tr in host.find_elements("css selector", "tr.check")}
    assert set(failed) == {"system.ram", "clock.offset"}
    assert "Khắc phục ram" in failed["system.ram"] and "Khắc phục offset" in failed["clock.offset"]
    browser.get(served.url + "/units/xa-lang-thanh?lang=en")
    assert "Fix ram" in browser.find_element("css selector",
                                              'section.host[data-host="langthanh-9"]').text
    assert served.request("GET", "/units/no-such-unit", cookie=served.cookie()).status == 404


def test_the_session_cookie_is_signed_expires_and_ends_with_the_account(served):
    signer = SessionSigner(served.ctx.session_secret)
    now = time.time()
    good = signer.issue(VIEWER, now)
    assert signer.viewer(good, now) == VIEWER
    payload, mac = good.split(".")
    assert signer.viewer(f"{payload}.{'0' * len(mac)}", now) is None
    assert signer.viewer(good, now + 13 * 3600) is None  # a working day, then log in again
    other = signer.issue("someone-else", now)
    assert signer.viewer(f"{other.split('.')[0]}.{mac}", now) is None
    assert served.request("GET", "/", cookie=good).status == 200
    database = served.ctx.open_database()
    try:
        disable_viewer(database, VIEWER)
        assert served.request("GET", "/", cookie=good).status == 303
        add_viewer(database, VIEWER, PASSWORD, replace=True)
    finally:
        database.close()
    assert served.request("GET", "/", cookie=good).status == 200


def test_a_login_from_another_site_is_refused(served):
    body = f"name={VIEWER}&password={PASSWORD}&next=/".encode()
    answer = served.request("POST", "/login", body=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded",
                              "Origin": "https://evil.example"})
    assert answer.status == 403 and "set-cookie" not in answer.headers
    answer = served.request("POST", "/login", body=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    cookie = answer.headers["set-cookie"]
    assert answer.status == 303 and "HttpOnly" in cookie and "Secure" in cookie, cookie
    assert "samesite=strict" in cookie.lower()
    next_elsewhere = body.replace(b"next=/", b"next=//evil.example/")
    answer = served.request("POST", "/login", body=next_elsewhere,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.headers["location"] == "/"


def test_the_event_stream_names_the_changed_unit(served):
    connection = served.collector.connection(timeout=10)
    try:
        connection.request("GET", "/events", headers={"Cookie": f"{COOKIE}={served.cookie()}"})
        answer = connection.getresponse()
        assert answer.status == 200
        assert answer.getheader("content-type").startswith("text/event-stream")
        head = [answer.readline() for _ in range(6)]
        assert head[:3] == [b"retry: 2000\n", b": connected\n", b"\n"]
        assert head[3] == b"event: version\n" and head[4].startswith(b"data: ")
        served.ctx.bus.publish("not-a-unit")  # never forwarded
        served.ctx.bus.publish(UNIT)
        lines = [answer.readline() for _ in range(3)]
        assert lines == [b"event: unit\n", f"data: {UNIT}\n".encode(), b"\n"]
    finally:
        connection.close()


def test_rows_are_fragments_with_last_sent_and_outbox(served):
    database = served.ctx.open_database()
    try:
        database.execute(
            "INSERT INTO probe_keys (key_id, unit_id, public_key, hostname, enrolled_at, "
            "last_seen_at, outbox_waiting) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("k1", UNIT, "pk1", "mathanh-0", "2026-12-01T00:00:00.000000Z",
             "2099-01-02T03:04:05.000000Z", 7))
    finally:
        database.close()
    answer = served.request("GET", f"/rows/{UNIT}", cookie=served.cookie())
    html = answer.body.decode()
    assert answer.status == 200 and html.strip().startswith(f'<tr class="unit" id="unit-{UNIT}"')
    assert "2099-01-02 03:04:05" in html and '<td class="num outbox">7</td>' in html
    assert f'href="/units/{UNIT}?lang=vi"' in html
    several = served.request("GET", f"/rows?unit={UNIT}&unit=xa-tien-thanh&unit=nowhere&lang=en",
                             cookie=served.cookie()).body.decode()
    assert several.count('<tr class="unit"') == 2 and "Ready with conditions" in several


def test_a_viewers_session_cannot_upload_and_a_probe_key_cannot_see_the_page(served):
    report = make_report(UNIT, "mathanh-7", "2015-11-20T03:00:00Z")
    raw = report_bytes(report)
    answer = served.request("PUT", f"/v1/reports/{report.report_id}", cookie=served.cookie(),
                            body=gzip.compress(raw),
                            headers={"Content-Type": "application/json",
                                     "Content-Encoding": "gzip"})
    assert answer.status == 401, answer.body
    database = served.ctx.open_database()
    try:
        assert not database.query("SELECT 1 FROM reports WHERE report_id = ?",
                                  (report.report_id,))
    finally:
        database.close()
    probe = enroll_probe(served.collector, UNIT, machine_id="m-probe")
    from egov_probe.core.signing import sign_report

    signed = {"X-Egov-Key-Id": probe.key_id,
              "X-Egov-Signature": sign_report(probe.private_key, b"").signature}
    for path in ("/", f"/units/{UNIT}"):
        assert served.request("GET", path, headers=signed).status == 303, path
    for path in (f"/rows/{UNIT}", "/events", "/charts"):
        assert served.request("GET", path, headers=signed).status == 401, path


def test_behind_the_proxy_the_cookie_is_secure_only_when_nginx_says_tls(tmp_path):
    """``serve`` without a certificate: plain HTTP on loopback behind nginx, whose
    X-Forwarded-Proto uvicorn trusts from loopback (proxy headers)."""
    import http.client

    from egov_probe.collector.app import build_app

    app = build_app(page_context(scenario_store(tmp_path)))
    with uvicorn_on_loopback(app, proxy_headers=True, forwarded_allow_ips="127.0.0.1") as port:
        body = f"name={VIEWER}&password={PASSWORD}".encode()
        cookies = {}
        for proto in ("http", "https"):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("POST", "/login", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Forwarded-Proto": proto})
            answer = connection.getresponse()
            assert answer.status == 303
            cookies[proto] = answer.getheader("set-cookie")
            connection.close()
    assert "Secure" not in cookies["http"] and "Secure" in cookies["https"]


def test_viewer_command_adds_lists_and_disables(tmp_path, probe):
    store = tmp_path / "viewers.sqlite"
    secret = "một mật khẩu dài đủ 10"
    env = {"EGOV_VIEWER_PASSWORD": secret}
    added = probe("viewer", "add", "lan", "--store", str(store), env=env)
    assert added.returncode == 0, added.stderr
    assert secret not in added.stdout + added.stderr
    again = probe("viewer", "add", "lan", "--store", str(store), env=env)
    assert again.returncode == 2 and "exists already" in again.stderr
    short = probe("viewer", "add", "mai", "--store", str(store), env={"EGOV_VIEWER_PASSWORD": "ngắn"})
    assert short.returncode == 2 and "shorter" in short.stderr
    assert probe("viewer", "disable", "lan", "--store", str(store)).returncode == 0
    listed = probe("viewer", "list", "--store", str(store))
    assert listed.returncode == 0 and listed.stdout.startswith("lan\t")
    assert "disabled" in listed.stdout and "mai" not in listed.stdout
    nobody = probe("viewer", "disable", "ai-do", "--store", str(store))
    assert nobody.returncode == 2 and "no viewer" in nobody.stderr
    stored = json.dumps(_rows(store))
    assert secret not in stored and "$2b$" in stored  # bcrypt, never the password


def _rows(store: Path) -> list:
    import sqlite3

    with sqlite3.connect(store) as connection:
        return connection.execute("SELECT * FROM viewers").fetchall()


def test_the_stream_keeps_alive_and_ends_with_the_viewers_account(served, monkeypatch):
    monkeypatch.setattr(page, "KEEPALIVE_S", 0.2)  # 15 s in service
    connection = served.collector.connection(timeout=10)
    try:
        connection.request("GET", "/events", headers={"Cookie": f"{COOKIE}={served.cookie()}"})
        answer = connection.getresponse()
        assert [answer.readline() for _ in range(3)] == [b"retry: 2000\n", b": connected\n",
                                                         b"\n"]
        version = [answer.readline() for _ in range(3)]
        assert version[0] == b"event: version\n"
        assert [answer.readline() for _ in range(2)] == [b": keep-alive\n", b"\n"]
        served.upload(make_report("xa-tien-thanh", "tienthanh-5", "2015-11-20T03:00:00Z"))
        assert [answer.readline() for _ in range(3)] == [b"event: unit\n",
                                                         b"data: xa-tien-thanh\n", b"\n"]
        # the store changed: the next quiet moment says so
        changed = [answer.readline() for _ in range(3)]
        assert changed[0] == b"event: version\n" and changed[1] != version[1]
        database = served.ctx.open_database()
        try:
            disable_viewer(database, VIEWER)
        finally:
            database.close()
        rest = answer.read()  # the stream ends: the page then finds the login
        assert b"event:" not in rest
    finally:
        connection.close()


def test_serve_stops_on_sigterm_while_a_page_is_open(tmp_path):
    """An open event stream never ends by itself: ``serve`` stops anyway, within seconds."""
    import http.client
    import os
    import signal
    import subprocess
    import sys

    from tests.servers.ports import free_port, wait_listening

    store = scenario_store(tmp_path)
    secret = "s" * 40
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "egov_probe", "serve", "--store", str(store), "--listen",
         f"127.0.0.1:{port}", "--inventory", str(Path(__file__).parents[2] / "inventory")],
        env={**os.environ, "EGOV_COLLECTOR_SECRET": secret}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        wait_listening("127.0.0.1", port, timeout=60)
        cookie = SessionSigner(secret.encode()).issue(VIEWER, time.time())
        connection.request("GET", "/events", headers={"Cookie": f"{COOKIE}={cookie}"})
        answer = connection.getresponse()
        assert answer.status == 200 and answer.readline() == b"retry: 2000\n"
        server.send_signal(signal.SIGTERM)
        # uvicorn shuts down, then dies of the signal it caught (as systemd expects)
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
        assert b"Finished server process" in server.stderr.read()
    finally:
        connection.close()
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stderr.close()


def test_a_report_imported_from_a_stick_reaches_the_open_page(served, browser, monkeypatch):
    """``egov-probe import`` (another process) tells no page: the stream's next quiet moment
    finds the store changed and the page fetches its rows again, still without reloading."""
    monkeypatch.setattr(page, "KEEPALIVE_S", 0.5)  # 15 s in service
    browser.get(served.url + "/")
    login(browser, VIEWER, PASSWORD)
    wait_live(browser)
    load_id = browser.find_element("id", "page").get_attribute("data-load-id")
    usb = served.folder / "usb-2"
    write_report(make_report("xa-my-thanh", "mythanh-0", "2015-11-20T03:00:00Z",
                             statuses={"system.ram": "fail"}), usb)
    database = served.ctx.open_database()
    try:
        summary = import_paths(database, [usb], served.ctx.unit_ids(), served.folder / "q2")
        assert len(summary.imported) == 1
    finally:
        database.close()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10, poll_frequency=0.1).until(lambda b: b.execute_script(
        "return document.getElementById('unit-xa-my-thanh').dataset.status;") == "not_ready")
    assert browser.find_element("id", "page").get_attribute("data-load-id") == load_id


def test_guessing_a_password_is_slowed(served):
    from egov_probe.collector import login as login_module

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for _ in range(login_module.NAME_BURST):
        answer = served.request("POST", "/login", body=f"name={VIEWER}&password=sai".encode(),
                                headers=form)
        assert answer.status == 401
    refused = served.request("POST", "/login", body=f"name={VIEWER}&password={PASSWORD}"
                             .encode(), headers=form)
    assert refused.status == 429 and int(refused.headers["retry-after"]) >= 1
    assert "Đăng nhập quá nhiều lần" in refused.body.decode()
    assert "set-cookie" not in refused.headers
    other = served.request("POST", "/login", body=b"name=someone-else&password=x", headers=form)
    assert other.status == 401  # another name is not held up
