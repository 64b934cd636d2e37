"""Officer rosters (CSV or XLSX) as units keep them, imported with validation.

Every problem is reported with the file and line (XLSX: the sheet and row), all at once, and a
roster with any problem is rejected whole: no officer is silently dropped.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

from ..core.errors import InputError
from ..core.units import Unit
from .naming import clean_text, fold, normalise_name

HEADER_SEARCH_ROWS = 10
REQUIRED = ("full_name", "position", "unit")
_ADDRESS = re.compile(r"^[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(\.[a-z0-9-]+)+$")
_PHONE_PUNCTUATION = str.maketrans("", "", " .-()")


@dataclass(frozen=True)
class Officer:
    full_name: str
    position: str
    unit_id: str
    address: Optional[str]
    phone: Optional[str]
    source: str
    line: int
    # what was corrected while reading (invisible characters, look-alike letters), per field:
    # the roster should be fixed at its source
    corrections: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"full_name": self.full_name, "position": self.position, "unit_id": self.unit_id,
                "address": self.address, "phone": self.phone, "source": self.source,
                "line": self.line, "corrections": list(self.corrections)}

    @classmethod
    def from_dict(cls, data: dict) -> "Officer":
        return cls(**{**data, "corrections": tuple(data.get("corrections") or ())})


@dataclass(frozen=True)
class Problem:
    source: str
    line: int
    field: Optional[str]
    message: str

    def __str__(self) -> str:
        return str(InputError(self.message, path=self.source, line=self.line, field=self.field))


class RosterError(InputError):
    """A roster with problems: every one of them, each with its file and line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(first.message, path=first.source, line=first.line, field=first.field)

    def __str__(self) -> str:
        lines = [f"danh sách cán bộ có {len(self.problems)} lỗi / the roster has "
                 f"{len(self.problems)} problem(s):"]
        return "\n  ".join(lines + [str(p) for p in self.problems])


@dataclass(frozen=True)
class _Table:
    """One sheet (or the CSV file): where it came from and its rows with their line numbers."""

    source: str
    rows: list[tuple[int, list[str]]]


def load_rosters(paths: Iterable[Path], units: Sequence[Unit],
                 columns: dict[str, tuple[str, ...]], default_unit: Optional[str] = None
                 ) -> list[Officer]:
    """Every officer of every roster, checked together (duplicates across files count too).

    A roster without a unit column is one unit's: ``default_unit`` (``--unit``) names it.
    """
    officers: list[Officer] = []
    problems: list[Problem] = []
    for path in paths:
        for table in _read_tables(Path(path)):
            found, bad = _officers_of(table, units, columns, default_unit)
            officers += found
            problems += bad
    problems += _duplicates(officers)
    if problems:
        raise RosterError(problems)
    return officers


def _read_tables(path: Path) -> list[_Table]:
    if not path.is_file():
        raise InputError("roster file not found", path=str(path))
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx_tables(path)
    if path.suffix.lower() == ".csv":
        return [_csv_table(path)]
    raise InputError("expected a roster as .csv (UTF-8) or .xlsx", path=str(path))


def _csv_table(path: Path) -> _Table:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError("not UTF-8 text: save the roster as \"CSV UTF-8\" (TCVN3/VNI files must "
                         "be converted to Unicode first)", path=str(path), line=line) from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    line = 1
    for cells in reader:
        rows.append((line, cells))
        line = reader.line_num + 1
    return _Table(str(path), rows)


def _xlsx_tables(path: Path) -> list[_Table]:
    import openpyxl  # only needed for XLSX rosters

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise InputError(f"cannot read the workbook: {exc}", path=str(path)) from exc
    try:
        return [_Table(f"{path} [{sheet.title}]",
                       [(number, [_cell_text(v) for v in values])
                        for number, values in enumerate(sheet.iter_rows(values_only=True), 1)])
                for sheet in book.worksheets]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _header(table: _Table, columns: dict[str, tuple[str, ...]], required: tuple[str, ...]
            ) -> tuple[Optional[int], dict[str, int], list[Problem]]:
    """The header row's index and where each field's column is."""
    names = {field: {_key(a) for a in aliases} for field, aliases in columns.items()}
    for index, (line, cells) in enumerate(table.rows[:HEADER_SEARCH_ROWS]):
        keys = [_key(c) for c in cells]
        if any(k in names["full_name"] for k in keys):
            found = {f: keys.index(k) for f, aliases in names.items() for k in keys if k in aliases}
            missing = [f for f in required if f not in found]
            if missing:
                return None, {}, [Problem(table.source, line, None, _missing_columns(missing,
                                                                                     columns))]
            return index, found, []
    if not any(_has_data(cells) for _, cells in table.rows):
        return None, {}, []  # an empty sheet
    line = next(line for line, cells in table.rows if _has_data(cells))
    return None, {}, [Problem(table.source, line, None,
                              _missing_columns(list(required), columns))]


