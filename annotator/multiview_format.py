"""The generic multi-view format: one JSON Lines file of frames, plus the rig's calibration file.

Pure functions shared by the importer, the exporter and the synthetic rig, so there is one reading of
the format (the README's "The generic multi-view format" shows it whole). The first line is a header,
every further line one frame (one instant of one subject's sequence) with its views::

    {"format": "multiview-keypoints", "version": 1, "layout": LAYOUT, "keypoints": K,
     "units": "mm", "keypoints_2d_convention": "distorted", "images": "images",
     "rig": {"format": "anipose", "file": "calibration.toml"}}
    {"subject": "S1", "sequence": "Walking 1", "frame": 125,
     "keypoints_3d": [[x, y, z], null, ...],
     "views": {"A": {"image": "S1/Walking 1/A/frame_0125.jpg", "keypoints_2d": [[u, v], null, ...]}, ...}}

* ``layout`` names the keypoint layout, one of ``annotator.keypoints.LAYOUTS`` by version
  (``coco-17/v1``) or bare name (``coco-17``); the default (``keypoints.LAYOUT_VERSION``, COCO-WholeBody) when absent;
  ``keypoints`` is its keypoint count K (optional; checked against the layout when given);
* ``keypoints_3d`` (optional): the frame's skeleton in world coordinates of the rig, in ``units``;
  ``ground_truth_3d`` (optional): the true skeleton where it is known (synthetic data);
* ``views``: camera name (as the rig names it) -> ``image`` (a relative path under the image directory),
  optional ``keypoints_2d`` (pixels in ``keypoints_2d_convention``: ``distorted``, the image's own
  pixels, or ``pinhole``, without the lens distortion), optional ``bbox`` [x_min, y_min, x_max, y_max],
  ``sample_id`` (a non-negative integer) and ``detections`` ({detector name: {"keypoints_2d", "scores"}});
* a missing keypoint is ``null``; lists have exactly ``keypoints`` entries, in the layout's order.

The layout is named, and the keypoint count is read from the header and checked against it; every
shipped layout (``annotator.keypoints.LAYOUTS``) is accepted, so a new preset needs no change here.
Values are type- and range-checked as the H3WB reader checks them (``true`` is not 1.0; coordinates
within 1e5 mm or px after units).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from itertools import chain
from pathlib import PurePosixPath

import numpy as np

from annotator import keypoints
from annotator.camera_formats import FORMATS, UNITS
from annotator.camera_formats.checks import CameraFormatError
from annotator.camera_formats.checks import name as camera_name
from annotator.h3wb_format import MAX_ABS_MM, MAX_ABS_PX, MAX_ACTION_CHARS, MAX_IMAGE_PATH_CHARS, check_text

FORMAT = "multiview-keypoints"
VERSION = 1
#: Layouts a file may name (by version id or bare name), with their keypoint counts: every shipped layout.
LAYOUTS: dict[str, int] = {version: layout.num_keypoints for version, layout in keypoints.LAYOUTS.items()}
#: The 2D conventions a file may declare (``Dataset.Convention2D`` values).
CONVENTIONS: tuple[str, ...] = ("distorted", "pinhole")
#: Longest subject name (``Subject.name``), detector name (``Detection2D.detector``).
MAX_SUBJECT_CHARS, MAX_DETECTOR_CHARS = 40, 100
#: Largest frame index (a video frame number) and sample id (12 digits, as in H3WB files).
MAX_FRAME_INDEX, MAX_SAMPLE_ID = 10**9, 10**12 - 1
#: Decimals written for pixels and millimetres.
DECIMALS = 4
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
HEADER_KEYS = frozenset({"format", "version", "layout", "keypoints", "units", "keypoints_2d_convention", "images",
                         "rig", "description"})  # fmt: skip
FRAME_KEYS = frozenset({"subject", "sequence", "frame", "keypoints_3d", "ground_truth_3d", "views"})
VIEW_KEYS = frozenset({"image", "keypoints_2d", "bbox", "sample_id", "detections"})
_NUMBERS = frozenset({int, float})


class MultiviewFormatError(ValueError):
    """A line does not follow the format; the message names the frame (or the header) and the field."""


@dataclass(frozen=True)
class Header:
    """The first line: the layout, the units, the 2D convention, where the images and the rig are."""

    #: The layout's version id (``keypoints.LAYOUTS``); a bare name in the file is read as its version.
    layout: str
    num_keypoints: int
    units: str = "mm"
    convention: str = "distorted"
    images: str | None = None
    rig_format: str = ""
    rig_file: str | None = None
    description: str = ""

    @property
    def mm_per_unit(self) -> float:
        return UNITS[self.units]


@dataclass
class ViewRecord:
    """One camera's image of a frame; arrays (J, 2) px with NaN for missing keypoints."""

    camera: str
    image: str
    keypoints_2d: np.ndarray | None = None
    bbox: tuple[int, int, int, int] | None = None
    sample_id: int | None = None
    detections: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


