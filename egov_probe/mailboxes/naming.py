"""The province's naming rule: a Vietnamese full name to a mailbox local part.

"Nguyễn Thị Thu Hà" → given name "Hà", family and middle names "Nguyễn Thị Thu" → ``hantt``.
Diacritics are removed letter by letter (đ/Đ → d); collisions are numbered (hantt2, hantt3...).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Callable

from .config import NamingRule

_NOT_DECOMPOSED = str.maketrans({"đ": "d", "Đ": "D"})  # đ has no combining form in Unicode


def normalise_name(name: str) -> str:
    """NFC, single spaces, no leading or trailing space: how names are compared and stored."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def fold(text: str) -> str:
    """Lower-case ASCII letters and digits only: "Đặng Đình Đức" → "dangdinhduc"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_NOT_DECOMPOSED))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in plain.lower() if c.isascii() and c.isalnum())


@dataclass(frozen=True)
class NameParts:
    """A Vietnamese name: family name first, middle names, given name last."""

    family: str
    middle: tuple[str, ...]
    given: tuple[str, ...]

    @classmethod
    def split(cls, full_name: str, given_words: int) -> "NameParts":
        words = [w for w in normalise_name(full_name).split(" ") if fold(w)]
        if not words:
            raise ValueError(f"no letters in the name {full_name!r}")
        given_count = min(given_words, len(words))
        if given_count == len(words):
            return cls(family="", middle=(), given=tuple(words))
        head = words[:-given_count]
        return cls(family=head[0], middle=tuple(head[1:]), given=tuple(words[-given_count:]))

    def fields(self) -> dict[str, str]:
        family_initial = fold(self.family)[:1]
        middle_initials = "".join(fold(w)[:1] for w in self.middle)
        return {
            "given": "".join(fold(w) for w in self.given),
            "initials": family_initial + middle_initials,
            "family": fold(self.family),
            "family_initial": family_initial,
            "middle_initials": middle_initials,
            "given_initials": "".join(fold(w)[:1] for w in self.given),
        }


def base_local_part(rule: NamingRule, full_name: str) -> str:
    """The local part the rule gives ``full_name`` before collisions are numbered."""
    parts = NameParts.split(full_name, rule.given_words)
    return rule.template.format(**parts.fields())[:rule.max_length]


def propose_local_part(rule: NamingRule, full_name: str, taken: Callable[[str], bool]) -> str:
    """The first free local part: the base, then base2, base3... (from ``collision_start``)."""
    base = base_local_part(rule, full_name)
    if not taken(base):
        return base
    number = rule.collision_start
    while True:
        suffix = str(number)
        candidate = base[:rule.max_length - len(suffix)] + suffix
        if not taken(candidate):
            return candidate
        number += 1


def address(rule: NamingRule, local_part: str) -> str:
    return f"{local_part}@{rule.domain}"
