"""Errors meant for people, not stack traces."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix: the message says what is wrong and how to fix it.

    The CLI prints it as a single line and exits with ``exit_code``; notebooks show it
    without an internal traceback.
    """

    exit_code = 2

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
