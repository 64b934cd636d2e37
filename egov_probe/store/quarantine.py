"""Bad files go to a quarantine folder with the reason beside them: nothing is deleted."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ..core.clock import utc_now, utc_text
from .sources import BadArchive, SourceDocument

REASON_SUFFIX = ".reason.txt"


@dataclass(frozen=True)
class Quarantine:
    folder: Path

    def put(self, item: SourceDocument | BadArchive, reason: str) -> tuple[Path, str]:
        """Move a bad file (or copy a bad zip member out of its zip) here, with
        ``<name>.reason.txt``; returns where it went and the reason as written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if isinstance(item, SourceDocument) and item.member is not None:
            target = self._free_name(f"{item.path.stem}__{Path(item.member).name}")
            try:
                target.write_bytes(item.read())
            except Exception:  # a damaged member: keep a copy of the whole zip instead
                target = self._free_name(item.path.name)
                shutil.copy2(item.path, target)
        else:
            target = self._free_name(item.path.name)
            reason += self._move(item.path, target)
        reason_file = target.with_name(target.name + REASON_SUFFIX)
        reason_file.write_text(f"{reason}\n\norigin: {item.origin}\nquarantined_at: "
                               f"{utc_text(utc_now())}\n", encoding="utf-8")
        return target, reason

    @staticmethod
    def _move(source: Path, target: Path) -> str:
        """Move; a file that cannot be removed from its medium (read-only stick) is copied."""
        shutil.copy2(source, target)
        try:
            source.unlink()
        except OSError as exc:
            return f" (copied: the original could not be removed: {exc.strerror})"
        return ""

    def _free_name(self, name: str) -> Path:
        target = self.folder / name
        counter = 1
        while target.exists():
            target = self.folder / f"{Path(name).stem}.{counter}{Path(name).suffix}"
            counter += 1
        return target
