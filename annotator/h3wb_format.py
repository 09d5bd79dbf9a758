"""The H3WB release format: parsing and writing one sample, and the ``image_path`` convention.

Pure functions shared by the importer, the synthetic rig and the exporters, so that there is one
reading of the format (see ``docs/reference/h3wb_format.md``):

* samples are keyed by decimal strings ``"0"``, ``"1"``, ...; joints by ``"0"`` .. ``"132"``;
* ``keypoints_2d``: ``{"x", "y"}`` in pixels of the original frame;
* ``keypoints_3d``: ``{"x", "y", "z"}`` in mm, equal to ``R_cam @ X_world`` (camera orientation,
  *no* translation);
* ``bbox``: ``{"x_min", "y_min", "x_max", "y_max"}`` pixel corners;
* ``image_path``: ``<subject>/Images/<action>.<camera id>/frame_<index, 4 digits>.jpg``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from operator import itemgetter

import numpy as np

from annotator import keypoints

JOINT_KEYS: tuple[str, ...] = tuple(str(j) for j in range(keypoints.NUM_KEYPOINTS))
_XY = itemgetter("x", "y")
_XYZ = itemgetter("x", "y", "z")
BBOX_KEYS: tuple[str, ...] = ("x_min", "y_min", "x_max", "y_max")

_IMAGE_PATH = re.compile(
    r"^(?P<subject>S\d+)/Images/(?P<action>[^/]+)\.(?P<camera>\d+)/frame_(?P<frame>\d+)\.(?P<ext>jpg|jpeg|png)$"
)


class H3WBFormatError(ValueError):
    """A sample does not follow the H3WB release format; the message names the sample and field."""


@dataclass(frozen=True)
class ImageRef:
    """What an H3WB ``image_path`` says about its image."""

    subject: str
    action: str
    camera_id: str
    frame_index: int


def parse_image_path(path: str) -> ImageRef:
    """``"S5/Images/Directions 2.60457274/frame_0125.jpg"`` -> ImageRef(S5, Directions 2, 60457274, 125)."""
    match = _IMAGE_PATH.match(path.replace("\\", "/")) if isinstance(path, str) else None
    if match is None:
        raise ValueError(
            f"image_path {path!r} does not look like '<subject>/Images/<action>.<camera>/frame_<NNNN>.jpg'"
        )
    return ImageRef(match["subject"], match["action"], match["camera"], int(match["frame"]))


def format_image_path(ref: ImageRef, ext: str = "jpg") -> str:
    """Inverse of ``parse_image_path`` (frame index zero-padded to 4 digits, as H3WB's extractor)."""
    return f"{ref.subject}/Images/{ref.action}.{ref.camera_id}/frame_{ref.frame_index:04d}.{ext}"


def _points(sample_id: str, sample: dict, field: str, getter, dims: int) -> np.ndarray | None:
    block = sample.get(field)
    if block is None:
        return None
    if not isinstance(block, dict):
        raise H3WBFormatError(f"sample {sample_id}: {field} must be an object keyed '0'..'{len(JOINT_KEYS) - 1}'")
    if tuple(block) != JOINT_KEYS:
        missing = [k for k in JOINT_KEYS if k not in block]
        extra = [k for k in block if k not in JOINT_KEYS]
        if missing or extra:
            raise H3WBFormatError(
                f"sample {sample_id}: {field} must have joints '0'..'{len(JOINT_KEYS) - 1}'"
                + (f"; missing {missing[:5]}" if missing else "")
                + (f"; unexpected {extra[:5]}" if extra else "")
            )
        block = {k: block[k] for k in JOINT_KEYS}
    try:
        # No dtype: numpy then keeps strings and nulls visible (dtype kind U / O) instead of coercing them.
        arr = np.array(list(map(getter, block.values())))
    except (KeyError, TypeError, ValueError):
        arr = None
    if arr is None or arr.shape != (len(JOINT_KEYS), dims) or arr.dtype.kind not in "fiu":
        for joint, point in block.items():
            try:
                numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in getter(point))
            except (KeyError, TypeError):
                numeric = False
            if not numeric:
                axes = "x, y" if dims == 2 else "x, y, z"
                raise H3WBFormatError(
                    f"sample {sample_id}: {field}[{joint!r}] must be an object with numeric {axes}, got {point!r}"
                ) from None
        raise H3WBFormatError(f"sample {sample_id}: {field} is malformed")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        joint = JOINT_KEYS[int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])]
        raise H3WBFormatError(f"sample {sample_id}: {field}[{joint!r}] is not finite: {block[joint]!r}")
    return arr


