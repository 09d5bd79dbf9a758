"""Names that become URLs and file paths, and the files the tool writes under its roots.

A dataset's or a study's name is part of page and API URLs (``reverse`` fails on anything else, taking the
pages that list it down) and of export file names. So names are slugs: 1 to ``MAX_NAME_LENGTH`` ASCII
letters, digits, hyphens and underscores. The rule is held in three places, so no entry point can skip
it: the services check it first with a message for people (``name_check``), the forms and serializers
use slug fields, and the database refuses any other row (``slug_constraint``, a CHECK constraint).

Every file the tool writes under one of its roots (exports under ``MEDIA_ROOT``, generated data under
``DATA_DIR``) is placed with ``path_under``, which resolves it (``..``, symlinks) and refuses anything
outside the root, whatever the name it was built from.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.db import models
from django.db.models import Q

from annotator.exceptions import ApplicationError

#: Longest dataset or study name (the columns' ``max_length``).
MAX_NAME_LENGTH = 100
#: A slug, anchored at both ends of the string (``\Z``: not before a trailing newline, unlike ``$``).
#: Python's ``re`` and PostgreSQL's regular expressions read it the same way.
SLUG_PATTERN = r"\A[-a-zA-Z0-9_]+\Z"
_SLUG = re.compile(SLUG_PATTERN)
NAME_RULE = f"1 to {MAX_NAME_LENGTH} ASCII letters, digits, hyphens and underscores"


class BadNameError(ApplicationError):
    """A name that would become part of a URL or a file name is not a slug."""


class OutsideRootError(ApplicationError):
    """A file the tool was about to write would lie outside its root directory."""


def is_slug(name) -> bool:
    return isinstance(name, str) and len(name) <= MAX_NAME_LENGTH and _SLUG.match(name) is not None


def name_check(name, *, what: str, field: str = "name") -> str:
    """Return ``name`` if it is a slug, else raise ``BadNameError`` saying what is allowed and why."""
    if not is_slug(name):
        shown = repr(name) if not isinstance(name, str) or len(name) <= 120 else repr(name[:120] + "...")
        raise BadNameError(
            f"{shown} cannot be a {what} name: use {NAME_RULE} (it becomes part of URLs and file names)",
            extra={"field": field},
        )
    return name


def slug_constraint(model_name: str, field: str = "name") -> models.CheckConstraint:
    """The database's copy of the rule: a CHECK that ``field`` is a slug (a row with any other name is refused)."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__regex": SLUG_PATTERN}),
        name=f"{model_name}_{field}_is_slug",
        violation_error_message=f"a {model_name} {field} must be {NAME_RULE}",
    )


def path_under(root: Path | str, relative: Path | str, *, what: str = "the file") -> Path:
    """``root / relative``, resolved, if it lies strictly inside ``root`` (also resolved); else ``OutsideRootError``.

    Resolving follows ``..`` and symlinks of the parts that exist, so neither a crafted name nor a link
    planted in the tree can send a write elsewhere.
    """
    base = Path(root).resolve()
    path = (base / relative).resolve()
    if path == base or not path.is_relative_to(base):
        raise OutsideRootError(
            f"{what} {str(relative)!r} would lie outside {base}; nothing was written", extra={"root": str(base)}
        )
    return path
