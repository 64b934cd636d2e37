"""The matrix of the store at a moment: what ``egov-probe matrix`` and the monthly report call."""

from __future__ import annotations

from ..core.clock import utc_now, utc_text
from ..core.plan import Plan
from ..store.db import Database
from ..store.queries import latest_hosts, latest_mailbox_reviews
from .build import Matrix, MatrixFilter, build_matrix
from .inventory import UnitInfo
from .periods import end_of_day_bound, start_of_day_bound


def matrix_from_store(database: Database, infos: list[UnitInfo], plan: Plan,
                      filters: MatrixFilter) -> Matrix:
    """The latest report per host (and review per unit) up to ``filters.as_of``, per unit."""
    before = end_of_day_bound(filters.as_of)
    since = start_of_day_bound(filters.since)
    return build_matrix(infos, plan, latest_hosts(database, before, since),
                        latest_mailbox_reviews(database, before, since), filters,
                        utc_text(utc_now()))
