"""Where reports come from: files, folders (a USB stick) and zip files, one item per document.

Only what is a report by its suffix (``.json``, or a ``.json`` member of a ``.zip``) and by its
content (it names ``schema_version`` with ``report_id`` or ``review_id``) is taken from a folder
or a zip; any other JSON there (a browser's settings in a home folder) is skipped, listed, and
never read again nor touched. A file named on the command line is always judged. Nothing here
writes to the files it is given.

Limits (named in the refusal): a document at most ``MAX_DOCUMENT_BYTES``; a zip member at most
as much once uncompressed; a zip at most ``MAX_ZIP_MEMBERS`` members and ``MAX_ZIP_BYTES`` once
uncompressed, and no member expanding more than ``MAX_RATIO`` times (a zip bomb).
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator, Optional, Union

from ..core.errors import InputError
from ..core.signing import SIDECAR_SUFFIX
from ..core.yamlsource import DOCUMENT_LIMITS, size_text

DOCUMENT_SUFFIX = ".json"
SIGNED_SUFFIX = DOCUMENT_SUFFIX + SIDECAR_SUFFIX  # x.json.sig: x.json's signature
_SIDECAR_LIMIT = 64 * 1024  # a sidecar is a few hundred bytes (core/signing refuses more)
ARCHIVE_SUFFIX = ".zip"
MAX_DOCUMENT_BYTES = DOCUMENT_LIMITS.max_bytes
MAX_ZIP_BYTES = 512 * 1024 * 1024
MAX_ZIP_MEMBERS = 20_000
MAX_RATIO = 200
_MARKS = re.compile(rb'"(schema_version|report_id|review_id)"\s*:')


class TooLarge(Exception):
    """A document beyond a size limit (the message names the limit)."""


@dataclass(frozen=True)
class SourceDocument:
    """One document to import: a file, or a member of a zip file."""

    path: Path
    member: Optional[str] = None

    @property
    def origin(self) -> str:
        return origin_text(self.path, self.member)

    def read(self) -> bytes:
        """The document's bytes, never more than the limit (TooLarge beyond it)."""
        if self.member is None:
            with open(self.path, "rb") as handle:
                raw = read_at_most(handle, MAX_DOCUMENT_BYTES + 1)
        else:
            with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as handle:
                raw = handle.read(MAX_DOCUMENT_BYTES + 1)
        if len(raw) > MAX_DOCUMENT_BYTES:
            raise TooLarge(f"larger than the limit of {size_text(MAX_DOCUMENT_BYTES)} per "
                           f"report")
        return raw

    def read_sidecar(self) -> Optional[bytes]:
        """The content of the document's ``.sig`` file beside it (in the same zip), if any."""
        if self.member is None:
            sidecar = Path(str(self.path) + SIDECAR_SUFFIX)
            if not sidecar.is_file():
                return None
            with open(sidecar, "rb") as handle:
                return handle.read(_SIDECAR_LIMIT)
        with zipfile.ZipFile(self.path) as archive:
            try:
                info = archive.getinfo(self.member + SIDECAR_SUFFIX)
            except KeyError:
                return None
            with archive.open(info) as handle:
                return handle.read(_SIDECAR_LIMIT)


@dataclass(frozen=True)
class BadArchive:
    """A zip file that cannot be opened, or is refused whole (it goes to quarantine whole)."""

    path: Path
    reason: str

    @property
    def origin(self) -> str:
        return origin_text(self.path)


@dataclass(frozen=True)
class BadItem:
    """A document refused before it is read (too large); the original is left where it is."""

    path: Path
    reason: str
    member: Optional[str] = None

    @property
    def origin(self) -> str:
        return origin_text(self.path, self.member)


def read_at_most(handle: BinaryIO, count: int) -> bytes:
    """``handle.read(count)`` of a file, without the buffer of ``count`` bytes that Python sets
    aside first (16 MB for every report of a few KB: most of the time of reading it)."""
    expected = min(os.fstat(handle.fileno()).st_size + 1, count)
    raw = handle.read(expected)
    if len(raw) < expected or expected == count:
        return raw
    return raw + handle.read(count - expected)  # the file grew since: read on to the limit


def origin_text(path: Path, member: Optional[str] = None) -> str:
    """Where a document came from, as text any store and terminal can hold: a file name in
    another encoding than UTF-8 (an old stick) shows its odd bytes as ``\\xNN``."""
    text = f"{path}!{member}" if member else str(path)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


Source = Union[SourceDocument, BadArchive, BadItem]


@dataclass
class Skipped:
    """Files seen and left alone: not .json/.zip, or JSON that is not a report."""

    other: list[Path]
    not_reports: list[str]


