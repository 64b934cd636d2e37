"""Windows evidence fixtures produced by the live code under Wine.

``egov-probe evidence`` run by the Windows CPython in the Wine test bed writes the Windows
evidence format; :func:`fixture_document` turns its ``windows`` member into a fixture whose
``_origin`` says so. ``tests/test_wine_fixtures.py`` checks that the committed fixtures are what
the live code produces now, and rewrites them with ``EGOV_WRITE_WINE_FIXTURES=1``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "windows"
ORIGIN = ("Produced by the live code: `egov-probe evidence` (LiveWindowsSource through "
          "RecordingWindowsSource) run by the official embeddable Windows CPython 3.11 under "
          "Debian 12's Wine 8.0, in the Wine test bed (tests/wine/), case {case}. Executables "
          "are mingw-w64 builds with real VERSIONINFO resources; registry keys were planted "
          "with regedit as the installers leave them (tests/wine/scenario.py). Not a real "
          "Windows machine: Wine's own values (IE, fonts, the account 'root') are Wine's. "
          "Rewrite with EGOV_WRITE_WINE_FIXTURES=1 ./scripts/test.sh tests/test_wine_fixtures.py")
CASES = {
    "wine_ie_only.json": "a fresh prefix: Wine's own Internet Explorer, no supported browser",
    "wine_planted.json": "the planted machine: Chrome per machine with a stale registry, Edge "
                         "beside WebView2, Firefox and 32-bit Firefox ESR, per-user Chrome "
                         "(lan, hive file loaded) and Cốc Cốc (logged-on user), minh's regf "
                         "hive that cannot be loaded, hoa's Firefox leftover",
    "wine_chrome32.json": "the planted machine after Chrome was reinstalled as 32-bit",
}


def fixture_document(dump: dict[str, Any], name: str) -> dict[str, Any]:
    document = dict(dump["windows"])
    document["_origin"] = ORIGIN.format(case=CASES[name])
    return document


def text(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
