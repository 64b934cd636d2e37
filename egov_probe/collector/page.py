"""The live readiness page (docs/collector.md, "The live page"): built by its own change;
until then the collector serves the API alone."""

from __future__ import annotations

from starlette.routing import BaseRoute

from .context import CollectorContext


def routes(ctx: CollectorContext) -> list[BaseRoute]:
    return []