def discover(paths: Iterable[Path], skip: Optional[Path] = None,
             skipped: Optional[Skipped] = None) -> Iterator[Source]:
    """Every report file and report member of a ``.zip`` under ``paths``, sorted.

    ``skip`` (the quarantine folder) is never read again; what is left alone goes to ``skipped``.
    """
    skipped = skipped if skipped is not None else Skipped([], [])
    skip = skip.resolve() if skip is not None else None
    for path in paths:
        path = Path(path).resolve()
        if not path.exists():
            raise InputError("no such file or folder", path=str(path))
        named = not path.is_dir()
        files = [path] if named else sorted((p for p in path.rglob("*") if p.is_file()), key=str)
        for file in files:
            if skip is not None and _inside(file, skip):
                continue
            suffix = file.suffix.lower()
            if is_paired_sidecar(file):
                continue  # read with its report
            if suffix == ARCHIVE_SUFFIX:
                yield from _archive_items(file, skipped)
            elif suffix == DOCUMENT_SUFFIX or named:
                yield from _file_item(file, named, skipped)
            else:
                skipped.other.append(file)


def is_paired_sidecar(file: Path) -> bool:
    """``x.json.sig`` with ``x.json`` beside it: the report's signature, not a document."""
    return file.name.lower().endswith(SIGNED_SUFFIX) and \
        Path(str(file)[:-len(SIDECAR_SUFFIX)]).is_file()


def _file_item(file: Path, named: bool, skipped: Skipped) -> Iterator[Source]:
    try:
        size = file.stat().st_size
    except OSError as exc:
        yield BadItem(file, f"cannot read: {exc.strerror}")
        return
    if size > MAX_DOCUMENT_BYTES:
        if named or _looks_like_report(_head(file)):
            yield BadItem(file, f"{size_text(size)}: larger than the limit of "
                                f"{size_text(MAX_DOCUMENT_BYTES)} per report")
        else:
            skipped.not_reports.append(origin_text(file))
        return
    if named or _looks_like_report(_head(file)):
        yield SourceDocument(file)
    else:
        skipped.not_reports.append(origin_text(file))


def _head(file: Path) -> bytes:
    try:
        with open(file, "rb") as handle:
            return read_at_most(handle, MAX_DOCUMENT_BYTES)
    except OSError:
        return b'"report_id":'  # unreadable: judged (and refused with the reason) as a report


def _looks_like_report(raw: bytes) -> bool:
    """Names ``schema_version``, ``report_id`` or ``review_id`` as a key: a report or review."""
    return _MARKS.search(raw) is not None


def _archive_items(file: Path, skipped: Skipped) -> Iterator[Source]:
    try:
        with zipfile.ZipFile(file) as archive:
            infos = [info for info in archive.infolist()
                     if not info.is_dir() and info.filename.lower().endswith(DOCUMENT_SUFFIX)]
            refusal = _zip_refusal(archive.infolist())
            if refusal:
                yield BadArchive(file, refusal)
                return
            items = []
            for info in sorted(infos, key=lambda i: i.filename):
                if info.file_size > MAX_DOCUMENT_BYTES:
                    items.append(BadItem(file, f"{size_text(info.file_size)} once uncompressed: "
                                               f"larger than the limit of "
                                               f"{size_text(MAX_DOCUMENT_BYTES)} per report",
                                         info.filename))
                    continue
                with archive.open(info) as handle:
                    head = handle.read(MAX_DOCUMENT_BYTES)
                if _looks_like_report(head):
                    items.append(SourceDocument(file, info.filename))
                else:
                    skipped.not_reports.append(origin_text(file, info.filename))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
            EOFError, OSError, ValueError) as exc:
        yield BadArchive(file, f"not a readable zip file: {exc}")
        return
    yield from items


def _zip_refusal(infos: list[zipfile.ZipInfo]) -> Optional[str]:
    """Why a zip is refused whole (a zip bomb), or None."""
    if len(infos) > MAX_ZIP_MEMBERS:
        return f"{len(infos)} members: more than the limit of {MAX_ZIP_MEMBERS} per zip"
    total = sum(info.file_size for info in infos)
    if total > MAX_ZIP_BYTES:
        return (f"{size_text(total)} once uncompressed: more than the limit of "
                f"{size_text(MAX_ZIP_BYTES)} per zip (a zip bomb?)")
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            return (f"member {info.filename} expands {info.file_size // max(info.compress_size, 1)}"
                    f" times (more than {MAX_RATIO}): refused as a zip bomb")
    return None


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` (under a resolved folder) lies in ``folder`` (resolved); compared as text
    (both are normalised), not through ``path.parents`` (built anew for each of 10,000 files)."""
    text, folder_text = str(path), str(folder)
    return text == folder_text or text.startswith(folder_text.rstrip(os.sep) + os.sep)
