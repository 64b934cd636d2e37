"""The fleet's progress bar on stderr: how many hosts are done, and how they ended."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Optional, TextIO

from ..core.model import Outcome, Report

# Count keys in display order, with their Vietnamese and English labels.
LABELS = {
    "ready": ("sẵn sàng", "ready"),
    "not_ready": ("chưa sẵn sàng", "not ready"),
    Outcome.UNREACHABLE.value: ("không kết nối được", "unreachable"),
    Outcome.AUTH_FAILED.value: ("sai xác thực", "authentication failed"),
    Outcome.HOST_KEY_MISMATCH.value: ("khóa máy lạ", "host key mismatch"),
    Outcome.TIMED_OUT.value: ("quá hạn", "timed out"),
    Outcome.PARTIAL.value: ("dở dang", "partial"),
    "skipped": ("đã có báo cáo", "already audited"),
}


def category(report: Report) -> str:
    """ready / not_ready for an audited host, else its outcome."""
    if report.outcome is Outcome.COMPLETE:
        return "not_ready" if report.readiness() == "not_ready" else "ready"
    return report.outcome.value


class Progress:
    """Counts per category; redraws one line on a terminal, prints a line a second otherwise."""

    def __init__(self, total: int, stream: Optional[TextIO], lang: str = "vi") -> None:
        self.total = total
        self.counts: Counter[str] = Counter()
        self.stream = stream
        self.lang = lang
        self._lock = threading.Lock()
        self._last_draw = 0.0
        self._last_line = ""
        self._tty = bool(stream and hasattr(stream, "isatty") and stream.isatty())

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def record(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1
            self._draw(final=False)

    def finish(self) -> None:
        with self._lock:
            self._draw(final=True)

    def line(self) -> str:
        width = 24
        filled = width * self.done // self.total if self.total else width
        counts = " · ".join(f"{self._label(key)} {self.counts[key]}" for key in LABELS
                            if self.counts[key] or key in ("ready", "not_ready"))
        return f"[{'#' * filled}{'-' * (width - filled)}] {self.done}/{self.total}  {counts}"

    def _label(self, key: str) -> str:
        vi, en = LABELS[key]
        return en if self.lang == "en" else vi

    def _draw(self, final: bool) -> None:
        if not self.stream:
            return
        now = time.monotonic()
        if not final and now - self._last_draw < (0.1 if self._tty else 1.0):
            return
        self._last_draw = now
        line = self.line()
        if self._tty:
            self.stream.write("\r\x1b[K" + line + ("\n" if final else ""))
        elif line != self._last_line:
            self.stream.write(line + "\n")
        self._last_line = line
        self.stream.flush()
