"""Bad files are copied to a quarantine folder with the reason beside them.

The original is never deleted, moved or modified: the copy is what a technician fixes and
imports again (or throws away). A document over the size limits is not copied (the reason
file says where it is).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ..core.clock import utc_now, utc_text
from ..core.errors import OutputError
from .sources import BadItem, Source, SourceDocument

REASON_SUFFIX = ".reason.txt"


@dataclass(frozen=True)
class Quarantine:
    folder: Path

    def put(self, item: Source, reason: str) -> tuple[Path, str]:
        """Copy a bad file (or a bad zip member out of its zip) here, with
        ``<name>.reason.txt``; returns where it went and the reason as written."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self._copy(item)
            if target is None:
                target = self._free_name(Path(item.origin.replace("!", "__")).name)
                reason += " (not copied: the original is left where it is)"
                where = target.with_name(target.name + REASON_SUFFIX)
            else:
                where = target.with_name(target.name + REASON_SUFFIX)
            where.write_text(f"{reason}\n\norigin: {item.origin}\nquarantined_at: "
                             f"{utc_text(utc_now())}\n", encoding="utf-8",
                             errors="backslashreplace")
        except OSError as exc:
            raise OutputError(f"cannot write to the quarantine folder: {exc.strerror or exc}",
                              path=str(self.folder), field="--quarantine") from exc
        return target, reason

    def _copy(self, item: Source) -> Path | None:
        """The copy: an earlier identical copy (the same file imported again) is reused."""
        if isinstance(item, BadItem):
            return None
        if isinstance(item, SourceDocument) and item.member is not None:
            try:
                content = item.read()
            except Exception:  # noqa: BLE001 - a damaged member: a copy of the whole zip instead
                content = None
            if content is not None:
                target = self._free_name(f"{item.path.stem}__{Path(item.member).name}", content)
                if not target.exists():
                    target.write_bytes(content)
                return target
        target = self._free_name(item.path.name, item.path.read_bytes())
        if not target.exists():
            shutil.copyfile(item.path, target)
        return target

    def _free_name(self, name: str, content: bytes | None = None) -> Path:
        """``name``, or ``<stem>.<n><suffix>`` when taken by another file; a file with the
        same ``content`` already there is the name returned."""
        target = self.folder / name
        counter = 1
        while target.exists() or target.with_name(target.name + REASON_SUFFIX).exists():
            if content is not None and target.is_file() and \
                    target.stat().st_size == len(content) and target.read_bytes() == content:
                return target
            target = self.folder / f"{Path(name).stem}.{counter}{Path(name).suffix}"
            counter += 1
        return target
