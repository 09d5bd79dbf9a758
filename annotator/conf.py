"""One accessor for the project's options (the ``ANNOTATOR`` settings dict), as DRF's ``api_settings``."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def option(name: str) -> Any:
    """The value of ``settings.ANNOTATOR[name]``; a KeyError names the missing option."""
    try:
        return settings.ANNOTATOR[name]
    except KeyError:
        raise KeyError(f"settings.ANNOTATOR has no option {name!r}") from None
