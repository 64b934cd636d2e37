"""The raw values the collectors read, so that a real field machine can become a test fixture."""

from __future__ import annotations

import platform
import sys
from typing import Any

from .. import __version__
from ..core.clock import utc_now, utc_text
from ..facts.base import collect_timed
from ..facts.system import SYSTEM_COLLECTORS


def collect_evidence() -> dict[str, Any]:
    facts, _durations, errors = collect_timed(SYSTEM_COLLECTORS)
    data: dict[str, Any] = {
        "_origin": f"egov-probe {__version__} evidence dump on {platform.node()} at {utc_text(utc_now())}",
        "platform": sys.platform,
        "system": {name: fact.as_dict() for name, fact in facts.items()},
        "errors": errors,
    }
    if sys.platform == "win32":
        from ..facts.browsers_windows import scan_windows_browsers, windows_os_fact
        from ..facts.cert_stores import windows_store
        from ..facts.winsource import LiveWindowsSource, RecordingWindowsSource, dump_evidence
        recorder = RecordingWindowsSource(LiveWindowsSource(), origin=data["_origin"])
        data["browsers"] = scan_windows_browsers(recorder).as_fact()
        windows_os_fact(recorder)  # the release's registry values go into the dump too
        data["cert_stores"] = [windows_store(recorder).as_dict()]  # its registry reads too
        data["windows"] = dump_evidence(recorder)
    else:
        from ..facts.browsers_linux import collect_linux_browsers
        data["browsers"] = {"browsers": [b.as_fact() for b in collect_linux_browsers()]}
    return data
