"""The Windows fixtures Wine can produce are produced by the live code under Wine."""

from __future__ import annotations

import json
import os

import pytest

from tests.wine.fixtures import CASES, FIXTURES, fixture_document, text

pytestmark = pytest.mark.wine


@pytest.fixture
def runs(bare_run, planted_run, chrome32_run) -> dict:
    if not planted_run.current[1].casefold().endswith("\\root"):
        pytest.skip("the Wine fixtures were produced as root (Wine's account 'root', as in CI)")
    return {"wine_ie_only.json": bare_run, "wine_planted.json": planted_run,
            "wine_chrome32.json": chrome32_run}


def test_the_committed_wine_fixtures_are_what_the_live_code_produces(runs) -> None:
    assert set(runs) == set(CASES)
    stale = []
    for name, run in runs.items():
        produced = text(fixture_document(run.evidence, name))
        path = FIXTURES / name
        if os.environ.get("EGOV_WRITE_WINE_FIXTURES") == "1":
            path.write_text(produced, encoding="utf-8")
        if not path.exists() or path.read_text(encoding="utf-8") != produced:
            stale.append(name)
    assert stale == [], (f"{stale} differ from what the live code produces under Wine; "
                         "rewrite with EGOV_WRITE_WINE_FIXTURES=1")


def test_each_wine_fixture_gives_the_browsers_the_live_code_found(runs) -> None:
    from egov_probe.facts.browsers_windows import scan_windows_browsers
    from egov_probe.facts.winsource import load_fixture

    for name, run in runs.items():
        assert scan_windows_browsers(load_fixture(FIXTURES / name)).as_fact() == \
            run.evidence["browsers"], name
        assert json.loads((FIXTURES / name).read_text(encoding="utf-8"))["_origin"].startswith(
            "Produced by the live code")
