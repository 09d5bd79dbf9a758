"""The H3WB npz layout (``h3wb_train.npz``, mmpose's ``h3wb_train_bbox.npz``, the ``task*_test_*.npz`` sets)
read into the same ``Samples`` arrays as the JSON release files.

Layout (as ``utils/prepare_data_h3wb.py``, PAFUSE's ``common/h3wb_dataset.py`` and mmpose's
``H36MWholeBodyDataset`` read it; see docs/reference/h3wb_format.md section 3)::

    train_data (test sets: data) -> subject -> action -> {
        "global_3d": (N, J, 3) world mm,   "frame_id": (N,) video frame index,
        "<camera id>": {"camera_3d": (N, J, 3) mm, "pose_2d": (N, J, 2) px, "sample_id": (N,) ids}}
    metadata -> subject -> camera id -> {"K", "R", "T", "Distortion"} (+ part and side index lists)
    bbox -> (subject, action, camera id, frame id) -> {"x_min", "y_min", "x_max", "y_max"}   (mmpose's variant)

Every value is type-, shape- and range-checked where it is read; an error names the subject, action,
camera and field. ``camera_3d`` is accepted as full camera coordinates ``R X + T`` (what PAFUSE
re-projects) or as H3WB's JSON convention ``R X``; which one the file uses is found from
``global_3d`` and reported. The shipped Human3.6M calibration is the geometry; a file whose
``metadata`` disagrees with it is refused rather than silently mixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from annotator import h3wb_format, h36m, keypoints
from annotator.h3wb_format import H3WBFormatError, ImageRef
from annotator.importers.npz import NpzError, item, load_npz

#: Members that hold the samples: the training file's and the test sets'.
SAMPLE_MEMBERS: tuple[str, ...] = ("train_data", "data")
#: camera_3d further than this (mm) from both conventions is not this layout.
CAMERA_3D_TOLERANCE_MM = 1.0
#: Calibration in ``metadata`` must match the shipped one within these (px, -, mm); the file stores float32.
CALIBRATION_TOLERANCE = {"K": 1e-2, "R": 1e-4, "T": 1.0}
MAX_FRAME_INDEX = 10**7 - 1


@dataclass
class NpzSamples:
    """What an npz file held, flattened to samples (one per frame and camera), in file order."""

    ids: np.ndarray  # (S,) int64; the file's sample_id, or positions when it has none
    image_refs: list[ImageRef]
    keypoints_3d: np.ndarray | None  # (S, J, 3) R_cam X_world mm (H3WB's JSON convention)
    keypoints_2d: np.ndarray | None  # (S, J, 2) px, NaN where stored as (0, 0)
    bbox: np.ndarray | None  # (S, 4) int64, rows of -1 where the file has none
    has_sample_ids: bool
    member: str
    camera_3d_convention: str = ""  # "R X + T", "R X" or "" (no camera_3d)
    camera_3d_disagreement_mm: float = 0.0
    notes: list[str] = field(default_factory=list)


def _where(*parts: str) -> str:
    return " / ".join(parts)


def _array(value, where: str, name: str, shape: tuple, bound: float | None, integer: bool = False) -> np.ndarray:
    """``value`` as a numeric array of ``shape`` (None: any length), finite and within ``bound``."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in ("iu" if integer else "fiu"):
        kind = type(value).__name__ if not isinstance(value, np.ndarray) else f"array of {value.dtype}"
        raise H3WBFormatError(f"{where}: {name} must be a numeric array, got {kind}")
    if value.ndim == len(shape) + 1 and value.shape[1] == 1:
        value = value[:, 0]  # (N, 1, J, D) as some writers keep it; the official loaders squeeze it
    if value.ndim != len(shape) or any(want is not None and got != want for got, want in zip(value.shape, shape)):
        raise H3WBFormatError(f"{where}: {name} must have shape {tuple('N' if s is None else s for s in shape)}, "
                              f"got {value.shape}")  # fmt: skip
    array = value.astype(np.int64 if integer else np.float64)
    if bound is not None:
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(array) <= bound)
        if bad.any():
            index = tuple(int(i) for i in np.unravel_index(int(np.flatnonzero(bad)[0]), array.shape))
            raise H3WBFormatError(
                f"{where}: {name}{list(index)} = {value[index].item()!r} is not finite within {bound:g}"
            )
    return array


def _name(value, what: str, pattern=None, max_chars: int = h3wb_format.MAX_ACTION_CHARS) -> str:
    try:
        text = h3wb_format.check_text(what, value, max_chars)
    except ValueError as exc:
        raise H3WBFormatError(str(exc)) from None
    if pattern is not None and not pattern(text):
        raise H3WBFormatError(f"{what} {text!r} is not valid")
    return text


