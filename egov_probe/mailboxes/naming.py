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
# Characters that print as nothing: zero-width space/joiners, word joiner, BOM, soft hyphen...
INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u200e\u200f\u2061\u2062"
                      "\u2063\u2064")
# Look-alikes of Vietnamese letters: what a cp1252 mis-decoding or a copied Cyrillic letter leaves.
LOOK_ALIKES = {
    "\u00d0": "\u0110", "\u00f0": "\u0111",      # Ð ð (Icelandic eth) → Đ đ
    "\u0189": "\u0110", "\u0256": "\u0111",      # Ɖ ɖ (African D) → Đ đ
    "\u0410": "A", "\u0412": "B", "\u0415": "E", "\u041a": "K", "\u041c": "M", "\u041d": "H",
    "\u041e": "O", "\u0420": "P", "\u0421": "C", "\u0422": "T", "\u0425": "X", "\u0430": "a",
    "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0443": "y", "\u0445": "x",
    "\u0456": "i", "\u0406": "I",                  # Cyrillic letters shaped like Latin ones
}


def normalise_name(name: str) -> str:
    """NFC, single spaces, no leading or trailing space, invisible characters removed and
    look-alikes replaced: how names are compared and stored."""
    return clean_text(name)[0]


def clean_text(text: str) -> tuple[str, tuple[str, ...]]:
    """``text`` as stored, and each change made that a person should correct at the source:
    invisible characters removed, look-alikes replaced. (NFC and spaces are not noted: they look
    the same.)"""
    notes = []
    invisible = sorted({c for c in text if c in INVISIBLE})
    for char in invisible:
        notes.append(f"bỏ ký tự ẩn / removed invisible {_describe(char)}")
    kept = "".join(c for c in text if c not in INVISIBLE)
    composed = unicodedata.normalize("NFC", kept)
    for char in sorted({c for c in composed if c in LOOK_ALIKES}):
        notes.append(f"thay / replaced {_describe(char)} → {_describe(LOOK_ALIKES[char])}")
    replaced = unicodedata.normalize("NFC", "".join(LOOK_ALIKES.get(c, c) for c in composed))
    return " ".join(replaced.split()), tuple(notes)


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    shown = char if char.isprintable() and char not in INVISIBLE else ""
    return " ".join(part for part in (shown, f"U+{ord(char):04X}", name) if part)


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