def parse_keypoints_2d(sample_id: str, sample: dict) -> np.ndarray | None:
    """(J, 2) pixels from ``sample["keypoints_2d"]``, or None when the field is absent."""
    return _points(sample_id, sample, "keypoints_2d", _XY, 2)


def parse_keypoints_3d(sample_id: str, sample: dict) -> np.ndarray | None:
    """(J, 3) mm (camera-rotated world, no translation) from ``sample["keypoints_3d"]``, or None."""
    return _points(sample_id, sample, "keypoints_3d", _XYZ, 3)


def parse_bbox(sample_id: str, sample: dict) -> tuple[int, int, int, int] | None:
    """(x_min, y_min, x_max, y_max) from ``sample["bbox"]``, or None when absent."""
    box = sample.get("bbox")
    if box is None:
        return None
    try:
        values = tuple(int(box[k]) for k in BBOX_KEYS)
    except (KeyError, TypeError, ValueError):
        raise H3WBFormatError(
            f"sample {sample_id}: bbox must be an object with integer {', '.join(BBOX_KEYS)}"
        ) from None
    if values[2] < values[0] or values[3] < values[1]:
        raise H3WBFormatError(f"sample {sample_id}: bbox has x_max < x_min or y_max < y_min: {box!r}")
    return values


def parse_image_ref(sample_id: str, sample: dict) -> ImageRef | None:
    """The ImageRef of ``sample["image_path"]``, or None when the field is absent."""
    path = sample.get("image_path")
    if path is None:
        return None
    try:
        return parse_image_path(path)
    except ValueError as exc:
        raise H3WBFormatError(f"sample {sample_id}: {exc}") from None


def points_2d_json(points: np.ndarray) -> dict:
    """(J, 2) -> ``{"0": {"x", "y"}, ...}``."""
    return {k: {"x": float(x), "y": float(y)} for k, (x, y) in zip(JOINT_KEYS, points.tolist(), strict=True)}


def points_3d_json(points: np.ndarray) -> dict:
    """(J, 3) -> ``{"0": {"x", "y", "z"}, ...}``."""
    return {
        k: {"x": float(x), "y": float(y), "z": float(z)}
        for k, (x, y, z) in zip(JOINT_KEYS, points.tolist(), strict=True)
    }


def bbox_json(box: tuple[int, int, int, int]) -> dict:
    return {k: int(v) for k, v in zip(BBOX_KEYS, box, strict=True)}


def bbox_of(points: np.ndarray, size: tuple[int, int], margin: float = 0.1) -> tuple[int, int, int, int]:
    """Integer box around (J, 2) pixel points (finite ones), grown by ``margin`` and clipped to size."""
    finite = points[np.isfinite(points).all(axis=1)]
    if len(finite) == 0:
        return (0, 0, int(size[0]) - 1, int(size[1]) - 1)
    lo, hi = finite.min(axis=0), finite.max(axis=0)
    pad = (hi - lo) * margin
    lo = np.clip(np.floor(lo - pad), 0, None)
    hi = np.minimum(np.ceil(hi + pad), np.asarray(size) - 1)
    return (int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1]))


# --- fast writing for exports -------------------------------------------------------------------------

#: Decimals written by the ``*_text`` writers: 1e-4 mm / 1e-4 px, far below any annotation's precision.
EXPORT_DECIMALS = 4


def _points_template(axes: tuple[str, ...]) -> str:
    value = f"%.{EXPORT_DECIMALS}f"
    joints = ", ".join(f'"{k}": {{' + ", ".join(f'"{a}": {value}' for a in axes) + "}" for k in JOINT_KEYS)
    return "{" + joints + "}"


_TEMPLATE_2D = _points_template(("x", "y"))
_TEMPLATE_3D = _points_template(("x", "y", "z"))


def _points_text(points: np.ndarray, template: str, as_json) -> str:
    if np.isfinite(points).all():
        return template % tuple(points.ravel().tolist())
    # A missing keypoint (NaN) is written as null coordinates: JSON has no NaN.
    rounded = np.round(points, EXPORT_DECIMALS)
    return json.dumps({k: {a: (v if math.isfinite(v) else None) for a, v in p.items()}
                       for k, p in as_json(rounded).items()})  # fmt: skip


def points_2d_text(points: np.ndarray) -> str:
    """JSON text of ``points_2d_json(points)`` with values rounded to ``EXPORT_DECIMALS``, written fast (exports)."""
    return _points_text(np.asarray(points, dtype=np.float64), _TEMPLATE_2D, points_2d_json)


def points_3d_text(points: np.ndarray) -> str:
    """JSON text of ``points_3d_json(points)`` with values rounded to ``EXPORT_DECIMALS``, written fast (exports)."""
    return _points_text(np.asarray(points, dtype=np.float64), _TEMPLATE_3D, points_3d_json)
