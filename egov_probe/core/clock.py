"""Timestamps for reports: UTC with the machine's local offset beside it."""

from __future__ import annotations

import datetime as dt


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def utc_text(moment: dt.datetime) -> str:
    """``2026-11-28T17:43:35.123456Z``."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def local_offset_text(moment: dt.datetime) -> str:
    offset = moment.astimezone().utcoffset() or dt.timedelta(0)
    return format_offset(int(offset.total_seconds()))


def format_offset(seconds: int) -> str:
    """``+07:00`` for 25200 seconds east of UTC."""
    sign = "+" if seconds >= 0 else "-"
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
