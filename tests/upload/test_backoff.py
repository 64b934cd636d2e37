"""Full-jitter backoff (random injected) and Retry-After, as seconds or as an HTTP date."""

from __future__ import annotations

import datetime as dt
import email.utils

from egov_probe.upload.backoff import Backoff, parse_retry_after

NOW = dt.datetime(2026, 12, 6, 2, 0, tzinfo=dt.timezone.utc)


def test_the_ceiling_doubles_from_one_second_up_to_five_minutes():
    backoff = Backoff(random=lambda: 1.0)
    assert [backoff.ceiling(n) for n in range(10)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert backoff.ceiling(200) == 300 and backoff.ceiling(10_000) == 300


def test_full_jitter_is_the_random_share_of_the_ceiling():
    assert Backoff(random=lambda: 0.5).delay(3) == 4.0
    assert Backoff(random=lambda: 0.0).delay(7) == 0.0
    assert Backoff(random=lambda: 0.999).delay(20) == 0.999 * 300


def test_retry_after_is_waited_at_least():
    backoff = Backoff(random=lambda: 0.5)
    assert backoff.wait(0, 30.0) == 30.0
    assert backoff.wait(2, None) == 2.0


def test_retry_after_seconds_and_dates():
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after(" 0 ", NOW) == 0.0
    later = email.utils.format_datetime(NOW + dt.timedelta(seconds=45), usegmt=True)
    assert parse_retry_after(later, NOW) == 45.0
    earlier = email.utils.format_datetime(NOW - dt.timedelta(hours=1), usegmt=True)
    assert parse_retry_after(earlier, NOW) == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", NOW) == 0.0


def test_unreadable_retry_after_is_none_and_huge_is_a_day():
    for text in (None, "", "soon", "-5", "1.5", "Thu, 99 Foo"):
        assert parse_retry_after(text, NOW) is None
    assert parse_retry_after("99999999", NOW) == 86400.0
