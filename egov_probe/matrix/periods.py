"""Dates the DIC speaks in (Vietnam time, UTC+7) as the UTC bounds the store is queried with."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from ..core.errors import InputError

VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")


def day_start_utc(day: dt.date) -> str:
    """The first second of ``day`` in Vietnam, as store UTC text (``YYYY-MM-DDTHH:MM:SS``)."""
    moment = dt.datetime.combine(day, dt.time(), VIETNAM).astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def end_of_day_bound(day: Optional[dt.date]) -> str:
    """Exclusive upper bound for "up to the end of ``day``" (no day: no bound)."""
    return day_start_utc(day + dt.timedelta(days=1)) if day else "9999"


def start_of_day_bound(day: Optional[dt.date]) -> str:
    return day_start_utc(day) if day else ""


FIRST_YEAR, LAST_YEAR = 2000, 2999  # the dates a store can be asked about


def parse_day(value: str, option: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"expected a date YYYY-MM-DD, found {value[:40]!r}", field=option) from exc
    _check_year(day.year, value, option)
    return day


def parse_month(value: str, option: str = "--month") -> tuple[int, int]:
    try:
        moment = dt.datetime.strptime(value, "%Y-%m")
    except ValueError as exc:
        raise InputError(f"expected a month YYYY-MM, found {value[:40]!r}", field=option) from exc
    _check_year(moment.year, value, option)
    return moment.year, moment.month


def _check_year(year: int, value: str, option: str) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InputError(f"expected a date between {FIRST_YEAR} and {LAST_YEAR}, found {value!r}",
                         field=option)


def month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year, month - 1) if month > 1 else (year - 1, 12)