def _missing_columns(fields: list[str], columns: dict[str, tuple[str, ...]]) -> str:
    wanted = "; ".join(f"{field} ({' / '.join(columns[field][:2])})" for field in fields)
    hint = " (or pass --unit for a roster of one unit)" if "unit" in fields else ""
    return f"no header row with the columns {wanted} in the first {HEADER_SEARCH_ROWS} rows{hint}"


def _key(cell: str) -> str:
    return normalise_name(cell).casefold()


def _has_data(cells: list[str]) -> bool:
    return any(c.strip() for c in cells)


def _officers_of(table: _Table, units: Sequence[Unit], columns: dict[str, tuple[str, ...]],
                 default_unit: Optional[str]) -> tuple[list[Officer], list[Problem]]:
    required = REQUIRED if default_unit is None else REQUIRED[:-1]
    start, where, problems = _header(table, columns, required)
    if start is None:
        return [], problems
    officers = []
    for line, cells in table.rows[start + 1:]:
        if not _has_data(cells):
            continue
        cleaned = {f: clean_text(cells[i]) if i < len(cells) else ("", ()) for f, i in where.items()}
        values = {f: value for f, (value, _) in cleaned.items()}
        values.setdefault("unit", default_unit or "")
        corrections = tuple(f"{f}: {note}" for f, (_, notes) in cleaned.items() for note in notes)
        officer, bad = _officer(values, units, table.source, line, corrections)
        problems += bad
        if officer:
            officers.append(officer)
    return officers, problems


def _officer(values: dict[str, str], units: Sequence[Unit], source: str, line: int,
             corrections: tuple[str, ...] = ()) -> tuple[Optional[Officer], list[Problem]]:
    problems = [Problem(source, line, field, message)
                for field, message in _field_problems(values, units)]
    if problems:
        return None, problems
    return Officer(full_name=values["full_name"], position=values["position"],
                   unit_id=_find_unit(units, values["unit"]).unit_id,
                   address=values.get("address", "").lower() or None,
                   phone=values.get("phone") or None, source=source, line=line,
                   corrections=corrections), []


def _field_problems(values: dict[str, str], units: Sequence[Unit]) -> Iterator[tuple[str, str]]:
    name = values["full_name"]
    if not fold(name) or any(c.isdigit() for c in name):
        yield "full_name", f"expected a person's full name, found {name!r}"
    if not values["position"]:
        yield "position", "expected the officer's position, found nothing"
    if _find_unit(units, values["unit"]) is None:
        yield "unit", _unknown_unit(units, values["unit"])
    address = values.get("address", "")
    if address and not _ADDRESS.match(address.lower()):
        yield "address", f"expected a mail address like hantt@nghean.gov.vn, found {address!r}"
    phone = values.get("phone", "")
    digits = phone.translate(_PHONE_PUNCTUATION).removeprefix("+")
    if phone and not (digits.isdigit() and 9 <= len(digits) <= 12):
        yield "phone", f"expected a phone number (9 to 12 digits), found {phone!r}"


def _find_unit(units: Sequence[Unit], text: str) -> Optional[Unit]:
    key = _key(text)
    for unit in units:
        if key in (unit.unit_id, _key(unit.name_vi)):
            return unit
    return None


def _unknown_unit(units: Sequence[Unit], text: str) -> str:
    if not text:
        return "expected a unit id or name (see `egov-probe units`), found nothing"
    choices = [u.unit_id for u in units] + [u.name_vi for u in units]
    near = difflib.get_close_matches(text, choices, n=3, cutoff=0.6)
    hint = f"; did you mean: {', '.join(near)}?" if near else "; see `egov-probe units`"
    return f"unknown unit {text!r}{hint}"


def _duplicates(officers: Sequence[Officer]) -> list[Problem]:
    """The same officer twice (name, unit and position), or one address for two officers."""
    problems = []
    by_person: dict[tuple, Officer] = {}
    by_address: dict[str, Officer] = {}
    for officer in officers:
        person = (officer.full_name.casefold(), officer.unit_id, officer.position.casefold())
        first = by_person.setdefault(person, officer)
        if first is not officer:
            problems.append(Problem(officer.source, officer.line, "full_name",
                                    f"duplicate officer: {officer.full_name} ({officer.position}) "
                                    f"is already at {first.source}:{first.line}"))
        if officer.address:
            owner = by_address.setdefault(officer.address, officer)
            if owner is not officer:
                problems.append(Problem(officer.source, officer.line, "address",
                                        f"address {officer.address} is already {owner.full_name}'s "
                                        f"at {owner.source}:{owner.line}"))
    return problems