def _check_calibration(metadata, subjects: set[str], path: Path) -> None:
    if not isinstance(metadata, dict):
        raise H3WBFormatError(f"{path.name}: metadata must be a dict")
    for subject in sorted(subjects):
        cams = metadata.get(subject)
        if cams is None:
            continue
        if not isinstance(cams, dict):
            raise H3WBFormatError(f"{path.name}: metadata[{subject!r}] must be a dict of cameras")
        for camera_id, calib in cams.items():
            if camera_id not in h36m.CAMERA_IDS or not isinstance(calib, dict):
                continue
            where = _where("metadata", subject, str(camera_id))
            shipped = h36m.camera(subject, camera_id)
            checks = {
                "K": (_array(calib.get("K"), where, "K", (1, 3, 3), 1e4)[0] * 1000.0, shipped.K),
                "R": (_array(calib.get("R"), where, "R", (1, 3, 3), 10.0)[0], shipped.R),
                "T": (_array(calib.get("T"), where, "T", (1, 1, 3), 1e3).reshape(3) * 1000.0, shipped.t),
            }
            for name, (theirs, ours) in checks.items():
                off = float(np.abs(theirs - ours).max())
                if off > CALIBRATION_TOLERANCE[name]:
                    raise H3WBFormatError(
                        f"{path.name}: {where}: {name} differs from the shipped Human3.6M calibration by {off:.4g}; "
                        "this tool uses one calibration for every import"
                    )


