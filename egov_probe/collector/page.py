"""The DIC's live readiness page: the matrix of ``egov-probe matrix`` (same ``matrix/build.py``,
same templates), each unit's row with when it last sent and its outbox, a unit's hosts and
their remedies, and server-sent events that make the page redraw a unit's row when it changes.

Routes (all but /login for a logged-in viewer only; a probe key is no session, so it sees
nothing here): ``/`` the page, ``/rows/{unit_id}`` one row (HTML fragment), ``/rows?unit=A&
unit=B`` several, ``/charts`` the charts and summary (fragment), ``/units/{unit_id}`` a unit's
details, ``/events`` the stream, ``/live.js`` the page's script, ``/login``, ``/logout``.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
from importlib import resources
from typing import Any, AsyncIterator, Optional

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ..core.messages import text
from ..core.plan import load_plan
from ..render.matrix_html import environment, matrix_values, trace_title
from ..render.matrix_table import label
from ..store.queries import StoredHost
from .context import CollectorContext
from .login import Sessions, lang_of, login_routes
from .page_state import MatrixCache, Snapshot, store_version, take_snapshot

KEEPALIVE_S = 15.0  # a comment on the stream this often: proxies keep it open, dead pages found
RETRY_MS = 2000  # how soon the browser reconnects a lost stream
VERSION_HEADER = "X-Egov-Version"  # the store's state a fragment of rows shows
FAILED = ("fail", "error", "warn")
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" makes a form's Origin "null"
    "X-Frame-Options": "DENY",
}


def routes(ctx: CollectorContext) -> list[BaseRoute]:
    """The page's routes, to be mounted beside the API (``collector/app.py``)."""
    page = LivePage(ctx, Sessions(ctx))
    return [Route("/", page.index), Route("/rows", page.rows), Route("/rows/{unit_id}", page.row),
            Route("/charts", page.charts), Route("/units/{unit_id}", page.unit),
            Route("/events", page.events), Route("/live.js", page.script),
            *login_routes(page.sessions, page.render)]


def page_label(key: str, lang: str, **values: Any) -> str:
    """The collector's own labels (``collector.*``), else the matrix's."""
    if key.startswith("collector."):
        return text(key, **values).get(lang)
    return label(key, lang, **values)


def when(moment: Optional[str]) -> str:
    """``2026-12-06T02:40:01.123456Z`` as ``2026-12-06 02:40:01``."""
    return (moment or "")[:19].replace("T", " ")


def failed_checks(host: StoredHost) -> list:
    return [c for c in host.checks if c.status in FAILED]


@functools.lru_cache(maxsize=1)
def _script() -> bytes:
    return resources.files("egov_probe.collector").joinpath("static/live.js").read_bytes()


