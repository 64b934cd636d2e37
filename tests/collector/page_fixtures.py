"""The live page's test bed: the collector (tests/collector/conftest.py: a real uvicorn on
127.0.0.1, TLS from a test CA) over a store with the matrix's scenario and a viewer account,
and Debian's chromium under Selenium trusting that CA.

Every chromium and chromedriver started here is ended when its test ends (tests/guard.py
checks that no process of the session is left), before the collector stops."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import pytest

from egov_probe.collector.context import CollectorContext
from egov_probe.collector.viewers import COOKIE, SessionSigner, add_viewer
from egov_probe.matrix import load_unit_infos
from egov_probe.store import import_paths, open_database
from tests.collector.conftest import (Reply, RunningCollector, enroll_probe, report_bytes,
                                      running_collector, upload)

ROOT = Path(__file__).resolve().parents[2]
VIEWER = "can-bo-so-ttt"
PASSWORD = "Mật khẩu thử nghiệm 2026"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@dataclass
class Served:
    """The collector (API and page) over the scenario's store."""

    collector: RunningCollector
    folder: Path

    @property
    def ctx(self) -> CollectorContext:
        return self.collector.ctx

    @property
    def url(self) -> str:
        return self.collector.url

    def cookie(self, name: str = VIEWER) -> str:
        return SessionSigner(self.ctx.session_secret).issue(name, time.time())

    def request(self, method: str, path: str, cookie: Optional[str] = None, body: bytes = b"",
                headers: Optional[dict[str, str]] = None) -> Reply:
        """One request over verified TLS (redirects not followed)."""
        all_headers = dict(headers or {})
        if cookie:
            all_headers["Cookie"] = f"{COOKIE}={cookie}"
        return self.collector.request(method, path, body, all_headers)

    def upload(self, report, outbox: Optional[int] = None) -> None:
        """Through the real API, by a probe enrolled for the report's unit."""
        probe = enroll_probe(self.collector, report.host.unit_id,
                             machine_id=report.host.machine_id or secrets.token_hex(8))
        reply = upload(self.collector, probe, report_bytes(report), outbox=outbox)
        assert reply.status == 201, reply.body


def scenario_store(folder: Path) -> Path:
    """tests/test_matrix.py's scenario imported into a new SQLite store, and one viewer."""
    from tests.test_matrix import UNITS, scenario_reports

    path = folder / "store.sqlite"
    database = open_database(path)
    try:
        scenario_reports(folder / "usb")
        summary = import_paths(database, [folder / "usb"], [u.unit_id for u in UNITS],
                               folder / "quarantine")
        assert summary.quarantined == []
        add_viewer(database, VIEWER, PASSWORD)
    finally:
        database.close()
    return path


def page_context(store: Path) -> CollectorContext:
    """The units of the project's inventory (the scenario's statuses expect them)."""
    return CollectorContext(open_database=lambda: open_database(store),
                            units=load_unit_infos(ROOT / "inventory"),
                            session_secret=secrets.token_bytes(32))


@pytest.fixture
def served(tmp_path) -> Iterator[Served]:
    with running_collector(page_context(scenario_store(tmp_path)), tmp_path) as collector:
        yield Served(collector, tmp_path)


@contextlib.contextmanager
def uvicorn_on_loopback(app, **options) -> Iterator[int]:
    """A real uvicorn in a thread on 127.0.0.1 in plain HTTP (``serve`` without a certificate,
    behind nginx), on a port of its own; stopped at the end."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on",
                                           timeout_graceful_shutdown=2, **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"


def trusting_home(folder: Path, ca_file: Path) -> Path:
    """A HOME whose NSS database (chromium's on Linux) trusts the test CA."""
    nssdb = folder / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    for args in (["-N", "--empty-password"],
                 ["-A", "-n", "egov-test-ca", "-t", "C,,", "-i", str(ca_file)]):
        subprocess.run(["certutil", "-d", f"sql:{nssdb}", *args], check=True,
                       capture_output=True)
    return folder


@pytest.fixture
def browser(served, tmp_path):
    """Headless chromium through Debian's chromium-driver (never a downloaded one), trusting
    the collector's test CA; quit, and its driver ended, before the collector stops."""
    for path in (CHROMIUM, CHROMEDRIVER, "/usr/bin/certutil"):
        if not Path(path).exists():
            pytest.skip(f"{path} is missing (apt-get install chromium chromium-driver "
                        f"libnss3-tools)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    home = trusting_home(tmp_path / "home", served.collector.ca_file)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'chromium'}",
                     "--no-first-run", "--disable-extensions", "--lang=vi"):
        options.add_argument(argument)
    service = Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"),
                      env={**os.environ, "HOME": str(home)})
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        try:
            driver.quit()
        finally:
            process = service.process
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def login(browser, name: str, password: str) -> None:
    """Fill the login form the browser shows and send it; waits for the next document (known
    by a mark the old one had; errors while the browser navigates are waited out)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    browser.find_element("id", "name").clear()
    browser.find_element("id", "name").send_keys(name)
    browser.find_element("id", "password").send_keys(password)
    browser.execute_script("window.egovBeforeLogin = true;")
    browser.find_element("id", "login").click()
    WebDriverWait(browser, 15, ignored_exceptions=(WebDriverException,)).until(
        lambda b: b.execute_script("return !window.egovBeforeLogin && "
                                   "document.readyState === 'complete';"))


def wait_live(browser, timeout: float = 15) -> None:
    """Until the page's event stream is open (the page says so)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, timeout).until(
        lambda b: b.find_element("id", "live-status").get_attribute("class") == "on")
