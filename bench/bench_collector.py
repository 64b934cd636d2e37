"""Benchmark: 50 concurrent clients upload 10,000 signed reports for the 78 units to one
``egov-probe serve`` on this machine, against ``egov-probe import`` of the same files.

One command (run it under ``flock /tmp/egov-heavy.lock``; the machine is shared):

    python bench/bench_collector.py [--reports 10000] [--clients 50] [--processes 2]
                                    [--store sqlite|postgresql]

In one run, on the same report files (realistic ones, made as bench/bench_matrix.py makes
them: this machine's real audit sections plus every network, signature, clock and mailbox
check of the shipped policy, ~16 % not passing, spread over the 78 units' workstations):

1. the baseline: ``egov-probe import`` of the files into a fresh store (wall time of the
   command, as a DIC officer runs it with a stick);
2. the collector: ``egov-probe serve`` (uvicorn, TLS with a test CA's certificate, on
   127.0.0.1) over a fresh store; one Ed25519 key per workstation enrolled through the real
   API, as each probe enrolls its own (``egov-probe token create`` per unit, then
   ``POST /v1/enroll`` per workstation); then ``--clients`` clients (threads
   in ``--processes`` processes, each with its own keep-alive HTTPS connection) send every
   report once with ``PUT /v1/reports/{id}`` as the probe's sender does (gzip body,
   ``X-Egov-Key-Id``, ``X-Egov-Signature``, ``X-Egov-Outbox``), honouring ``Retry-After``.
   Bodies are compressed and signed before the clock starts (that is the probes' work, on
   their own machines);
3. the page's update delay: one more client ("the marker") sends, one at a time, the reports
   of one unit the others do not send, while a listener holds the live page's event stream
   (``GET /events``, logged in as a viewer); the delay of each is the time from the upload's
   answer to the event naming its unit. When the server has no ``/events`` (the page is not
   there), the delay measured instead is from the answer to the report being visible to
   another connection of the store (what the page reads when it redraws), and the output
   says so.

Prints reports per second, p50/p99 latency (first send to final answer, retries included),
the ratios to the import measured in the same run, the machine's load; then the goals, and
exits 1 when one is missed: >= 200 reports/s, p99 < 500 ms, upload throughput within 2x of
the import's (at least half of it), page update delay p99 <= 2 s.
"""

from __future__ import annotations

import argparse
from collections import Counter
import base64
import gzip
import http.client
import json
import math
import multiprocessing
import os
import queue
import random
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_matrix import make_reports  # noqa: E402 - the same reports as the matrix benchmark
from egov_probe.core.signing import generate_private_key, public_key_text, sign_report  # noqa: E402
from egov_probe.matrix import load_unit_infos  # noqa: E402
from egov_probe.store import open_database  # noqa: E402
from tests.collector_e2e import count_stored  # noqa: E402
from tests.pg import PostgresServer  # noqa: E402 - the tests' own PostgreSQL
from tests.servers.ca import TestCA  # noqa: E402
from tests.servers.ports import free_port, wait_listening  # noqa: E402
from tests.servers.procs import Server  # noqa: E402

GOAL_RATE = 200.0  # reports per second, at least
GOAL_P99_MS = 500.0
GOAL_VS_IMPORT = 2.0  # import's throughput / upload throughput, at most
GOAL_PAGE_S = 2.0  # issue 16: the page's row changes within 2 s of an upload
TOKEN = re.compile(r"egt_[A-Za-z0-9_-]{20,}")
VIEWER, VIEWER_PASSWORD = "bench-viewer", "Mật-khẩu-thử-nghiệm-1"
MARKER_INTERVAL_S = 0.05


def probe_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "egov_probe", *args]


def run_checked(argv: list[str], **env: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, encoding="utf-8",
                          env={**os.environ, "PYTHONIOENCODING": "utf-8", **env}, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv[2:5])}: exit {done.returncode}: {done.stderr[-1500:]}")
    return done.stdout


# --- the reports -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """One upload, ready: the report's id and unit, the gzip body and the headers."""

    report_id: str
    unit_id: str
    body: bytes
    headers: dict


