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
from itertools import chain
from operator import itemgetter

import numpy as np

from annotator import keypoints

JOINT_KEYS: tuple[str, ...] = tuple(str(j) for j in range(keypoints.NUM_KEYPOINTS))
_XY = itemgetter("x", "y")
_XYZ = itemgetter("x", "y", "z")
BBOX_KEYS: tuple[str, ...] = ("x_min", "y_min", "x_max", "y_max")

_IMAGE_PATH = re.compile(
    r"^(?P<subject>S\d{1,3})/Images/(?P<action>[^/]+)\.(?P<camera>\d{1,12})/frame_(?P<frame>\d{1,7})\.(?P<ext>jpg|jpeg|png)$"
)

#: Longest accepted ``image_path`` (``View.image_path``) and action name (``Sequence.action``).
MAX_IMAGE_PATH_CHARS = 500
MAX_ACTION_CHARS = 100
#: Largest accepted sample id: 12 decimal digits (the release's ids are below 100,000).
MAX_SAMPLE_ID_DIGITS = 12
#: Largest magnitude accepted for a 3D coordinate (mm): 100 m, far outside any capture volume.
MAX_ABS_MM = 1e5
#: Largest magnitude accepted for a 2D coordinate or bbox corner (px): 100 times a Human3.6M frame.
MAX_ABS_PX = 1e5
#: Masked keypoints of the I2D->3D inputs are stored as (0, 0) (H3WB's models treat ~0 as absent).
MISSING_2D = (0.0, 0.0)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NUMBER_TYPES = frozenset({int, float})


def check_text(what: str, value, max_chars: int) -> str:
    """``value`` as a name: a string of at most ``max_chars`` characters without control characters."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}")
    if len(value) > max_chars:
        raise ValueError(f"{what} is {len(value)} characters long; the limit is {max_chars}")
    bad = _CONTROL.search(value)
    if bad:
        raise ValueError(f"{what} contains a control character ({bad.group()!r} at position {bad.start()})")
    return value


def parse_sample_id(key) -> int:
    """A sample key (``"123"``) as an int; ValueError for anything but 1-12 decimal digits."""
    if not isinstance(key, str) or not key.isascii() or not key.isdigit() or len(key) > MAX_SAMPLE_ID_DIGITS:
        shown = key if isinstance(key, str) and len(key) <= 40 else f"{str(key)[:40]}..."
        raise ValueError(f"sample key {shown!r} is not a decimal sample id of at most {MAX_SAMPLE_ID_DIGITS} digits")
    return int(key)


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
    check_text("image_path", path, MAX_IMAGE_PATH_CHARS)
    match = _IMAGE_PATH.match(path.replace("\\", "/"))
    if match is None:
        raise ValueError(
            f"image_path {path!r} does not look like '<subject>/Images/<action>.<camera>/frame_<NNNN>.jpg'"
        )
    action = check_text("the action of image_path", match["action"], MAX_ACTION_CHARS)
    if action != action.strip() or not action:
        raise ValueError(f"image_path {path!r}: the action must not be empty or start or end with blanks")
    return ImageRef(match["subject"], action, match["camera"], int(match["frame"]))


def format_image_path(ref: ImageRef, ext: str = "jpg") -> str:
    """Inverse of ``parse_image_path`` (frame index zero-padded to 4 digits, as H3WB's extractor)."""
    return f"{ref.subject}/Images/{ref.action}.{ref.camera_id}/frame_{ref.frame_index:04d}.{ext}"


def _points(sample_id: str, sample: dict, field: str, getter, dims: int, exact_types: bool) -> np.ndarray | None:
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
                + (f"; unexpected {[e[:20] for e in extra[:5]]}" if extra else "")
            )
        block = {k: block[k] for k in JOINT_KEYS}
    try:
        rows = list(map(getter, block.values()))
        # No dtype: numpy then keeps strings and nulls visible (dtype kind U / O) instead of coercing them.
        arr = np.array(rows)
        fast = arr.shape == (len(JOINT_KEYS), dims) and arr.dtype.kind in "fi"
        # numpy turns true into 1.0 beside floats, so booleans need a look at the types themselves; a reader
        # that knows its bytes hold no true/false literal says so with exact_types=False (much faster).
        if fast and exact_types:
            fast = _NUMBER_TYPES.issuperset(map(type, chain.from_iterable(rows)))
    except (KeyError, TypeError, AttributeError, ValueError, OverflowError):
        fast = False
    if fast:
        arr = arr.astype(np.float64, copy=False)
        bound = MAX_ABS_MM if dims == 3 else MAX_ABS_PX
        if float(np.abs(arr).max()) <= bound:
            return arr
    else:
        arr = _points_slow(sample_id, field, block, getter, dims)
    bound = MAX_ABS_MM if dims == 3 else MAX_ABS_PX
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(arr) <= bound).all(axis=1) & ~np.isnan(arr).all(axis=1)
    if bad.any():
        joint = JOINT_KEYS[int(np.flatnonzero(bad)[0])]
        unit = "mm" if dims == 3 else "px"
        raise H3WBFormatError(
            f"sample {sample_id}: {field}[{joint!r}] = {_short(block[joint])} is not a finite number of at most "
            f"{bound:.0e} {unit} in magnitude"
        )
    return arr


