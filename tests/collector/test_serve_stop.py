"""``egov-probe serve`` stops at once with live pages open: their event streams end as the stop
begins (the browser reconnects to the restarted server), instead of holding the stop for the
graceful timeout and ending with an error in the log."""

from __future__ import annotations

import http.client
import ssl
import threading
import time
import urllib.parse

import pytest

from egov_probe.commands.serve import GRACEFUL_STOP_S
from tests.servers.ca import TestCA
from tests.servers.collector import CollectorServer, probe_argv, run_command

pytestmark = pytest.mark.services
PASSWORD = "mật-khẩu-dài-123"


def test_open_live_pages_do_not_hold_the_stop(tmp_path):
    ca = TestCA(tmp_path / "ca")
    store = str(tmp_path / "store.sqlite")
    added = run_command(probe_argv("viewer", "add", "dic", "--store", store),
                        EGOV_VIEWER_PASSWORD=PASSWORD)
    assert added.returncode == 0, added.stderr
    server = CollectorServer(store=store, workdir=tmp_path / "serve", ca=ca).start()
    context = ssl.create_default_context(cafile=str(ca.root.cert))
    try:
        login = http.client.HTTPSConnection("127.0.0.1", server.port, context=context)
        login.request("POST", "/login", urllib.parse.urlencode({"name": "dic",
                                                                "password": PASSWORD}),
                      {"Content-Type": "application/x-www-form-urlencoded"})
        answer = login.getresponse()
        answer.read()
        cookie = answer.getheader("Set-Cookie", "").split(";")[0]
        login.close()
        assert answer.status == 303 and cookie.startswith("egov_viewer=")
        pages = [http.client.HTTPSConnection("127.0.0.1", server.port, context=context)
                 for _ in range(2)]
        ended = []
        for page in pages:
            page.request("GET", "/events", headers={"Cookie": cookie})
            stream = page.getresponse()
            assert stream.status == 200
            while stream.fp.readline() != b"event: version\n":  # the page is live
                pass
            threading.Thread(target=_read_to_the_end, args=(page, stream, ended),
                             daemon=True).start()
        started = time.monotonic()
        server.stop()
        took = time.monotonic() - started
    finally:
        server.stop()
    assert took < GRACEFUL_STOP_S / 2, server.log()
    assert len(ended) == 2  # both streams ended, as a browser sees a server go away
    assert "timeout graceful shutdown exceeded" not in server.log()


def _read_to_the_end(page: http.client.HTTPSConnection, stream, ended: list) -> None:
    """Like a browser: read until the server ends the stream, then close the connection."""
    while stream.fp.readline():
        pass
    ended.append(time.monotonic())
    page.close()
