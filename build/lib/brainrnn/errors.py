"""One exception type for bad user input, with a message that names the file, the field and the fix."""

from __future__ import annotations

from os import PathLike


class InputError(ValueError):
    """Raised when an input file, config entry or sheet row is unusable.

    The message always says where (file, subject, field), what is wrong, and how to fix it,
    so a user reading only the last line of a log knows what to change.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | PathLike[str] | None = None,
        field: str | None = None,
        subject: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = None if file is None else str(file)
        self.field = field
        self.subject = subject
        self.fix = fix
        where = [part for part in (
            f"file {self.file}" if self.file else None,
            f"subject {subject}" if subject else None,
            f"field '{field}'" if field else None,
        ) if part]
        message = (f"[{'; '.join(where)}] " if where else "") + problem
        if fix:
            message += f" Fix: {fix}"
        super().__init__(message)