class LivePage:
    def __init__(self, ctx: CollectorContext, sessions: Sessions) -> None:
        self.ctx = ctx
        self.sessions = sessions
        self.cache = MatrixCache(load_plan())

    # -- drawing

    def render(self, request: Request, template: str, lang: str, status: int = 200,
               **values: Any) -> Response:
        body = environment("egov_probe.collector").get_template(template).render(
            lang=lang, other_lang="en" if lang == "vi" else "vi",
            L=functools.partial(page_label, lang=lang), when=when, **values)
        return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)

    def snapshot(self, unit_id: Optional[str] = None) -> Snapshot:
        return take_snapshot(self.ctx, self.cache, unit_id)

    def matrix_page(self, request: Request, template: str, viewer: str,
                    unit_id: Optional[str] = None, **values: Any) -> Response:
        lang = lang_of(request)
        shot = self.snapshot(unit_id)
        drawn = {k: v for k, v in matrix_values(shot.matrix, lang).items()
                 if k not in ("lang", "L")}  # the page's own labels stand for L
        return self.render(request, template, lang, viewer=viewer, activity=shot.activity,
                           unit_href=lambda uid: f"/units/{uid}?lang={lang}",
                           version=shot.version, **{**drawn, **values})

    # -- routes

    async def index(self, request: Request) -> Response:
        viewer = await self.sessions.viewer(request)
        if viewer is None:
            return self.sessions.login_redirect(request)
        return await run_in_threadpool(self.matrix_page, request, "live.html.j2", viewer,
                                       load_id=secrets.token_hex(8))

    async def charts(self, request: Request) -> Response:
        viewer = await self.sessions.viewer(request)
        if viewer is None:
            return Response(status_code=401)
        return await run_in_threadpool(self.matrix_page, request, "live_charts.html.j2", viewer)

    async def rows(self, request: Request) -> Response:
        """The rows of the units asked (``?unit=A&unit=B``; ``?all=1`` every unit), from one
        snapshot of the store: what the page fetches after events (one request however many
        units changed). The fragment starts with the store's version it shows."""
        viewer = await self.sessions.viewer(request)
        if viewer is None:
            return Response(status_code=401)
        known = self.ctx.unit_ids()
        asked = [u for u in dict.fromkeys(request.query_params.getlist("unit")) if u in known]
        every = request.query_params.get("all") == "1"
        return await run_in_threadpool(self._rows_response, request, viewer, asked, every)

    def _rows_response(self, request: Request, viewer: str, unit_ids: list[str],
                       all_units: bool) -> Response:
        lang = lang_of(request)
        shot = self.snapshot()
        wanted = set(unit_ids)
        response = self.render(request, "live_rows.html.j2", lang, viewer=viewer,
                               rows=[r for r in shot.matrix.rows
                                     if all_units or r.unit.unit_id in wanted],
                               activity=shot.activity, trace_title=trace_title,
                               unit_href=lambda uid: f"/units/{uid}?lang={lang}")
        response.headers[VERSION_HEADER] = shot.version
        return response

    async def row(self, request: Request) -> Response:
        return await self._unit_page(request, "live_row.html.j2", redirect=False)

    async def unit(self, request: Request) -> Response:
        return await self._unit_page(request, "unit.html.j2", redirect=True)

    async def _unit_page(self, request: Request, template: str, redirect: bool) -> Response:
        viewer = await self.sessions.viewer(request)
        if viewer is None:
            return self.sessions.login_redirect(request) if redirect else Response(status_code=401)
        unit_id = request.path_params["unit_id"]
        if unit_id not in self.ctx.unit_ids():
            return self.render(request, "not_found.html.j2", lang_of(request), 404,
                               viewer=viewer)
        return await run_in_threadpool(self._unit_response, request, template, viewer, unit_id)

    def _unit_response(self, request: Request, template: str, viewer: str,
                       unit_id: str) -> Response:
        lang = lang_of(request)
        shot = self.snapshot(unit_id)
        row = next(r for r in shot.matrix.rows if r.unit.unit_id == unit_id)
        servers = [s for s in shot.matrix.servers if s.unit_id == unit_id]
        return self.render(request, template, lang, viewer=viewer, row=row,
                           activity=shot.activity, a=shot.activity.get(unit_id),
                           hosts=[*row.hosts, *servers], failed_checks=failed_checks,
                           CHECK_CLASSES={"fail": "fail", "error": "fail", "warn": "warn"},
                           unit_href=lambda uid: f"/units/{uid}?lang={lang}",
                           trace_title=trace_title)

    def _version(self) -> str:
        database = self.ctx.open_database()
        try:
            return store_version(database)
        finally:
            database.close()

    async def script(self, request: Request) -> Response:
        return Response(_script(), media_type="text/javascript",
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})

    async def events(self, request: Request) -> Response:
        viewer = await self.sessions.viewer(request)
        if viewer is None:
            return Response(status_code=401)
        return StreamingResponse(self._stream(request, viewer), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def _stream(self, request: Request, viewer: str) -> AsyncIterator[str]:
        """First a ``version`` event (the store's state: a page drawn from another state
        fetches every row), then one ``unit`` event per unit the API changed. Every
        KEEPALIVE_S without one: the version again if the store changed otherwise (a USB
        import, another server process), else a comment. The stream ends when the viewer's
        session does (the page then goes to the login), and when the server stops (the page
        reconnects)."""
        known = self.ctx.unit_ids()
        async with self.ctx.bus.subscribe() as queue:
            version = await run_in_threadpool(self._version)  # after subscribing: no gap
            yield f"retry: {RETRY_MS}\n: connected\n\nevent: version\ndata: {version}\n\n"
            while True:
                try:
                    unit_id = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_S)
                except asyncio.TimeoutError:
                    if self.sessions.name_in(request) != viewer \
                            or not await run_in_threadpool(self.sessions.still_active, viewer):
                        return
                    now = await run_in_threadpool(self._version)
                    yield f"event: version\ndata: {now}\n\n" if now != version \
                        else ": keep-alive\n\n"
                    version = now
                    continue
                if unit_id is None:
                    return  # the server stops
                if unit_id in known:
                    yield f"event: unit\ndata: {unit_id}\n\n"
