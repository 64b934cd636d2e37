"""The mailbox review's data: naming rule, directory layout, disabled markers, roster columns."""

from __future__ import annotations

import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Optional

from ..core.spec import Spec, at_least, expect, one_of
from ..core.yamlsource import load_yaml

CONFIG_RESOURCE = "mailbox_naming.yml"
TEMPLATE_FIELDS = ("given", "initials", "family", "family_initial", "middle_initials",
                   "given_initials")
MARKER_KINDS = ("present", "equals", "days_since_epoch_past", "generalized_time_past",
                "bits_set")
ROSTER_FIELDS = ("full_name", "position", "unit", "address", "phone")


@dataclass(frozen=True)
class NamingRule:
    domain: str
    template: str
    given_words: int
    collision_start: int
    max_length: int


@dataclass(frozen=True)
class DirectoryLayout:
    base_dn: str
    people_dn: str
    person_filter: str
    name_attribute: str
    mail_attribute: str
    unit_attribute: Optional[str]
    unit_value: str
    uid_attribute: str
    object_classes: tuple[str, ...]
    timeout_seconds: float
    reservations_dn: Optional[str] = None  # --reserve-in directory: where proposals are held


@dataclass(frozen=True)
class DisabledMarker:
    attribute: str
    when: str
    values: tuple[str, ...] = ()
    mask: int = 0


@dataclass(frozen=True)
class MailboxConfig:
    naming: NamingRule
    directory: DirectoryLayout
    disabled_markers: tuple[DisabledMarker, ...]
    roster_columns: dict[str, tuple[str, ...]]
    path: str


def _template_check(value: Any) -> Optional[str]:
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
    except ValueError as exc:
        return f"expected a template like '{{given}}{{initials}}': {exc}"
    unknown = [n for n in names if n not in TEMPLATE_FIELDS]
    if unknown or "given" not in names:
        return (f"expected a template using {{given}} and only the fields "
                f"{', '.join(TEMPLATE_FIELDS)}; found {', '.join(unknown) or 'no {given}'}")
    return None


def _domain_check(value: Any) -> Optional[str]:
    labels = value.split(".")
    ok = len(labels) >= 2 and all(part and part.replace("-", "").isalnum() and part.isascii()
                                  for part in labels)
    return None if ok else f"expected a mail domain like nghean.gov.vn, found {value!r}"


_TEXT = Spec(types=(str,), required=True)
_WORDS = Spec(types=(list,), required=True, items=Spec(types=(str,)))
SPEC = Spec(keys={
    "naming": Spec(required=True, keys={
        "domain": Spec(types=(str,), required=True, check=_domain_check),
        "template": Spec(types=(str,), required=True, check=_template_check),
        "given_words": Spec(types=(int,), required=True, check=at_least(1)),
        "collision_start": Spec(types=(int,), required=True, check=at_least(2)),
        "max_length": Spec(types=(int,), required=True, check=at_least(8)),
    }),
    "directory": Spec(required=True, keys={
        "base_dn": _TEXT, "people_dn": _TEXT, "person_filter": _TEXT, "name_attribute": _TEXT,
        "mail_attribute": _TEXT, "uid_attribute": _TEXT,
        "unit_attribute": Spec(types=(str,), required=True, nullable=True),
        "unit_value": Spec(types=(str,), required=True, check=one_of("unit_id", "name_vi")),
        "object_classes": _WORDS,
        "timeout_seconds": Spec(types=(float,), required=True, check=at_least(1)),
        "reservations_dn": Spec(types=(str,), nullable=True),
    }),
    "disabled_markers": Spec(types=(list,), required=True, items=Spec(keys={
        "attribute": _TEXT,
        "when": Spec(types=(str,), required=True, check=one_of(*MARKER_KINDS)),
        "values": Spec(types=(list,), items=Spec(types=(str,))),
        "mask": Spec(types=(int,), check=at_least(1)),
    })),
    "roster": Spec(required=True, keys={
        "columns": Spec(required=True, keys={name: _WORDS for name in ROSTER_FIELDS}),
    }),
})


def shipped_config_path() -> Path:
    return Path(str(resources.files("egov_probe.data").joinpath(CONFIG_RESOURCE)))


def load_config(path: Optional[Path] = None) -> MailboxConfig:
    """Read and check the mailbox configuration; errors name the file, line and key."""
    doc = load_yaml(path or shipped_config_path())
    expect(doc, doc.data, SPEC)
    for index, marker in enumerate(doc.data["disabled_markers"]):
        needs = {"equals": "values", "bits_set": "mask"}.get(marker["when"])
        if needs and not marker.get(needs):
            raise doc.error(("disabled_markers", index, "when"),
                            f"a marker with 'when: {marker['when']}' needs '{needs}'")
    data = doc.data
    directory = dict(data["directory"])
    directory["object_classes"] = tuple(directory["object_classes"])
    directory["timeout_seconds"] = float(directory["timeout_seconds"])
    return MailboxConfig(
        naming=NamingRule(**data["naming"]),
        directory=DirectoryLayout(**directory),
        disabled_markers=tuple(DisabledMarker(m["attribute"], m["when"],
                                              tuple(m.get("values") or ()), m.get("mask", 0))
                               for m in data["disabled_markers"]),
        roster_columns={k: tuple(v) for k, v in data["roster"]["columns"].items()},
        path=doc.path)
