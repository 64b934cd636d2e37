"""What the review leaves behind: the review document (JSON, for the store), the LDIF and the
CSV for the mail administrators, and the short summary officials read (Vietnamese first)."""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, Union

from ..core.messages import text
from ..core.atomic import write_json_atomic, write_text_atomic
from .config import MailboxConfig
from .directory import NewEntry, NewMail
from .plan import ADD_ENTRY, PLAN_SUFFIX, ProvisioningPlan
from .review import MailboxOutcome, UnitReview

LDIF_WIDTH = 76
CSV_COLUMNS = ("unit_id", "unit_name", "full_name", "position", "phone", "proposed_address", "dn",
               "action")


@dataclass(frozen=True)
class UnitFiles:
    review: Path
    plan: Path
    plan_text: Path
    ldif: Path
    csv: Path


def file_stem(review: UnitReview) -> str:
    stamp = review.generated_at[:19].replace(":", "").replace("-", "")
    return f"mailboxes_{review.unit.unit_id}_{stamp}Z_{review.review_id[:8]}"


def write_unit_files(review: UnitReview, plan: ProvisioningPlan, config: MailboxConfig, out_dir: Path,
                     lang: str) -> UnitFiles:
    """One unit's review JSON and its plan: the plan itself (for ``--apply``), the readable
    list, the LDIF and the CSV, each written atomically."""
    stem = Path(out_dir) / file_stem(review)
    records = [change.record(config) for change in plan.changes]
    return UnitFiles(
        review=write_json_atomic(stem.with_suffix(".json"), review.to_dict()),
        plan=write_json_atomic(stem.with_suffix(PLAN_SUFFIX), plan.to_dict()),
        plan_text=write_text_atomic(stem.with_suffix(".plan.txt"),
                                    plan_text(review, plan, stem.with_suffix(PLAN_SUFFIX), lang)),
        ldif=write_text_atomic(stem.with_suffix(".ldif"), ldif_text(records)),
        csv=write_text_atomic(stem.with_suffix(".csv"), csv_text(review, plan)))


def ldif_text(records: Sequence[Union[NewEntry, NewMail]]) -> str:
    """RFC 2849 LDIF adding the new entries and the mail of existing ones (non-ASCII values
    base64-encoded, long lines folded)."""
    blocks = []
    for record in records:
        if isinstance(record, NewMail):
            lines = [_ldif_line("dn", record.dn), "changetype: modify",
                     f"add: {record.attribute}", _ldif_line(record.attribute, record.address), "-"]
        else:
            lines = [_ldif_line("dn", record.dn), "changetype: add"]
            lines += [_ldif_line("objectClass", oc) for oc in record.object_classes]
            lines += [_ldif_line(name, value) for name, value in record.attributes.items()]
        blocks.append("\n".join(lines) + "\n")
    return "version: 1\n\n" + "\n".join(blocks)


def plan_text(review: UnitReview, plan: ProvisioningPlan, plan_path: Path, lang: str) -> str:
    """The plan as a person reviews it: one numbered line per change, then the name
    corrections to make in the roster, then how to apply it."""
    unit = review.unit
    lines = [text("mailboxes.plan_title", unit=unit.name_vi, unit_id=unit.unit_id,
                  review_id=review.review_id, time=review.generated_at,
                  directory=review.directory_url).get(lang), ""]
    for number, change in enumerate(plan.changes, 1):
        key = "mailboxes.plan_add_entry" if change.action == ADD_ENTRY else \
            "mailboxes.plan_add_mail"
        lines.append(f"{number}. " + text(key, dn=change.dn, address=change.address,
                                          name=change.officer.full_name,
                                          position=change.officer.position).get(lang))
    if not plan.changes:
        lines.append(text("mailboxes.plan_nothing").get(lang))
    lines += [""] + correction_lines(review, lang)
    if plan.changes:
        lines.append(text("mailboxes.plan_apply", plan=plan_path).get(lang))
    return "\n".join(lines).rstrip("\n") + "\n"


def correction_lines(review: UnitReview, lang: str) -> list[str]:
    """The roster cells read with invisible characters or look-alike letters, to fix."""
    return [text("mailboxes.corrected", name=item.officer.full_name, source=item.officer.source,
                 line=item.officer.line, changes="; ".join(item.officer.corrections)).get(lang)
            for item in review.officers if item.officer.corrections]


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


def csv_text(review: UnitReview, plan: ProvisioningPlan) -> str:
    """The officers to give a mailbox, one row each (UTF-8 with BOM, for Excel)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for change in plan.changes:
        officer = change.officer
        writer.writerow([review.unit.unit_id, review.unit.name_vi, officer.full_name,
                         officer.position, officer.phone or "", change.address, change.dn,
                         change.action])
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
                      directory_address=item.directory_address or "—",
                      proposed=item.proposed_address, marker=item.disabled_by,
                      dn=item.entry.dn if item.entry else "")
        key = {MailboxOutcome.MISSING: "mailboxes.missing_mail" if item.entry
               else "mailboxes.missing",
               MailboxOutcome.DISABLED: "mailboxes.disabled",
               MailboxOutcome.ADDRESS_MISMATCH: "mailboxes.mismatch"}.get(item.outcome)
        if key:
            lines.append("  " + text(key, **values).get(lang))
    if len(lines) == 1:
        lines.append("  " + text("mailboxes.all_working").get(lang))
    return lines + ["  " + line for line in correction_lines(review, lang)]
