"""Bad files go to a quarantine folder with the reason beside them: nothing is deleted."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ..clock import utc_now, utc_text
from .sources import BadArchive, Item

REASON_SUFFIX = ".reason.txt"


@dataclass(frozen=True)
class Quarantine:
    folder: Path

    def put(self, item: Item | BadArchive, reason: str) -> Path:
        """Move a bad file (or copy a bad zip member out of its zip) here, with ``<name>.reason.txt``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if isinstance(item, Item) and item.member is not None:
            target = self._free_name(f"{item.path.stem}__{Path(item.member).name}")
            try:
                target.write_bytes(item.read())
            except Exception:  # a damaged member: keep a copy of the whole zip instead
                target = self._free_name(item.path.name)
                shutil.copy2(item.path, target)
        else:
            target = self._free_name(item.path.name)
            shutil.move(str(item.path), str(target))
        reason_file = target.with_name(target.name + REASON_SUFFIX)
        reason_file.write_text(f"{reason}\n\norigin: {item.origin}\nquarantined_at: "
                               f"{utc_text(utc_now())}\n", encoding="utf-8")
        return target

    def _free_name(self, name: str) -> Path:
        target = self.folder / name
        counter = 1
        while target.exists():
            target = self.folder / f"{Path(name).stem}.{counter}{Path(name).suffix}"
            counter += 1
        return target
