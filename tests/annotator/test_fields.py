"""The keypoint array column: any shipped layout's keypoint count round-trips; every other shape is refused."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from annotator import keypoints
from annotator.fields import KeypointArrayField, SmallArrayField

COUNTS = sorted({layout.num_keypoints for layout in keypoints.LAYOUTS.values()})


def _raw(stored) -> bytes:
    """The bytes inside what ``get_db_prep_value`` hands the database driver (psycopg2 wraps them)."""
    return bytes(getattr(stored, "adapted", stored))


def _field(dims):
    field = KeypointArrayField(dims=dims)
    field.name = "points"
    return field


@pytest.mark.parametrize("k", COUNTS)
@pytest.mark.parametrize("dims", [None, 2, 3])
def test_every_layout_count_round_trips_bit_exactly(k, dims):
    field = _field(dims)
    shape = (k,) if dims is None else (k, dims)
    value = np.random.default_rng(k).normal(size=shape)
    value.flat[0] = np.nan
    stored = field.get_db_prep_value(value, connection)
    back = field.from_db_value(_raw(stored), None, connection)
    assert back.shape == shape
    np.testing.assert_array_equal(back, value)
    assert back.flags.writeable
    np.testing.assert_array_equal(field.to_python(_raw(stored)), value)


@pytest.mark.parametrize(
    ("dims", "shape"),
    [
        (3, (132, 3)),  # one keypoint short of COCO-WholeBody
        (3, (18, 3)),  # no layout has 18
        (3, (17, 2)),  # the wrong coordinate count
        (2, (17, 2, 1)),
        (None, (17, 1)),
        (3, (0, 3)),
    ],
)
def test_other_shapes_are_refused_on_write_and_validate(dims, shape):
    field = _field(dims)
    with pytest.raises(ValidationError, match="must have shape"):
        field.get_db_prep_value(np.zeros(shape), connection)
    with pytest.raises(ValidationError, match=r"keypoint count of a layout \(17, 133\)"):
        field.validate(np.zeros(shape), None)


def test_none_is_stored_as_null_and_refused_when_the_column_is_required():
    field = _field(3)
    assert field.get_db_prep_value(None, connection) is None
    with pytest.raises(ValidationError, match="may not be empty"):
        field.validate(None, None)


def test_small_arrays_keep_their_dtype_and_refuse_more_than_one_dimension():
    field = SmallArrayField(dtype="<i1")
    field.name = "labels"
    stored = field.get_db_prep_value(np.array([1, -1, 0]), connection)
    back = field.from_db_value(_raw(stored), None, connection)
    assert back.dtype == np.int8 and back.tolist() == [1, -1, 0]
    with pytest.raises(ValidationError, match="1-D"):
        field.get_db_prep_value(np.zeros((2, 2)), connection)
