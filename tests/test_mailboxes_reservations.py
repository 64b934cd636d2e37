"""Proposed addresses held in the store until applied (issue 18), on SQLite and PostgreSQL."""

from __future__ import annotations

from egov_probe.mailboxes.reservations import StoreReservations, officer_key
from egov_probe.mailboxes.roster import Officer
from tests.test_store_factory import database, pg_server, store_target  # noqa: F401


def officer(name: str, unit_id: str = "xa-ma-thanh", position: str = "Văn thư") -> Officer:
    return Officer(name, position, unit_id, None, None, "roster.csv", 2)


def test_a_reservation_belongs_to_one_officer_and_moves_with_him(database):  # noqa: F811
    held = StoreReservations(database)
    ha, other = officer("Ngô Thị Thúy Hà"), officer("Nguyễn Thị Thanh Hà", "xa-tien-thanh")
    assert held.reserve("hantt2", ha, "review-1")
    assert held.holder("hantt2") == officer_key(ha) and held.held_by(officer_key(ha)) == "hantt2"
    assert held.reserve("hantt2", ha, "review-2")          # the same officer again: his
    assert not held.reserve("hantt2", other, "review-3")   # another officer: refused
    assert held.reserve("hantt3", other, "review-3")
    assert held.reserve("hantt4", ha, "review-4")          # his proposal changed: hantt2 freed
    assert held.holder("hantt2") is None and held.held_by(officer_key(ha)) == "hantt4"
    held.consumed("hantt4")                                # applied: the directory holds it
    assert held.held_by(officer_key(ha)) is None
    held.release(officer_key(other))                       # found with a mailbox after all
    assert held.holder("hantt3") is None


def test_the_same_name_in_two_positions_is_two_officers(database):  # noqa: F811
    held = StoreReservations(database)
    first, second = officer("Nguyễn Văn An", position="Chỉ huy trưởng Quân sự"), \
        officer("Nguyễn Văn An", position="Trưởng Công an xã")
    assert officer_key(first) != officer_key(second)
    assert held.reserve("annv2", first, "r") and not held.reserve("annv2", second, "r")