def load_reports(folder: Path) -> list[tuple[str, tuple[str, str], bytes]]:
    """(report_id, (unit_id, hostname), exact bytes) of each file."""
    found = []
    for path in sorted(folder.glob("*.json")):
        data = path.read_bytes()
        host = json.loads(data)["host"]
        found.append((json.loads(data)["report_id"], (host["unit_id"], host["hostname"]), data))
    return found


def prepare(reports: list[tuple[str, tuple[str, str], bytes]], keys: dict) -> list[Prepared]:
    """Compress and sign every report with its workstation's key (the probes' work, done
    before the clock starts)."""
    prepared = []
    for report_id, host, data in reports:
        signature = sign_report(keys[host], data)
        prepared.append(Prepared(report_id, host[0], gzip.compress(data, 6), {
            "Content-Type": "application/json", "Content-Encoding": "gzip",
            "X-Egov-Key-Id": signature.key_id, "X-Egov-Signature": signature.signature,
            "X-Egov-Outbox": "0"}))
    return prepared


# --- the server --------------------------------------------------------------------------------


@dataclass
class Collector:
    store: str
    work: Path
    port: int = field(default_factory=free_port)
    server: Optional[Server] = None

    def start(self) -> "Collector":
        ca = TestCA(self.work / "ca")
        issued = ca.issue("collector", "127.0.0.1")
        self.cafile = ca.root.cert
        argv = probe_command("serve", "--store", self.store, "--listen", f"127.0.0.1:{self.port}",
                             "--certfile", str(issued.cert), "--keyfile", str(issued.key),
                             "--secret-file", str(self.work / "session.secret"))
        self.server = Server(argv, self.work / "serve.log",
                             env={**os.environ, "PYTHONIOENCODING": "utf-8"}).start()
        wait_listening("127.0.0.1", self.port, 60)
        return self

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cafile))

    def connection(self, timeout: float = 60) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context(),
                                           timeout=timeout)

    def stop(self) -> None:
        if self.server:
            self.server.stop()


def enroll_hosts(collector: Collector, hosts: list[tuple[str, str]]) -> dict:
    """One key per workstation, as each probe enrolls its own: a token per unit (``token
    create``, four units at a time), then ``POST /v1/enroll`` for each (unit, hostname)."""
    from concurrent.futures import ThreadPoolExecutor

    units = sorted({unit for unit, _host in hosts})
    with ThreadPoolExecutor(4) as pool:
        tokens = dict(zip(units, pool.map(lambda unit: unit_token(collector, unit), units)))
        keys = pool.map(lambda host: enroll_key(collector, tokens[host[0]], host), hosts)
        return dict(zip(hosts, keys))


def unit_token(collector: Collector, unit_id: str) -> str:
    out = run_checked(probe_command("token", "create", "--store", collector.store,
                                    "--unit", unit_id))
    return TOKEN.search(out).group(0)


def enroll_key(collector: Collector, token: str, host: tuple[str, str]):
    key = generate_private_key()
    body = json.dumps({"token": token, "public_key": public_key_text(key),
                       "hostname": host[1], "machine_id": None}).encode()
    while True:
        connection = collector.connection()
        connection.request("POST", "/v1/enroll", body=body,
                           headers={"Content-Type": "application/json"})
        answer = connection.getresponse()
        text = answer.read()
        connection.close()
        if answer.status == 201:
            return key
        if answer.status not in (429, 503):
            raise RuntimeError(f"enroll {host}: HTTP {answer.status} {text[:300]!r}")
        time.sleep(float(answer.getheader("Retry-After") or 1))


# --- the clients -------------------------------------------------------------------------------


@dataclass
class Sent:
    latency: float  # first send to the final answer, seconds
    status: int
    retries: tuple  # why each retry: an HTTP status (429, 503) or "network"
    sent_at: float  # time.time() of the first send
    answered_at: float  # time.time() of the final answer


