"""Errors raised on bad input: each names the file, line and field, and what was expected."""

from __future__ import annotations


class InputError(Exception):
    """Bad input from a file or the command line (exit code 2)."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.field = field
        super().__init__(self.__str__())

    def detail(self) -> str:
        """The message with its line and field, without the file (said elsewhere)."""
        line = f"line {self.line}: " if self.line is not None else ""
        field = f"{self.field}: " if self.field else ""
        return f"{line}{field}{self.message}"

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class OutputError(InputError):
    """A file or folder that cannot be written (full, read-only, missing): exit code 2."""
