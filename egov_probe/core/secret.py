"""A password that never prints itself: for the fleet's logins, the mailbox login and the
directory's bind accounts alike."""

from __future__ import annotations


class Secret:
    """A password: ``reveal()`` gives it; printing or logging the object shows ``********``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__
