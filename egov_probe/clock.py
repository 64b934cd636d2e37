"""Timestamps for reports: UTC with the machine's local offset beside it."""

from __future__ import annotations

import datetime as dt

from .facts.system import format_offset


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def utc_text(moment: dt.datetime) -> str:
    """``2026-11-28T17:43:35.123456Z``."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def local_offset_text(moment: dt.datetime) -> str:
    offset = moment.astimezone().utcoffset() or dt.timedelta(0)
    return format_offset(int(offset.total_seconds()))
