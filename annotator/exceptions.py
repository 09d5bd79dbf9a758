"""Domain errors: raised by services and selectors, turned into one error format by the API."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A request the domain refuses; ``message`` is for people, ``extra`` for programs."""

    status_code = 400

    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class NotFoundError(ApplicationError):
    """The object named in the request does not exist (or is not visible to the caller)."""

    status_code = 404


class PermissionDeniedError(ApplicationError):
    """The caller may not do this."""

    status_code = 403


class ConflictError(ApplicationError):
    """The request was based on a state that has changed since; ``extra`` carries the current one."""

    status_code = 409


class ImportFormatError(ApplicationError):
    """An input file does not follow its format; the message names the sample and field."""


class NotApplicableError(ApplicationError):
    """A feature was asked of data it does not apply to (face refiners on a body-only keypoint layout)."""
