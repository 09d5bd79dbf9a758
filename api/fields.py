"""Numbers from requests, range-checked where they enter: serializer fields and the ``id`` path converter.

A number a request carries ends up in a database column (64- or 32-bit integers), a numpy computation or
an array index, and an unbounded one fails there as a 500 (``OverflowError`` in SQLite for a 23-digit id,
``1e308`` pixels in the lens model). So every integer and float field of every serializer has both bounds
(``tests/api/test_hostile_inputs.py`` checks it on the OpenAPI schema), booleans are never numbers (JSON
``true`` is not ``1``), and path ids are at most ``MAX_ID_DIGITS`` digits: a longer one matches no route
and is a 404 like any id that does not exist.
"""

from __future__ import annotations

import math

from rest_framework import serializers

from annotator import names

#: The largest id (primary keys are 64-bit signed integers in every supported database).
MAX_ID = 2**63 - 1
#: Ids in paths: at most this many digits (MAX_ID has 19; 18 nines fit whatever the value).
MAX_ID_DIGITS = 18
#: Largest value of a 32-bit ``PositiveIntegerField`` column (revisions, seeds, counts).
MAX_INT32 = 2**31 - 1
#: Largest pixel coordinate any request may carry, before the per-image checks of the services.
MAX_PIXELS = 1e6


class StrictIntegerField(serializers.IntegerField):
    """An integer in [``min_value``, ``max_value``] (both required); ``true``/``false`` and fractions are refused."""

    default_error_messages = {"not_a_number": "A number is required, not {kind}."}

    def __init__(self, *, min_value: int, max_value: int, **kwargs) -> None:
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("not_a_number", kind="a boolean")
        if isinstance(data, float) and not (math.isfinite(data) and data.is_integer()):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A finite float in [``min_value``, ``max_value``] (both required); ``true``/``false`` are refused."""

    default_error_messages = {"not_a_number": "A number is required, not {kind}."}

    def __init__(self, *, min_value: float, max_value: float, **kwargs) -> None:
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("not_a_number", kind="a boolean")
        return super().to_internal_value(data)


def IdField(**kwargs) -> StrictIntegerField:  # noqa: N802 - a field factory reads like a field class
    """A database id (a view, a frame, a study): 1 to ``MAX_ID``."""
    return StrictIntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def RevisionField(**kwargs) -> StrictIntegerField:  # noqa: N802
    """A task revision a write is based on: 0 to ``MAX_INT32``."""
    return StrictIntegerField(min_value=0, max_value=MAX_INT32, **kwargs)


def PixelField(**kwargs) -> StrictFloatField:  # noqa: N802
    """An image coordinate in pixels, within +-``MAX_PIXELS`` (the services check it against the image)."""
    return StrictFloatField(min_value=-MAX_PIXELS, max_value=MAX_PIXELS, **kwargs)


#: Most entries of a list in a request (subjects, annotators); lists with their own limit use that.
MAX_LIST_ITEMS = 1000


def _column_length(model: str, field: str) -> int:
    from django.apps import apps

    return apps.get_model(model)._meta.get_field(field).max_length


def TextField(*, column: str, **kwargs) -> serializers.CharField:  # noqa: N802
    """A string no longer than the column ``"app.Model.field"`` it is looked up in or stored to."""
    app_model, field = column.rsplit(".", 1)
    return serializers.CharField(max_length=_column_length(app_model, field), **kwargs)


def TextListField(*, column: str, **kwargs) -> serializers.ListField:  # noqa: N802
    """A list of at most ``MAX_LIST_ITEMS`` strings, each no longer than the column ``"app.Model.field"``."""
    kwargs.setdefault("max_length", MAX_LIST_ITEMS)
    return serializers.ListField(child=TextField(column=column), **kwargs)


def DatasetNameField(**kwargs) -> serializers.CharField:  # noqa: N802
    """A dataset's name as requests name it (looked up, so any string up to the name's length)."""
    return TextField(column="annotator.Dataset.name", **kwargs)


class IdConverter:
    """Path converter ``<id:name>``: 1 to ``MAX_ID_DIGITS`` digits, as an int (``int`` accepts any length)."""

    regex = f"[0-9]{{1,{MAX_ID_DIGITS}}}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


class NameConverter:
    """Path converter ``<name:name>``: a dataset or study name (``annotator.names``: a slug of bounded length)."""

    regex = f"[-a-zA-Z0-9_]{{1,{names.MAX_NAME_LENGTH}}}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)


#: How the ``id`` converter appears in the OpenAPI schema (``SPECTACULAR_SETTINGS["PATH_CONVERTER_OVERRIDES"]``).
ID_PATH_SCHEMA = {"type": "integer", "minimum": 0, "maximum": 10**MAX_ID_DIGITS - 1}
NAME_PATH_SCHEMA = {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$", "maxLength": names.MAX_NAME_LENGTH}