def read_npz_samples(path: str | Path) -> NpzSamples:
    """Every sample of an H3WB npz file; H3WBFormatError names the member, subject, action, camera and field."""
    path = Path(path)
    try:
        members = load_npz(path)
        member = next((m for m in SAMPLE_MEMBERS if m in members), None)
        if member is None:
            raise H3WBFormatError(
                f"{path.name}: an H3WB npz holds 'train_data' (training file) or 'data' (test sets); "
                f"this one has {', '.join(sorted(members)) or 'nothing'}"
            )
        data = item(members, member, path)
        metadata = item(members, "metadata", path) if "metadata" in members else None
        boxes = item(members, "bbox", path) if "bbox" in members else None
    except NpzError as exc:
        raise H3WBFormatError(str(exc)) from None
    if not isinstance(data, dict) or not data:
        raise H3WBFormatError(f"{path.name}: {member} must be a non-empty dict keyed by subject")
    if boxes is not None and not isinstance(boxes, dict):
        raise H3WBFormatError(f"{path.name}: bbox must be a dict keyed by (subject, action, camera, frame)")
    J = keypoints.NUM_KEYPOINTS
    ids, refs, k3d, k2d, bbox = [], [], [], [], []
    has_ids: list[bool] = []
    scalar_ids = False
    conventions: dict[str, float] = {"R X + T": 0.0, "R X": 0.0}
    counts = {"R X + T": 0, "R X": 0}
    for subject, actions in data.items():
        subject = _name(subject, f"{member} subject", lambda s: s in h36m.SUBJECTS and s.startswith("S"), 10)
        if not isinstance(actions, dict):
            raise H3WBFormatError(f"{path.name}: {member}[{subject!r}] must be a dict keyed by action")
        for action, block in actions.items():
            action = _name(action, f"{_where(subject, 'action')}")
            where = _where(subject, action)
            if not isinstance(block, dict):
                raise H3WBFormatError(f"{path.name}: {where} must be a dict")
            if "frame_id" not in block:
                raise H3WBFormatError(f"{path.name}: {where} has no frame_id")
            frames = _array(block["frame_id"], where, "frame_id", (None,), MAX_FRAME_INDEX, integer=True)
            if (frames < 0).any() or len(np.unique(frames)) != len(frames):
                raise H3WBFormatError(f"{path.name}: {where}: frame_id must be distinct non-negative frame indices")
            n = len(frames)
            world = None
            if "global_3d" in block:
                world = _array(block["global_3d"], where, "global_3d", (n, J, 3), h3wb_format.MAX_ABS_MM)
            cameras = [c for c in block if c not in ("frame_id", "global_3d")]
            if not cameras:
                raise H3WBFormatError(f"{path.name}: {where} has no camera entries")
            for camera_id in cameras:
                camera_id = _name(camera_id, f"{where} camera", lambda c: c in h36m.CAMERA_IDS, 12)
                cw = _where(subject, action, camera_id)
                entry = block[camera_id]
                if not isinstance(entry, dict):
                    raise H3WBFormatError(f"{path.name}: {cw} must be a dict")
                unknown = set(entry) - {"camera_3d", "pose_2d", "sample_id"}
                if unknown:
                    raise H3WBFormatError(f"{path.name}: {cw} has unknown fields {sorted(map(str, unknown))[:5]}")
                cam = h36m.camera(subject, camera_id)
                rotated = None if world is None else world @ cam.R.T  # (N, J, 3) R X
                if "camera_3d" in entry:
                    c3d = _array(entry["camera_3d"], cw, "camera_3d", (n, J, 3), h3wb_format.MAX_ABS_MM)
                    if rotated is None:
                        # No world: decide the convention from depth (R X + T puts the person ~5 m in front).
                        with_t = float(np.nanmedian(c3d[..., 2])) > float(np.nanmedian((c3d - cam.t)[..., 2]))
                        rotated = c3d - cam.t if with_t else c3d
                        counts["R X + T" if with_t else "R X"] += 1
                    else:
                        off_t = float(np.nanmax(np.abs(c3d - cam.t - rotated), initial=0.0))
                        off_0 = float(np.nanmax(np.abs(c3d - rotated), initial=0.0))
                        name, off = ("R X + T", off_t) if off_t <= off_0 else ("R X", off_0)
                        if off > CAMERA_3D_TOLERANCE_MM:
                            raise H3WBFormatError(
                                f"{path.name}: {cw}: camera_3d is neither R global_3d + T nor R global_3d "
                                f"(off by {min(off_t, off_0):.3g} mm at best)"
                            )
                        counts[name] += 1
                        conventions[name] = max(conventions[name], off)
                k3d.append(rotated)
                if "pose_2d" in entry:
                    k2d.append(h3wb_format.mask_missing_2d(
                        _array(entry["pose_2d"], cw, "pose_2d", (n, J, 2), h3wb_format.MAX_ABS_PX)))  # fmt: skip
                else:
                    k2d.append(None)
                if "sample_id" in entry and np.ndim(entry["sample_id"]) == 0 and n != 1:
                    # One number for a whole camera sequence cannot name its frames' samples.
                    scalar_ids = True
                    ids.append(None)
                    has_ids.append(False)
                elif "sample_id" in entry:
                    sid = np.atleast_1d(entry["sample_id"])
                    sid = _array(sid, cw, "sample_id", (n,), 10.0**h3wb_format.MAX_SAMPLE_ID_DIGITS - 1, integer=True)
                    if (sid < 0).any():
                        raise H3WBFormatError(f"{path.name}: {cw}: sample_id must be non-negative")
                    ids.append(sid)
                    has_ids.append(True)
                else:
                    ids.append(None)
                    has_ids.append(False)
                refs.extend(ImageRef(subject, action, camera_id, int(f)) for f in frames)
                bbox.append(_boxes(boxes, subject, action, camera_id, frames, path))
    if not refs:
        raise H3WBFormatError(f"{path.name}: {member} holds no samples")
    for name, parts in (("3D", k3d), ("2D", k2d)):
        present = [p is not None for p in parts]
        if any(present) and not all(present):
            raise H3WBFormatError(f"{path.name}: some cameras have {name} keypoints and others do not")
    if scalar_ids:
        has_ids = [False] * len(has_ids)  # numbered in file order, as a file without sample_id
    if any(has_ids) and not all(has_ids):
        raise H3WBFormatError(f"{path.name}: some cameras have sample_id and others do not")
    sample_ids = np.concatenate(ids) if all(has_ids) else np.arange(len(refs), dtype=np.int64)
    if len(np.unique(sample_ids)) != len(sample_ids):
        values, counts_ = np.unique(sample_ids, return_counts=True)
        raise H3WBFormatError(f"{path.name}: sample_id {int(values[counts_ > 1][0])} appears twice")
    box = np.concatenate(bbox) if boxes is not None else None
    used = [name for name, c in counts.items() if c]
    out = NpzSamples(
        ids=sample_ids.astype(np.int64),
        image_refs=refs,
        keypoints_3d=np.concatenate(k3d) if k3d[0] is not None else None,
        keypoints_2d=np.concatenate(k2d) if k2d[0] is not None else None,
        bbox=box,
        has_sample_ids=all(has_ids),
        member=member,
        camera_3d_convention=" and ".join(used),
        camera_3d_disagreement_mm=max(conventions.values()),
    )
    if scalar_ids:
        out.notes.append("sample_id holds one number per camera sequence, not one per frame: not used")
    if metadata is not None:
        _check_calibration(metadata, {r.subject for r in refs}, path)
    return out


def _boxes(boxes, subject: str, action: str, camera_id: str, frames: np.ndarray, path: Path) -> np.ndarray:
    out = np.full((len(frames), 4), -1, dtype=np.int64)
    if boxes is None:
        return out
    for n, frame in enumerate(frames.tolist()):
        box = boxes.get((subject, action, camera_id, frame))
        if box is None:
            continue
        where = f"bbox[{_where(subject, action, camera_id, str(frame))}]"
        try:
            out[n] = h3wb_format.parse_bbox(where, {"bbox": _plain(box)})
        except H3WBFormatError as exc:
            raise H3WBFormatError(f"{path.name}: {exc}") from None
    return out


def _plain(box):
    if not isinstance(box, dict):
        return box
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in box.items()}
