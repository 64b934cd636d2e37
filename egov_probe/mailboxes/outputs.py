"""What the review leaves behind: the review document (JSON, for the store), the LDIF and the
CSV for the mail administrators, and the short summary officials read (Vietnamese first)."""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..core.atomic import write_json_atomic, write_text_atomic
from ..core.messages import text
from .directory import NewEntry
from .review import MailboxOutcome, UnitReview

LDIF_WIDTH = 76
CSV_COLUMNS = ("unit_id", "unit_name", "full_name", "position", "phone", "proposed_address", "dn")


@dataclass(frozen=True)
class UnitFiles:
    review: Path
    ldif: Path
    csv: Path


def file_stem(review: UnitReview) -> str:
    stamp = review.generated_at[:19].replace(":", "").replace("-", "")
    return f"mailboxes_{review.unit.unit_id}_{stamp}Z_{review.review_id[:8]}"


def write_unit_files(review: UnitReview, entries: Sequence[NewEntry], out_dir: Path) -> UnitFiles:
    """One unit's review JSON, and the LDIF and CSV of the entries it proposes, each written
    atomically."""
    stem = Path(out_dir) / file_stem(review)
    return UnitFiles(
        review=write_json_atomic(stem.with_suffix(".json"), review.to_dict()),
        ldif=write_text_atomic(stem.with_suffix(".ldif"), ldif_text(entries)),
        csv=write_text_atomic(stem.with_suffix(".csv"), csv_text(review, entries)))


def ldif_text(entries: Sequence[NewEntry]) -> str:
    """RFC 2849 LDIF to add ``entries`` (non-ASCII values base64-encoded, long lines folded)."""
    blocks = []
    for entry in entries:
        lines = [_ldif_line("dn", entry.dn), "changetype: add"]
        lines += [_ldif_line("objectClass", oc) for oc in entry.object_classes]
        lines += [_ldif_line(name, value) for name, value in entry.attributes.items()]
        blocks.append("\n".join(lines) + "\n")
    return "version: 1\n\n" + "\n".join(blocks)


def _ldif_line(name: str, value: str) -> str:
    if _ldif_safe(value):
        line = f"{name}: {value}"
    else:
        line = f"{name}:: {base64.b64encode(value.encode('utf-8')).decode('ascii')}"
    return "\n ".join(line[i:i + LDIF_WIDTH - 1] if i else line[:LDIF_WIDTH]
                      for i in [0, *range(LDIF_WIDTH, len(line), LDIF_WIDTH - 1)])


def _ldif_safe(value: str) -> bool:
    return (value.isascii() and value.isprintable() and not value.startswith((" ", ":", "<"))
            and not value.endswith(" "))


def csv_text(review: UnitReview, entries: Sequence[NewEntry]) -> str:
    """The officers to create accounts for, one row each (UTF-8 with BOM, for Excel)."""
    missing = review.with_outcome(MailboxOutcome.MISSING)
    if len(missing) != len(entries):
        raise ValueError("expected one new entry per officer without a mailbox")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item, entry in zip(missing, entries):
        officer = item.officer
        writer.writerow([review.unit.unit_id, review.unit.name_vi, officer.full_name,
                         officer.position, officer.phone or "", item.proposed_address, entry.dn])
    return "\ufeff" + buffer.getvalue()


def summary_lines(review: UnitReview, lang: str) -> list[str]:
    """Who lacks a mailbox, whose is disabled, whose address disagrees: one line each."""
    unit = review.unit
    lines = [text("mailboxes.unit", unit=unit.name_vi, unit_id=unit.unit_id,
                  working=review.working, officers=len(review.officers)).get(lang)]
    for item in review.officers:
        officer = item.officer
        values = dict(name=officer.full_name, position=officer.position,
                      address=officer.address or item.directory_address,
                      directory_address=item.directory_address, proposed=item.proposed_address,
                      marker=item.disabled_by)
        key = {MailboxOutcome.MISSING: "mailboxes.missing",
               MailboxOutcome.DISABLED: "mailboxes.disabled",
               MailboxOutcome.ADDRESS_MISMATCH: "mailboxes.mismatch"}.get(item.outcome)
        if key:
            lines.append("  " + text(key, **values).get(lang))
    if len(lines) == 1:
        lines.append("  " + text("mailboxes.all_working").get(lang))
    return lines
