"""The store's worker threads: each holds its own connection (``CollectorContext
.open_database``; sqlite3 and psycopg connections stay in their thread) and runs jobs for the
event loop. A job that fails drops its thread's connection (it may be broken): the next job
opens a new one."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from typing import Any, Callable, Optional

from ..store import Database

LOG = logging.getLogger("egov_probe.collector")
_STOP = None


class StoreWorkers:
    def __init__(self, open_database: Callable[[], Database], count: int) -> None:
        self._open = open_database
        self._count = count
        self._jobs: queue.Queue = queue.Queue()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for number in range(self._count):
            thread = threading.Thread(target=self._serve, name=f"egov-store-{number}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Each thread closes its connection after the jobs already queued."""
        for _ in self._threads:
            self._jobs.put(_STOP)
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    async def run(self, job: Callable[[Database], Any]) -> Any:
        """``job(database)`` in a worker thread; its result or its exception."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._jobs.put((job, loop, future))
        return await future

    def _serve(self) -> None:
        database: Optional[Database] = None
        while (item := self._jobs.get()) is not _STOP:
            job, loop, future = item
            try:
                database = database or self._open()
                outcome, failed = job(database), False
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
                outcome, failed = exc, True
                database = _dropped(database)
            try:
                loop.call_soon_threadsafe(_settle, future, outcome, failed)
            except RuntimeError:  # the loop is closed: the server is stopping
                pass
        _dropped(database)


def _settle(future: asyncio.Future, outcome: Any, failed: bool) -> None:
    if future.done():  # the request went away (client gone); its job ran all the same
        return
    if failed:
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _dropped(database: Optional[Database]) -> None:
    if database is not None:
        try:
            database.close()
        except Exception:  # noqa: BLE001 - a broken connection may fail to close
            LOG.debug("closing a store connection failed", exc_info=True)
    return None
