"""The collector's ASGI app: the probes' API (``api``) and the live page (``page``) over one
context. ``commands/serve.py`` runs it on uvicorn; tests run it the same way."""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

from starlette.applications import Starlette

from . import page
from .api import ProbeApi
from .context import CollectorContext


def build_app(ctx: CollectorContext) -> Starlette:
    """``app.state.api``: the API's workers and limits (tests look at them)."""
    api = ProbeApi(ctx)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ctx.bus.bind(asyncio.get_running_loop())
        api.workers.start()
        try:
            yield
        finally:
            api.workers.stop()

    app = Starlette(routes=[*api.routes(), *page.routes(ctx)], lifespan=lifespan)
    app.state.api = api
    app.state.ctx = ctx
    return app
