"""The live page's test bed: a real uvicorn on loopback serving the collector's page over a
store with the matrix's scenario, a viewer account, and Debian's chromium under Selenium.

Every chromium and chromedriver started here is ended when its test ends (tests/guard.py
checks that no process of the session is left)."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import pytest

from egov_probe.collector.context import CollectorContext
from egov_probe.collector.viewers import COOKIE, SessionSigner, add_viewer
from egov_probe.core.clock import utc_now
from egov_probe.core.report_file import write_report_atomic
from egov_probe.matrix import load_unit_infos
from egov_probe.store import import_paths, open_database
from egov_probe.store.prepare import Rules, prepare_document
from egov_probe.store.writer import store_batch

ROOT = Path(__file__).resolve().parents[2]
VIEWER = "can-bo-so-ttt"
PASSWORD = "Mật khẩu thử nghiệm 2026"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@dataclass
class Served:
    ctx: CollectorContext
    host: str
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def cookie(self, name: str = VIEWER) -> str:
        return SessionSigner(self.ctx.session_secret).issue(name, time.time())


def page_app(ctx: CollectorContext):
    """The collector's app; until collector/app.py exists, the page's routes alone."""
    try:
        from egov_probe.collector.app import build_app
    except ImportError:
        from starlette.applications import Starlette

        from egov_probe.collector import page

        @contextlib.asynccontextmanager
        async def lifespan(app):
            ctx.bus.bind(asyncio.get_running_loop())
            yield

        return Starlette(routes=page.routes(ctx), lifespan=lifespan)
    return build_app(ctx)


@contextlib.contextmanager
def uvicorn_on_loopback(app) -> Iterator[int]:
    """A real uvicorn in a thread on 127.0.0.1 (a port of its own); stopped at the end."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2,
                            lifespan="on")
    server = uvicorn.Server(config)
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


def scenario_store(folder: Path) -> Path:
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


@pytest.fixture
def served(tmp_path) -> Iterator[Served]:
    path = scenario_store(tmp_path)
    ctx = CollectorContext(open_database=lambda: open_database(path),
                           units=load_unit_infos(ROOT / "inventory"),
                           session_secret=secrets.token_bytes(32))
    with uvicorn_on_loopback(page_app(ctx)) as port:
        yield Served(ctx, "127.0.0.1", port, tmp_path)


@pytest.fixture
def browser(tmp_path):
    """Headless chromium through Debian's chromium-driver (never a downloaded one)."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            pytest.skip(f"{path} is missing (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'chromium'}",
                     "--no-first-run", "--disable-extensions", "--lang=vi"):
        options.add_argument(argument)
    service = Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
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
    """Fill the login form the browser shows and send it (waits for the next page)."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.find_element("id", "name").clear()
    browser.find_element("id", "name").send_keys(name)
    browser.find_element("id", "password").send_keys(password)
    button = browser.find_element("id", "login")
    button.click()
    WebDriverWait(browser, 15).until(expected_conditions.staleness_of(button))


def wait_live(browser, timeout: float = 15) -> None:
    """Until the page's event stream is open (the page says so)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, timeout).until(
        lambda b: b.find_element("id", "live-status").get_attribute("class") == "on")


def store_report(served: Served, report) -> None:
    """Store one report as the upload API does (same preparation and writer), unannounced."""
    folder = served.folder / "uploads"
    folder.mkdir(exist_ok=True)
    raw = write_report_atomic(report, folder).read_bytes()
    prepared = prepare_document(raw, "network", Rules(served.ctx.unit_ids(), utc_now()))
    database = served.ctx.open_database()
    try:
        with database.transaction():
            assert store_batch(database, [prepared]) == ["imported"]
    finally:
        database.close()


def request(base: str, method: str, path: str, cookie: Optional[str] = None,
            body: Optional[bytes] = None,
            headers: Optional[dict[str, str]] = None) -> http.client.HTTPResponse:
    """One plain HTTP request (redirects not followed); the answer's body is readable."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    all_headers = dict(headers or {})
    if cookie:
        all_headers["Cookie"] = f"{COOKIE}={cookie}"
    connection.request(method, path, body=body, headers=all_headers)
    answer = connection.getresponse()
    answer.body = answer.read()
    answer.read = lambda *a: answer.body  # the body stays readable after the connection closes
    connection.close()
    return answer