def send(connection_factory, item: Prepared, state: dict) -> Sent:
    """PUT one report until it is answered 2xx (or a final error), retrying as the sender."""
    started, sent_at = time.perf_counter(), time.time()
    retries: list = []
    while True:
        connection = state.get("connection") or connection_factory()
        state["connection"] = connection
        try:
            connection.request("PUT", f"/v1/reports/{item.report_id}", body=item.body,
                               headers=item.headers)
            answer = connection.getresponse()
            answer.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            state["connection"] = None
            retries.append("network")
            time.sleep(0.05 * len(retries))
            continue
        if answer.status in (429, 503):
            retries.append(answer.status)
            time.sleep(float(answer.getheader("Retry-After") or 1))
            continue
        if answer.getheader("Connection", "").lower() == "close":
            connection.close()
            state["connection"] = None
        return Sent(time.perf_counter() - started, answer.status, tuple(retries), sent_at,
                    time.time())


def client_process(items: list[Prepared], threads: int, port: int, cafile: str, go, results
                   ) -> None:
    """One client process: ``threads`` threads, each its own connection, share ``items``."""
    work: queue.Queue = queue.Queue()
    for item in items:
        work.put(item)
    context = ssl.create_default_context(cafile=cafile)

    def factory() -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=120)

    collected: list[tuple] = []

    def worker() -> None:
        state: dict = {}
        mine = []
        while True:
            try:
                item = work.get_nowait()
            except queue.Empty:
                break
            sent = send(factory, item, state)
            mine.append((sent.latency, sent.status, sent.retries))
        if state.get("connection"):
            state["connection"].close()
        collected.extend(mine)

    go.wait()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    results.put(collected)


def run_load(collector: Collector, items: list[Prepared], clients: int, processes: int,
             marker: "Marker") -> dict:
    context = multiprocessing.get_context("fork")
    go, results = context.Event(), context.Queue()
    shares = [items[i::processes] for i in range(processes)]
    threads = [clients // processes + (1 if i < clients % processes else 0)
               for i in range(processes)]
    workers = [context.Process(target=client_process,
                               args=(share, count, collector.port, str(collector.cafile), go,
                                     results)) for share, count in zip(shares, threads)]
    for worker in workers:
        worker.start()
    time.sleep(1.0)  # every process forked and waiting
    started = time.perf_counter()
    go.set()
    marker.start()
    sent = []
    for _ in workers:
        sent.extend(results.get())
    wall = time.perf_counter() - started
    marker.stop()
    for worker in workers:
        worker.join()
    latencies = sorted(s[0] for s in sent)
    return {"wall": wall, "sent": len(sent), "latencies": latencies,
            "statuses": sorted({s[1] for s in sent}),
            "retries": dict(Counter(why for s in sent for why in s[2]))}


# --- the page's update delay -------------------------------------------------------------------