@dataclass
class FrameRecord:
    """One line: a frame, its optional skeletons (J, 3) world mm, and its views in file order."""

    subject: str
    sequence: str
    index: int
    views: list[ViewRecord]
    keypoints_3d: np.ndarray | None = None
    ground_truth_3d: np.ndarray | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        return self.subject, self.sequence, self.index

    def label(self) -> str:
        return f"{self.subject} / {self.sequence} / frame {self.index}"


def _short(value) -> str:
    text = (
        json.dumps(value) if isinstance(value, int | float | str | bool | type(None)) else f"<{type(value).__name__}>"
    )
    return text if len(text) <= 60 else text[:57] + "..."


def _unknown(where: str, obj: dict, allowed: frozenset) -> None:
    extra = sorted(k for k in obj if k not in allowed)
    if extra:
        raise MultiviewFormatError(f"{where}: unknown field {extra[0][:40]!r} (known: {', '.join(sorted(allowed))})")


def _text(where: str, value, limit: int) -> str:
    try:
        text = check_text(where, value, limit)
    except ValueError as exc:
        raise MultiviewFormatError(str(exc)) from None
    if not text or text != text.strip():
        raise MultiviewFormatError(f"{where} {text!r} must not be empty or start or end with blanks")
    return text


def _integer(where: str, value, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise MultiviewFormatError(f"{where} must be an integer from 0 to {high}, got {_short(value)}")
    return value


# --- header -------------------------------------------------------------------------------------------


def parse_header(obj) -> Header:
    """The header line, checked: format and version, a known layout and its keypoint count, units, convention, rig."""
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise MultiviewFormatError(
            f'the first line must be the header {{"format": "{FORMAT}", "version": {VERSION}, ...}}; got '
            f"{_short(obj.get('format')) if isinstance(obj, dict) else _short(obj)} as its format"
        )
    _unknown("header", obj, HEADER_KEYS)
    if obj.get("version") != VERSION or isinstance(obj.get("version"), bool):
        raise MultiviewFormatError(
            f"header: version {_short(obj.get('version'))} is not {VERSION}, the one this tool reads"
        )
    layout = obj.get("layout", keypoints.LAYOUT_VERSION)
    try:
        layout = keypoints.layout_get(layout).version if isinstance(layout, str) else None
    except keypoints.LayoutError:
        layout = None
    if layout is None:
        raise MultiviewFormatError(
            f"header: unknown layout {_short(obj.get('layout'))}; known: {', '.join(LAYOUTS)} "
            f"(or their bare names: {', '.join(lay.name for lay in keypoints.LAYOUTS.values())})"
        )
    count = obj.get("keypoints", LAYOUTS[layout])
    if isinstance(count, bool) or count != LAYOUTS[layout]:
        raise MultiviewFormatError(
            f"header: layout {layout} has {LAYOUTS[layout]} keypoints, the header says {_short(count)}"
        )
    units = obj.get("units", "mm")
    if units not in UNITS:
        raise MultiviewFormatError(f"header: units {_short(units)} must be one of {', '.join(UNITS)}")
    convention = obj.get("keypoints_2d_convention", "distorted")
    if convention not in CONVENTIONS:
        raise MultiviewFormatError(
            f"header: keypoints_2d_convention {_short(convention)} must be one of {', '.join(CONVENTIONS)}"
        )
    images = obj.get("images")
    if images is not None:
        images = _text("header images", images, MAX_IMAGE_PATH_CHARS)
    description = obj.get("description", "")
    if description:
        description = check_text("header description", description, 2000)
    rig = obj.get("rig")
    rig_format, rig_file = "", None
    if rig is not None:
        if not isinstance(rig, dict):
            raise MultiviewFormatError('header: rig must be an object {"format": ..., "file": ...}')
        _unknown("header rig", rig, frozenset({"format", "file"}))
        rig_format = rig.get("format", "")
        if rig_format and rig_format not in FORMATS:
            raise MultiviewFormatError(f"header: rig format {_short(rig_format)} is not one of {', '.join(FORMATS)}")
        if rig.get("file") is not None:
            rig_file = _text("header rig file", rig["file"], MAX_IMAGE_PATH_CHARS)
    return Header(layout, count, units, convention, images, rig_format, rig_file, description)


def header_text(header: Header) -> str:
    """The header line (no newline)."""
    obj = {"format": FORMAT, "version": VERSION, "layout": header.layout, "keypoints": header.num_keypoints,
           "units": header.units, "keypoints_2d_convention": header.convention}  # fmt: skip
    if header.images is not None:
        obj["images"] = header.images
    rig = {"format": header.rig_format}
    if header.rig_file:
        rig["file"] = header.rig_file
    obj["rig"] = rig
    if header.description:
        obj["description"] = header.description
    return json.dumps(obj)


# --- frames -------------------------------------------------------------------------------------------


def check_image_path(where: str, value) -> str:
    """A relative POSIX path under the image directory: no ``..``, no absolute path, a JPEG or PNG name."""
    text = _text(where, value, MAX_IMAGE_PATH_CHARS)
    path = PurePosixPath(text)
    if "\\" in text or path.is_absolute() or ".." in path.parts or "" in text.split("/") or "." in path.parts:
        raise MultiviewFormatError(
            f"{where} {text!r} must be a relative path with '/' between its parts and no '.' or '..' parts"
        )
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise MultiviewFormatError(f"{where} {text!r} must name a {', '.join(IMAGE_SUFFIXES)} file")
    return text


def parse_points(where: str, value, count: int, dims: int, scale: float = 1.0) -> np.ndarray:
    """(count, dims) float64 from a list of ``count`` entries, each null (NaN) or ``dims`` numbers; times ``scale``."""
    if not isinstance(value, list) or len(value) != count:
        got = f"{len(value)} entries" if isinstance(value, list) else _short(value)
        raise MultiviewFormatError(
            f"{where} must be a list of {count} points ([{'x, y' if dims == 2 else 'x, y, z'}] or null), got {got}"
        )
    arr = None
    if None not in value:
        try:
            arr = np.array(value, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            arr = None
        # numpy reads true as 1.0: the types themselves are looked at (a C-level pass).
        if arr is not None and (
            arr.shape != (count, dims) or not _NUMBERS.issuperset(map(type, chain.from_iterable(value)))
        ):
            arr = None
    if arr is None:
        arr = np.full((count, dims), np.nan)
        for k, point in enumerate(value):
            if point is None:
                continue
            if not isinstance(point, list) or len(point) != dims or not all(type(v) in _NUMBERS for v in point):
                raise MultiviewFormatError(f"{where}[{k}] must be {dims} numbers or null, got {_short(point)}")
            try:
                arr[k] = point
            except OverflowError:
                arr[k] = np.inf
    arr *= scale
    bound = MAX_ABS_MM if dims == 3 else MAX_ABS_PX
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(arr) <= bound).all(axis=1) & ~np.isnan(arr).all(axis=1)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        unit = "mm" if dims == 3 else "px"
        raise MultiviewFormatError(
            f"{where}[{k}] = {_short(value[k])} is not finite numbers of at most {bound:.0e} {unit}"
        )
    return arr


def _scores(where: str, value, count: int) -> np.ndarray:
    if not isinstance(value, list) or len(value) != count:
        raise MultiviewFormatError(f"{where} must be a list of {count} numbers in [0, 1]")
    for k, v in enumerate(value):
        if type(v) not in _NUMBERS or not 0.0 <= v <= 1.0:
            raise MultiviewFormatError(f"{where}[{k}] = {_short(v)} is not a number in [0, 1]")
    return np.asarray(value, dtype=np.float64)


def _bbox(where: str, value) -> tuple[int, int, int, int]:
    if not isinstance(value, list) or len(value) != 4:
        raise MultiviewFormatError(f"{where} must be [x_min, y_min, x_max, y_max], got {_short(value)}")
    out = []
    for i, v in enumerate(value):
        if type(v) not in _NUMBERS or not math.isfinite(v) or abs(v) > MAX_ABS_PX:
            raise MultiviewFormatError(f"{where}[{i}] = {_short(v)} is not a finite number of pixels")
        out.append(int(round(v)))
    if out[2] < out[0] or out[3] < out[1]:
        raise MultiviewFormatError(f"{where} {out} has its max corner before its min corner")
    return out[0], out[1], out[2], out[3]


def _view(where: str, camera: str, obj, header: Header) -> ViewRecord:
    if not isinstance(obj, dict):
        raise MultiviewFormatError(
            f"{where} must be an object with image and optional keypoints_2d, bbox, sample_id, detections"
        )
    _unknown(where, obj, VIEW_KEYS)
    if "image" not in obj:
        raise MultiviewFormatError(f"{where} has no image")
    view = ViewRecord(camera, check_image_path(f"{where} image", obj["image"]))
    J = header.num_keypoints
    if obj.get("keypoints_2d") is not None:
        view.keypoints_2d = parse_points(f"{where} keypoints_2d", obj["keypoints_2d"], J, 2)
    if obj.get("bbox") is not None:
        view.bbox = _bbox(f"{where} bbox", obj["bbox"])
    if obj.get("sample_id") is not None:
        view.sample_id = _integer(f"{where} sample_id", obj["sample_id"], MAX_SAMPLE_ID)
    detections = obj.get("detections") or {}
    if not isinstance(detections, dict):
        raise MultiviewFormatError(f"{where} detections must map a detector name to {{keypoints_2d, scores}}")
    for detector, det in detections.items():
        name = _text(f"{where} detector name", detector, MAX_DETECTOR_CHARS)
        at = f"{where} detections[{name!r}]"
        if not isinstance(det, dict) or set(det) != {"keypoints_2d", "scores"}:
            raise MultiviewFormatError(f"{at} must be {{keypoints_2d, scores}}")
        view.detections[name] = (parse_points(f"{at} keypoints_2d", det["keypoints_2d"], J, 2),
                                 _scores(f"{at} scores", det["scores"], J))  # fmt: skip
    return view


def parse_frame(obj, header: Header, where: str) -> FrameRecord:
    """One frame line, checked; ``where`` names it in errors until its subject, sequence and frame are known."""
    if not isinstance(obj, dict):
        raise MultiviewFormatError(f"{where} must be an object (subject, sequence, frame, views, ...)")
    for key in ("subject", "sequence", "frame", "views"):
        if key not in obj:
            raise MultiviewFormatError(f"{where} has no {key}")
    subject = _text(f"{where} subject", obj["subject"], MAX_SUBJECT_CHARS)
    sequence = _text(f"{where} sequence", obj["sequence"], MAX_ACTION_CHARS)
    index = _integer(f"{where} frame", obj["frame"], MAX_FRAME_INDEX)
    where = f"{where} ({subject} / {sequence} / frame {index})"
    _unknown(where, obj, FRAME_KEYS)
    views = obj["views"]
    if not isinstance(views, dict) or not views:
        raise MultiviewFormatError(f"{where} views must map camera names to views (at least one)")
    records = []
    for camera, view in views.items():
        try:
            camera = camera_name(f"{where} camera name", camera)
        except CameraFormatError as exc:
            raise MultiviewFormatError(str(exc)) from None
        records.append(_view(f"{where} view {camera!r}", camera, view, header))
    frame = FrameRecord(subject, sequence, index, records)
    for name in ("keypoints_3d", "ground_truth_3d"):
        if obj.get(name) is not None:
            setattr(
                frame, name, parse_points(f"{where} {name}", obj[name], header.num_keypoints, 3, header.mm_per_unit)
            )
    return frame


def points_json(points: np.ndarray | None, decimals: int = DECIMALS) -> list | None:
    """(J, d) -> a list of J points rounded to ``decimals``, null where a keypoint is missing (NaN)."""
    if points is None:
        return None
    rounded = np.round(np.asarray(points, dtype=np.float64), decimals).tolist()
    return [p if all(math.isfinite(v) for v in p) else None for p in rounded]


def frame_text(frame: FrameRecord, decimals_3d: int = DECIMALS) -> str:
    """The line of one frame (no newline); fields that are None are left out. 2D have ``DECIMALS`` decimals (px),
    3D ``decimals_3d`` (``DECIMALS`` suits mm; a file in metres needs 3 more)."""
    views = {}
    for v in frame.views:
        view: dict = {"image": v.image}
        if v.sample_id is not None:
            view["sample_id"] = v.sample_id
        if v.bbox is not None:
            view["bbox"] = [int(b) for b in v.bbox]
        if v.keypoints_2d is not None:
            view["keypoints_2d"] = points_json(v.keypoints_2d)
        if v.detections:
            view["detections"] = {d: {"keypoints_2d": points_json(xy), "scores": np.round(s, DECIMALS).tolist()}
                                  for d, (xy, s) in v.detections.items()}  # fmt: skip
        views[v.camera] = view
    obj: dict = {"subject": frame.subject, "sequence": frame.sequence, "frame": frame.index}
    if frame.keypoints_3d is not None:
        obj["keypoints_3d"] = points_json(frame.keypoints_3d, decimals_3d)
    if frame.ground_truth_3d is not None:
        obj["ground_truth_3d"] = points_json(frame.ground_truth_3d, decimals_3d)
    obj["views"] = views
    return json.dumps(obj, separators=(",", ":"))