def _short(value) -> str:
    text = repr(value) if isinstance(value, (int, float, str, bool, type(None))) else f"<{type(value).__name__}>"
    if isinstance(value, dict) and len(value) <= 3 and all(isinstance(v, (int, float, str, bool, type(None)))
                                                           for v in value.values()):  # fmt: skip
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _points_slow(sample_id: str, field: str, block: dict, getter, dims: int) -> np.ndarray:
    """The per-joint reading of a block the fast path refused: names the first bad joint, maps nulls to NaN."""
    axes = "x, y" if dims == 2 else "x, y, z"
    arr = np.empty((len(JOINT_KEYS), dims))
    for n, (joint, point) in enumerate(block.items()):
        try:
            values = getter(point) if isinstance(point, dict) else None
        except KeyError:
            values = None
        if values is not None and all(v is None for v in values):
            arr[n] = np.nan  # a missing keypoint, as this tool's exports write it
            continue
        if values is None or not all(type(v) in _NUMBER_TYPES for v in values):
            raise H3WBFormatError(
                f"sample {sample_id}: {field}[{joint!r}] must be an object with numeric {axes}, got {_short(point)}"
            )
        try:
            arr[n] = values
        except OverflowError:
            arr[n] = np.inf  # an integer beyond float range: refused by the range check
    return arr


def parse_keypoints_2d(sample_id: str, sample: dict, *, exact_types: bool = True) -> np.ndarray | None:
    """(J, 2) pixels from ``sample["keypoints_2d"]``, or None when the field is absent (null coordinates: NaN).

    ``exact_types=False`` skips the per-value type check that tells ``true`` from 1.0: only for a caller that
    knows the bytes this sample came from hold no ``true``/``false`` literal.
    """
    return _points(sample_id, sample, "keypoints_2d", _XY, 2, exact_types)


def mask_missing_2d(points: np.ndarray) -> np.ndarray:
    """(..., J, 2) with every keypoint stored as ``MISSING_2D`` (I2D->3D's masked joints) set to NaN, in place."""
    points[(points == MISSING_2D).all(axis=-1)] = np.nan
    return points


def parse_keypoints_3d(sample_id: str, sample: dict, *, exact_types: bool = True) -> np.ndarray | None:
    """(J, 3) mm (camera-rotated world, no translation) from ``sample["keypoints_3d"]``, or None (see above)."""
    return _points(sample_id, sample, "keypoints_3d", _XYZ, 3, exact_types)


def parse_bbox(sample_id: str, sample: dict) -> tuple[int, int, int, int] | None:
    """(x_min, y_min, x_max, y_max) from ``sample["bbox"]``, or None when absent.

    Like the official loaders, values are read with ``int()`` (a float is truncated); anything but a finite
    number of at most ``MAX_ABS_PX`` (true, strings, null) is refused.
    """
    box = sample.get("bbox")
    if box is None:
        return None
    if not isinstance(box, dict) or any(k not in box for k in BBOX_KEYS):
        raise H3WBFormatError(f"sample {sample_id}: bbox must be an object with {', '.join(BBOX_KEYS)}")
    for k in BBOX_KEYS:
        v = box[k]
        if type(v) not in _NUMBER_TYPES or not (abs(v) <= MAX_ABS_PX):
            raise H3WBFormatError(
                f"sample {sample_id}: bbox[{k!r}] = {_short(v)} is not a number of at most {MAX_ABS_PX:.0e} px"
            )
    values = tuple(int(box[k]) for k in BBOX_KEYS)
    if values[2] < values[0] or values[3] < values[1]:
        raise H3WBFormatError(f"sample {sample_id}: bbox has x_max < x_min or y_max < y_min: {_short(box)}")
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