class EventStream(threading.Thread):
    """The live page's ``GET /events``, logged in as a viewer: (time, data) of each event."""

    def __init__(self, collector: Collector, cookie: str) -> None:
        super().__init__(daemon=True)
        self.collector, self.cookie = collector, cookie
        self.events: list[tuple[float, str]] = []
        self.ready = threading.Event()
        self.error: Optional[str] = None
        self.connection: Optional[http.client.HTTPSConnection] = None

    def run(self) -> None:
        try:
            self.connection = self.collector.connection(timeout=3600)
            self.connection.request("GET", "/events", headers={"Cookie": self.cookie,
                                                               "Accept": "text/event-stream"})
            answer = self.connection.getresponse()
            if answer.status != 200:
                self.error = f"/events: HTTP {answer.status}"
                self.ready.set()
                return
            self.ready.set()
            data: list[str] = []
            while True:
                line = answer.fp.readline()
                if not line:
                    return
                text = line.decode("utf-8", "replace").rstrip("\r\n")
                if text.startswith("data:"):
                    data.append(text[5:].strip())
                elif not text and data:
                    self.events.append((time.time(), "\n".join(data)))
                    data = []
        except (OSError, http.client.HTTPException) as exc:
            self.error = self.error or f"/events: {exc}"
            self.ready.set()

    def close(self) -> None:
        if self.connection and self.connection.sock:
            try:
                self.connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def viewer_cookie(collector: Collector) -> Optional[str]:
    """A logged-in viewer's session cookie (``viewer add`` then ``POST /login``), or None
    when the server has no login page."""
    try:
        run_checked(probe_command("viewer", "add", VIEWER, "--store", collector.store),
                    EGOV_VIEWER_PASSWORD=VIEWER_PASSWORD)
    except RuntimeError:
        return None
    from urllib.parse import urlencode

    connection = collector.connection()
    connection.request("POST", "/login", body=urlencode({"name": VIEWER,
                                                         "password": VIEWER_PASSWORD}).encode(),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    answer = connection.getresponse()
    answer.read()
    cookies = [value.split(";", 1)[0] for name, value in answer.getheaders()
               if name.lower() == "set-cookie"]
    connection.close()
    return "; ".join(cookies) or None


class Marker(threading.Thread):
    """Sends one unit's reports one at a time during the load and measures, for each, the
    delay from its answer to the page's event naming the unit (or, without ``/events``, to the
    report being readable from another connection of the store)."""

    def __init__(self, collector: Collector, items: list[Prepared],
                 stream: Optional[EventStream]) -> None:
        super().__init__(daemon=True)
        self.collector, self.items, self.stream = collector, items, stream
        self.delays: list[tuple[float, float]] = []  # (from the send, from the answer)
        self.latencies: list[float] = []
        self.left: list[Prepared] = []  # not sent when the load ended (sent afterwards)
        self.stopping = threading.Event()
        self.unit_id = items[0].unit_id if items else ""

    def run(self) -> None:
        state: dict = {}
        database = None if self.stream else open_database(self.collector.store)
        try:
            for index, item in enumerate(self.items):
                if self.stopping.is_set():
                    self.left = self.items[index:]
                    break
                seen = len(self.stream.events) if self.stream else 0
                sent = send(self.collector.connection, item, state)
                self.latencies.append(sent.latency)
                delay = self._delay(item, sent, seen, database)
                # no event within the wait counts as an infinite delay, never as no sample
                self.delays.append(delay if delay is not None else (math.inf, math.inf))
                time.sleep(MARKER_INTERVAL_S)
        finally:
            if database is not None:
                database.close()

    def _delay(self, item: Prepared, sent: Sent, seen: int, database
               ) -> Optional[tuple[float, float]]:
        end = time.time() + 5
        while time.time() < end:
            if self.stream:
                for when, data in self.stream.events[seen:]:
                    if data == item.unit_id:
                        return when - sent.sent_at, when - sent.answered_at
            else:
                rows = database.query("SELECT 1 FROM reports WHERE report_id = ?",
                                      (item.report_id,))
                if rows:
                    when = time.time()
                    return when - sent.sent_at, when - sent.answered_at
            time.sleep(0.002)
        return None

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)


# --- the run -----------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed_import(store: str, folder: Path, work: Path) -> float:
    started = time.perf_counter()
    run_checked(probe_command("import", "--store", store, "--quarantine", str(work / "quarantine"),
                              str(folder)))
    return time.perf_counter() - started


def stores(kind: str, work: Path, pg: Optional[PostgresServer]) -> tuple[str, str]:
    if kind == "postgresql" and pg:
        return pg.create_database("bench_import"), pg.create_database("bench_collector")
    return str(work / "import.sqlite"), str(work / "collector.sqlite")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="egov-bench-collector-"))
    pg = PostgresServer.start() if args.store == "postgresql" else None
    try:
        return bench(args, work, pg)
    finally:
        if pg:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)


