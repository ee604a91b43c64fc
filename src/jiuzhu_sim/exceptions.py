"""One error type for user mistakes; the CLI turns it into exit status 2 and one line."""

from __future__ import annotations


class JiuzhuError(Exception):
    """Base class of every error this package raises on purpose."""


class UserInputError(JiuzhuError):
    """A mistake in what the user gave us: a file, a row, a column, a parameter.

    The message is one line naming the file, the row (1-based data row, header excluded)
    and the column where they are known, then the reason.
    """

    def __init__(self, reason: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None):
        self.reason = reason
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        super().__init__(self.one_line())

    def __reduce__(self):
        # pickled whole (file, row, column kept): raised in a worker process, the same
        # error reaches the command line
        return (_rebuild, (type(self), self.reason, self.file, self.row, self.column),
                self.__dict__)

    def one_line(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        prefix = ", ".join(where)
        text = f"{prefix}: {self.reason}" if prefix else self.reason
        return " ".join(text.split())


class ParameterError(UserInputError):
    """A parameter file or override is wrong (file and key are named)."""

    def one_line(self) -> str:
        where = [w for w in (self.file, None if self.row is None else f"row {self.row}",
                             None if not self.column else f"key {self.column}") if w]
        text = f"{', '.join(where)}: {self.reason}" if where else self.reason
        return " ".join(text.split())


def _rebuild(kind, reason, file, row, column):
    return kind(reason, file=file, row=row, column=column)
