"""Fixtures of the role tests: a lab of systemd-nspawn Debian 12 servers, torn down after."""

from __future__ import annotations

import os

import pytest

from tests.harness.nspawn import ServerLab


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("systemd-nspawn servers, overlays, bridges and cgroups need root")
    with ServerLab(tmp_path_factory.mktemp("lab")) as server_lab:
        yield server_lab