def bench(args: argparse.Namespace, work: Path, pg: Optional[PostgresServer]) -> int:
    folder = work / "reports"
    folder.mkdir()
    checks = make_reports(args.reports, folder)
    unit_ids = [info.unit.unit_id for info in load_unit_infos()]
    import_store, collector_store = stores(args.store, work, pg)
    print(f"{args.reports} reports of {checks} checks for {len(unit_ids)} units, "
          f"{sum(p.stat().st_size for p in folder.glob('*.json')) / args.reports / 1024:.0f} "
          f"KiB each; store: {args.store}")
    print("baseline: `egov-probe import` of the same files into a fresh store (same run)")
    import_s = timed_import(import_store, folder, work)
    imported = count_stored(import_store)
    collector = Collector(collector_store, work).start()
    stream = None
    try:
        reports = load_reports(folder)
        keys = enroll_hosts(collector, sorted({host for _id, host, _data in reports}))
        items = prepare(reports, keys)
        marker_unit = reports[0][1][0]
        marker_items = [i for i in items if i.unit_id == marker_unit]
        load_items = [i for i in items if i.unit_id != marker_unit]
        # the files come unit by unit (the generator walks each unit's workstations); 78
        # communes send at the same time, interleaved: a fixed shuffle, not 50 clients on one
        # unit's key (which the server's per-key limit would rightly slow down with 429)
        random.Random(16).shuffle(load_items)
        cookie = viewer_cookie(collector)
        if cookie:
            stream = EventStream(collector, cookie)
            stream.start()
            stream.ready.wait(30)
            if stream.error:
                print(f"note: the live page's event stream is not usable ({stream.error})")
                stream = None
        marker = Marker(collector, marker_items, stream)
        load = run_load(collector, load_items, args.clients, args.processes, marker)
        state: dict = {}
        for item in marker.left:  # after the clock: the store must hold every report
            send(collector.connection, item, state)
        stored = count_stored(collector_store)
    finally:
        if stream:
            stream.close()
        collector.stop()
    return report(args, load, marker, stream is not None, import_s, imported, stored)


def report(args, load: dict, marker: Marker, has_events: bool, import_s: float, imported: int,
           stored: int) -> int:
    marker_sent = len(marker.latencies)
    sent = load["sent"] + marker_sent + len(marker.left)
    rate = load["sent"] / load["wall"]
    import_rate = imported / import_s
    p50, p99 = (percentile(load["latencies"], q) * 1000 for q in (0.50, 0.99))
    page_kind = ("the page's event (/events)" if has_events else
                 "NOT the page (no /events on this server): the report readable from another "
                 "connection of the store")
    from_send = [d[0] for d in marker.delays]
    from_answer = [d[1] for d in marker.delays]
    page_p50, page_p99 = (percentile(from_send, q) for q in (0.50, 0.99))
    print(f"import:    {imported} reports in {import_s:.2f} s = {import_rate:.0f} reports/s")
    print(f"collector: {load['sent']} reports by {args.clients} clients in {load['wall']:.2f} s = "
          f"{rate:.0f} reports/s; latency p50 {p50:.0f} ms, p99 {p99:.0f} ms, max "
          f"{max(load['latencies']) * 1000:.0f} ms; answers {load['statuses']}, "
          f"retries by cause {load['retries'] or 'none'}")
    print(f"           + {marker_sent} marker reports (unit {marker.unit_id}) sent one at a time "
          f"during the load, {len(marker.left)} after it; stored in all: {stored} of {sent}")
    print(f"update delay, upload sent -> {page_kind}: p50 {page_p50 * 1000:.0f} ms, p99 "
          f"{page_p99 * 1000:.0f} ms over {len(marker.delays)} uploads, "
          f"{sum(math.isinf(d) for d in from_send)} without an event in 5 s (after the upload's "
          f"answer: p50 {percentile(from_answer, 0.5) * 1000:.0f} ms, p99 "
          f"{percentile(from_answer, 0.99) * 1000:.0f} ms; negative: the event came first)")
    print(f"ratio: import's throughput / collector's = {import_rate / rate:.2f}")
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (clients, server and "
          "store share them; other sessions' work slows both alike)")
    goals = [(f"throughput >= {GOAL_RATE:.0f} reports/s", rate >= GOAL_RATE),
             (f"p99 latency < {GOAL_P99_MS:.0f} ms", p99 < GOAL_P99_MS),
             (f"within {GOAL_VS_IMPORT:.0f}x of the import's throughput",
              import_rate / rate <= GOAL_VS_IMPORT),
             (f"update delay p99 <= {GOAL_PAGE_S:.0f} s", page_p99 <= GOAL_PAGE_S),
             ("every report stored once", stored == sent == imported)]
    for name, met in goals:
        print(f"goal: {name}: {'OK' if met else 'MISSED'}")
    return 0 if all(met for _, met in goals) else 1


if __name__ == "__main__":
    raise SystemExit(main())
