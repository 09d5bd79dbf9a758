"""A model field that stores a whole keypoint array in one column.

Skeletons and 2D keypoint sets are read and written whole, never per keypoint, so they live in one
binary column (little-endian float64, C order) instead of one row per keypoint: a skeleton loads
and saves in one query, and bulk imports stay fast. NaN marks a missing keypoint.

The number of keypoints is the dataset's layout's (``Dataset.layout``), so the column holds any of the
shipped layouts' counts; which one a row must have is checked by the services that write it, against
its dataset's layout (a column cannot see its row's dataset without a query per save).
"""

from __future__ import annotations

import numpy as np
from django.core.exceptions import ValidationError
from django.db import models

from annotator import keypoints

_DTYPE = np.dtype("<f8")


#: The keypoint counts of the shipped layouts: the only first dimensions a keypoint column holds.
_LAYOUT_COUNTS = frozenset(layout.num_keypoints for layout in keypoints.LAYOUTS.values())


class KeypointArrayField(models.BinaryField):
    """Array of shape (K, dims) (or (K,) when dims is None), float64, K the row's dataset layout's count.

    The column accepts any shipped layout's K (``keypoints.LAYOUTS``) and refuses other shapes.
    """

    description = "keypoint array"

    def __init__(self, *args, dims: int | None = None, **kwargs) -> None:
        self.dims = dims
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["dims"] = self.dims
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    @property
    def shape_text(self) -> str:
        return "(K,)" if self.dims is None else f"(K, {self.dims})"

    def _check(self, arr: np.ndarray) -> None:
        counts = _LAYOUT_COUNTS
        tail = () if self.dims is None else (self.dims,)
        if arr.ndim != 1 + len(tail) or arr.shape[1:] != tail or arr.shape[0] not in counts:
            raise ValidationError(
                f"{self.name} must have shape {self.shape_text} with K the keypoint count of a layout "
                f"({', '.join(map(str, sorted(counts)))}), got {arr.shape}"
            )

    def _from_bytes(self, value) -> np.ndarray:
        arr = np.frombuffer(bytes(value), dtype=_DTYPE)
        return arr.reshape(-1) if self.dims is None else arr.reshape(-1, self.dims)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return self._from_bytes(value).copy()

    def to_python(self, value):
        if value is None or isinstance(value, np.ndarray):
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self._from_bytes(value).copy()
        return np.asarray(value, dtype=np.float64)

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        arr = np.asarray(value, dtype=np.float64)
        self._check(arr)
        return connection.Database.Binary(np.ascontiguousarray(arr, dtype=_DTYPE).tobytes())

    def validate(self, value, model_instance):
        # Field.validate compares the value with the empty values, which an ndarray cannot answer.
        if value is None:
            if not self.null:
                raise ValidationError(f"{self.name} may not be empty")
            return
        self._check(np.asarray(value))

    def run_validators(self, value):
        return

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return None if value is None else np.asarray(value).tolist()


class SmallArrayField(models.BinaryField):
    """A short 1-D array of a fixed dtype (e.g. ``"<i1"`` labels, ``"<f4"`` angles), any length, in one column.

    For per-row vectors such as one label per bone: a few dozen values read and written whole, where
    one row per value would multiply the table by the vector's length.
    """

    description = "small 1-D array"

    def __init__(self, *args, dtype: str = "<f8", **kwargs) -> None:
        self.dtype = np.dtype(dtype)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["dtype"] = self.dtype.str
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def _from_bytes(self, value) -> np.ndarray:
        return np.frombuffer(bytes(value), dtype=self.dtype).copy()

    def from_db_value(self, value, expression, connection):
        return None if value is None else self._from_bytes(value)

    def to_python(self, value):
        if value is None or isinstance(value, np.ndarray):
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self._from_bytes(value)
        return np.asarray(value, dtype=self.dtype)

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        arr = np.asarray(value)
        if arr.ndim != 1:
            raise ValidationError(f"{self.name} must be a 1-D array, got shape {arr.shape}")
        return connection.Database.Binary(np.ascontiguousarray(arr, dtype=self.dtype).tobytes())

    def validate(self, value, model_instance):
        if value is None:
            if not self.null:
                raise ValidationError(f"{self.name} may not be empty")
            return
        if np.asarray(value).ndim != 1:
            raise ValidationError(f"{self.name} must be a 1-D array")

    def run_validators(self, value):
        return

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return None if value is None else np.asarray(value).tolist()
