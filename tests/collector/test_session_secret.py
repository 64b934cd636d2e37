"""The secret that signs viewers' cookies: made once, owner-only, kept across starts; refused
when others may read it or when the environment gives too short a one."""

from __future__ import annotations

import os

import pytest

from egov_probe.collector.session_secret import SECRET_ENV, session_secret
from egov_probe.core.errors import InputError


def test_made_once_for_its_owner_only_and_kept_across_starts(tmp_path):
    path = tmp_path / "egov-collector.secret"
    first = session_secret(path, environ={})
    assert path.stat().st_mode & 0o777 == 0o600 and len(first) >= 32
    assert session_secret(path, environ={}) == first


def test_a_secret_others_may_read_is_refused(tmp_path):
    path = tmp_path / "egov-collector.secret"
    session_secret(path, environ={})
    os.chmod(path, 0o644)
    with pytest.raises(InputError, match="chmod 600"):
        session_secret(path, environ={})


def test_the_environment_wins_and_must_be_long_enough(tmp_path):
    path = tmp_path / "egov-collector.secret"
    assert session_secret(path, environ={SECRET_ENV: "k" * 40}) == b"k" * 40
    assert not path.exists()
    with pytest.raises(InputError, match="at least 32"):
        session_secret(path, environ={SECRET_ENV: "short"})
