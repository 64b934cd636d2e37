"""The update bus: an upload publishes its unit's id; every open live page (server-sent
events) gets it and redraws that unit's row. In process, on the app's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

QUEUE_LIMIT = 1000  # pending updates per open page; a page that stops reading is dropped


class UpdateBus:
    """``publish`` from any thread of the app; ``subscribe`` from an async route."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def publish(self, unit_id: str) -> None:
        """Tell every subscriber that ``unit_id`` changed. Safe from worker threads."""
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(unit_id)
        else:
            loop.call_soon_threadsafe(self._deliver, unit_id)

    def close(self) -> None:
        """The server stops: every subscriber gets ``None`` (its stream ends at once, the page
        reconnects to the restarted server), and so does any that subscribes after. Safe
        from a signal handler or another thread."""
        self._closed = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._deliver, None)

    def _deliver(self, unit_id: str | None) -> None:
        for queue in list(self._queues):
            try:
                queue.put_nowait(unit_id)
            except asyncio.QueueFull:
                self._queues.discard(queue)  # that page reloads when its stream ends

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue]:
        """A queue of unit ids for as long as the caller keeps the context open; ``None`` in
        it: the bus is closed, stop reading."""
        self._loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self._queues.add(queue)
        if self._closed:
            queue.put_nowait(None)
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The app's loop (at startup), so a publish before any page opened is not lost."""
        self._loop = loop
