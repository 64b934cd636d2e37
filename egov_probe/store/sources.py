"""Where reports come from: files, folders (a USB stick) and zip files, one SourceDocument each."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

from ..core.errors import InputError

DOCUMENT_SUFFIX = ".json"
ARCHIVE_SUFFIX = ".zip"


@dataclass(frozen=True)
class SourceDocument:
    """One document to import: a file, or a member of a zip file."""

    path: Path
    member: Optional[str] = None

    @property
    def origin(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    def read(self) -> bytes:
        if self.member is None:
            return self.path.read_bytes()
        with zipfile.ZipFile(self.path) as archive:
            return archive.read(self.member)


@dataclass(frozen=True)
class BadArchive:
    """A zip file that cannot be opened at all (it goes to quarantine whole)."""

    path: Path
    reason: str

    @property
    def origin(self) -> str:
        return str(self.path)


def discover(paths: Iterable[Path], skip: Optional[Path] = None
             ) -> Iterator[SourceDocument | BadArchive]:
    """Every ``.json`` file and every ``.json`` member of a ``.zip`` under ``paths``, sorted.

    ``skip`` (the quarantine folder) is never read again.
    """
    skip = skip.resolve() if skip is not None else None
    for path in paths:
        path = Path(path).resolve()
        if not path.exists():
            raise InputError("no such file or folder", path=str(path))
        files = sorted((p for p in path.rglob("*") if p.is_file()), key=str) \
            if path.is_dir() else [path]
        for file in files:
            if skip is not None and _inside(file, skip):
                continue
            if file.suffix.lower() == ARCHIVE_SUFFIX:
                yield from _archive_items(file)
            elif file.suffix.lower() == DOCUMENT_SUFFIX or not path.is_dir():
                yield SourceDocument(file)


def ignored_files(paths: Iterable[Path], skip: Optional[Path] = None) -> list[Path]:
    """Files in the folders that are neither ``.json`` nor ``.zip`` (listed, never read)."""
    found = []
    skip = skip.resolve() if skip is not None else None
    for path in (Path(p).resolve() for p in paths):
        if path.is_dir():
            found += [p for p in sorted(path.rglob("*")) if p.is_file()
                      and p.suffix.lower() not in (DOCUMENT_SUFFIX, ARCHIVE_SUFFIX)
                      and not (skip is not None and _inside(p, skip))]
    return found


def _archive_items(file: Path) -> Iterator[SourceDocument | BadArchive]:
    try:
        with zipfile.ZipFile(file) as archive:
            names = sorted(info.filename for info in archive.infolist()
                           if not info.is_dir() and info.filename.lower().endswith(DOCUMENT_SUFFIX))
    except (zipfile.BadZipFile, OSError) as exc:
        yield BadArchive(file, f"not a readable zip file: {exc}")
        return
    for name in names:
        yield SourceDocument(file, name)


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` (under a resolved folder) lies in ``folder`` (resolved)."""
    return path == folder or folder in path.parents
