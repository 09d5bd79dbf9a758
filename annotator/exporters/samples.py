"""The samples of an export, read chunk by chunk: per view the exported 3D and 2D, flags, part validity, provenance.

A sample is one view of one frame. Frames come in the order of their views' imported sample ids (so an
imported H3WB file comes back in its own order) and then by subject, action and frame index; the views of
a frame are consecutive, by sample id, then camera name. Everything is read in chunks of
``CHUNK_FRAMES`` frames, so memory does not grow with the dataset.

Per view the 2D keypoints are:

* for a ``dataset`` skeleton: the stored dataset 2D (``View.keypoints_2d``, the imported numbers) when
  present, else the projection of the skeleton;
* for any other skeleton: the projection of the exported skeleton into the view, except the keypoints
  the task's annotator placed in that view, which keep the annotator's 2D position (a re-triangulated
  point need not reproject exactly onto every click).

Every 2D is written in the dataset's own convention (``Dataset.keypoints_2d_convention``): for the
H3WB release that is the pinhole projection without lens distortion, so projections are pinhole and
an annotator's click (made on the distorted image) is undistorted; otherwise the distorted pixels of
the images. H3WB keys are the views' source sample ids unless the plan renumbers them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from django.db.models import F, Min

from annotator import geometry, h3wb_format, keypoints
from annotator.exceptions import ApplicationError, NotFoundError
from annotator.exporters.versions import ResolvedSkeleton, VersionSpec, resolve
from annotator.importers import conventions
from annotator.models import Camera, Correction, Dataset, Frame, PartValidity, QualityScore, Skeleton3D, Task, View

CHUNK_FRAMES = 400
#: A keypoint whose exported 3D is this far (mm) from the task's starting skeleton counts as moved.
MOVED_TOLERANCE_MM = 1e-6

# Keypoint statuses in the provenance (a keypoint absent from a sample's notes is ORIGINAL and visible).
ORIGINAL = "original"
CORRECTED = "corrected"
MODEL_ASSISTED = "model_assisted"
RETRIANGULATED = "retriangulated"
KEYPOINT_STATUSES: dict[str, str] = {
    ORIGINAL: "as in the skeleton the task started from (for the dataset version: the imported numbers)",
    CORRECTED: "an annotator placed this keypoint in this view by hand",
    MODEL_ASSISTED: "placed in this view from a model's suggestion (Correction.source == model)",
    RETRIANGULATED: "not placed in this view, but its 3D moved because it was corrected in other views",
}


@dataclass
class ExportPlan:
    """What an export covers: the frames in output order, the sample count, the cameras."""

    dataset: Dataset
    subjects: list[str]
    frame_ids: list[int]
    total_samples: int
    cameras: dict[int, geometry.Camera]
    #: The dataset's 2D convention (``Dataset.Convention2D``): exports write 2D in it.
    convention: str = ""
    renumber: bool = False


@dataclass
class ExportSample:
    """One view of one frame as exported."""

    index: int  # position in the export (0-based); COCO image and annotation id index + 1
    view_id: int
    sample_id: int | None  # id in the imported file
    frame_id: int
    subject: str
    action: str
    frame_index: int
    camera: geometry.Camera
    image_path: str
    bbox: tuple[int, int, int, int]  # x_min, y_min, x_max, y_max
    points_3d: np.ndarray  # (J, 3) mm, R_cam @ X_world (H3WB convention)
    points_2d: np.ndarray  # (J, 2) px
    skeleton: ResolvedSkeleton
    flags: dict[int, str] = field(default_factory=dict)  # keypoint -> occluded / unsure
    part_valid: dict[str, bool] = field(default_factory=dict)  # parts marked not annotatable are False
    #: The parts of the dataset's layout whose validity is recorded (``Layout.validity_parts``).
    validity_parts: tuple[str, ...] = keypoints.VALIDITY_PARTS
    notes: dict[int, dict] = field(default_factory=dict)  # keypoint -> provenance of a non-original keypoint
    quality: list[dict] = field(default_factory=list)
    key: int = -1  # the H3WB sample key written: the source sample id, or ``index`` when renumbered


def export_plan(*, dataset: Dataset, subjects: list[str] | None = None, renumber: bool = False) -> ExportPlan:
    """The frames (in output order) and sample count of ``dataset``, restricted to ``subjects`` when given."""
    known = list(dataset.subjects.order_by("name").values_list("name", flat=True))
    if subjects:
        unknown = [s for s in subjects if s not in known]
        if unknown:
            raise NotFoundError(
                f"dataset {dataset.name} has no subject {unknown[0]} (it has {', '.join(known) or 'none'})",
                extra={"field": "subjects", "subjects": known},
            )
    chosen = list(subjects) if subjects else known
    frames = Frame.objects.filter(sequence__subject__dataset=dataset, sequence__subject__name__in=chosen)
    frame_ids = list(
        frames.annotate(first_sample=Min("views__sample_id"))
        .order_by(F("first_sample").asc(nulls_last=True), "sequence__subject__name", "sequence__action", "index")
        .values_list("id", flat=True)
    )
    if not frame_ids:
        raise ApplicationError(f"dataset {dataset.name} has no frames for subjects {', '.join(chosen) or '-'}")
    total = View.objects.filter(frame__in=frames).count()
    cameras = {c.pk: c.as_geometry() for c in Camera.objects.filter(subject__dataset=dataset)}
    return ExportPlan(dataset, chosen, frame_ids, total, cameras, dataset.keypoints_2d_convention, renumber)


def project_2d(plan: ExportPlan, camera: geometry.Camera, X: np.ndarray) -> np.ndarray:
    """(..., J, 3) world -> (..., J, 2) px in the dataset's 2D convention (pinhole or with lens distortion)."""
    if plan.convention == Dataset.Convention2D.PINHOLE:
        return conventions.pinhole(camera, X)
    return geometry.project(camera, X)


def clicked_2d(plan: ExportPlan, camera: geometry.Camera, xy: np.ndarray) -> np.ndarray:
    """(..., 2) pixels an annotator placed on the (distorted) image -> the dataset's 2D convention."""
    if plan.convention == Dataset.Convention2D.PINHOLE:
        return geometry.undistort_points(camera, np.asarray(xy, dtype=np.float64))
    return np.asarray(xy, dtype=np.float64)


def _task_states(task_ids: set[int]) -> tuple[dict, dict, dict[int, np.ndarray]]:
    """Head corrections per (view, keypoint), latest validity per (view, part), base skeleton per task."""
    if not task_ids:
        return {}, {}, {}
    heads = Correction.objects.filter(task_id__in=task_ids, superseded_by__isnull=True).values_list(
        "view_id", "keypoint", "x", "y", "flag", "source", "author__username", "created_at"
    )
    points = {(v, k): rest for v, k, *rest in heads}
    validity: dict[tuple[int, str], bool] = {}
    rows = PartValidity.objects.filter(task_id__in=task_ids).order_by("revision")
    for view_id, part, valid in rows.values_list("view_id", "part", "valid"):
        validity[(view_id, part)] = valid
    bases = dict(Task.objects.filter(pk__in=task_ids).values_list("pk", "base_skeleton__keypoints"))
    return points, validity, bases


def _quality(skeleton_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    rows = QualityScore.objects.filter(skeleton_id__in=skeleton_ids).order_by("created_at", "pk")
    for skeleton_id, model, checkpoint, score, per_part in rows.values_list(
        "skeleton_id", "model_name", "checkpoint", "score", "per_part"
    ):
        out[skeleton_id].append({"model": model, "checkpoint": checkpoint, "score": score, "per_part": per_part})
    return out


def _view_order(row: tuple) -> tuple:
    # row: (id, frame_id, camera_id, image_path, sample_id, bbox, keypoints_2d)
    return (row[4] is None, row[4] if row[4] is not None else 0, row[2])


def iter_samples(plan: ExportPlan, spec: VersionSpec) -> Iterator[list[ExportSample]]:
    """The export's samples, one list per chunk of frames, in output order."""
    index = 0
    for lo in range(0, len(plan.frame_ids), CHUNK_FRAMES):
        chunk = plan.frame_ids[lo : lo + CHUNK_FRAMES]
        samples = _chunk_samples(plan, spec, chunk, index)
        index += len(samples)
        yield samples


def _chunk_samples(plan: ExportPlan, spec: VersionSpec, chunk: list[int], start: int) -> list[ExportSample]:
    info = {
        pk: (subject, action, frame_index)
        for pk, subject, action, frame_index in Frame.objects.filter(pk__in=chunk).values_list(
            "id", "sequence__subject__name", "sequence__action", "index"
        )
    }
    skeletons = resolve(spec, chunk, lambda f: "{} / {} / frame {}".format(*info[f]))
    views: dict[int, list[tuple]] = defaultdict(list)
    for row in View.objects.filter(frame_id__in=chunk).values_list(
        "id", "frame_id", "camera_id", "image_path", "sample_id", "bbox", "keypoints_2d"
    ):
        views[row[1]].append(row)
    rows = [row for frame_id in chunk for row in sorted(views[frame_id], key=_view_order)]

    # Project every view's skeleton, one call per camera.
    projected = np.empty((len(rows), *next(iter(skeletons.values())).keypoints.shape[:-1], 2))
    rotated = np.empty((len(rows), projected.shape[1], 3))
    by_camera: dict[int, list[int]] = defaultdict(list)
    for n, row in enumerate(rows):
        by_camera[row[2]].append(n)
    for camera_id, ns in by_camera.items():
        cam = plan.cameras[camera_id]
        X = np.stack([skeletons[rows[n][1]].keypoints for n in ns])  # (V, J, 3) world
        projected[ns] = project_2d(plan, cam, X)
        rotated[ns] = X @ cam.R.T

    task_ids = {s.task_id for s in skeletons.values() if s.task_id is not None}
    points, validity, bases = _task_states(task_ids)
    quality = _quality([s.id for s in skeletons.values()])
    out = []
    for n, (view_id, frame_id, camera_id, image_path, sample_id, bbox, kp2d) in enumerate(rows):
        skeleton = skeletons[frame_id]
        cam = plan.cameras[camera_id]
        is_dataset = skeleton.source == Skeleton3D.Source.DATASET
        xy = kp2d if (is_dataset and kp2d is not None) else projected[n]
        sample = ExportSample(
            index=start + n, view_id=view_id, sample_id=sample_id, frame_id=frame_id,
            subject=info[frame_id][0], action=info[frame_id][1], frame_index=info[frame_id][2], camera=cam,
            image_path=image_path, bbox=(0, 0, 0, 0), points_3d=rotated[n], points_2d=xy, skeleton=skeleton,
            quality=quality.get(skeleton.id, []), key=start + n if plan.renumber else sample_id,
            validity_parts=plan.dataset.layout.validity_parts,
        )  # fmt: skip
        if sample.key is None:
            raise ApplicationError(
                f"{info[frame_id][0]} / {info[frame_id][1]} / frame {info[frame_id][2]} / camera {cam.name} has no "
                "source sample id to keep: export with renumbering (--renumber) to number the samples 0, 1, ...",
                extra={"view": view_id, "field": "renumber"},
            )
        if skeleton.task_id is not None:
            _apply_task(plan, sample, points, validity, bases[skeleton.task_id], projected[n])
        if is_dataset and bbox:
            sample.bbox = tuple(int(v) for v in bbox)
        else:
            sample.bbox = h3wb_format.bbox_of(sample.points_2d, cam.size)
        out.append(sample)
    return out


def _apply_task(plan: ExportPlan, sample: ExportSample, points: dict, validity: dict, base: np.ndarray,
                projected: np.ndarray) -> None:  # fmt: skip
    """The task's 2D, flags, validity and per-keypoint provenance in this sample's view."""
    view_id = sample.view_id
    X = sample.skeleton.keypoints
    moved_mm = np.linalg.norm(X - base, axis=-1)  # (J,)
    base_2d = project_2d(plan, sample.camera, base)  # (J, 2) what the annotator started from in this view
    xy = projected.copy()
    for k in range(len(X)):
        entry = points.get((view_id, k))
        placed = entry is not None and entry[0] is not None
        if placed:
            xy[k] = clicked_2d(plan, sample.camera, entry[:2])
        if entry is not None and entry[2] != Correction.Flag.VISIBLE:
            sample.flags[k] = entry[2]
        moved = bool(np.isfinite(moved_mm[k]) and moved_mm[k] > MOVED_TOLERANCE_MM)
        if not (placed or moved or k in sample.flags):
            continue
        if placed:
            status = MODEL_ASSISTED if entry[3] == Correction.Source.MODEL else CORRECTED
        else:
            status = RETRIANGULATED if moved else ORIGINAL
        note: dict = {"status": status}
        if k in sample.flags:
            note["flag"] = sample.flags[k]
        if entry is not None:
            note["author"] = entry[4]
            note["at"] = entry[5].isoformat().replace("+00:00", "Z")
        px = float(np.linalg.norm(xy[k] - base_2d[k]))
        note["moved_px"] = round(px, 3) if np.isfinite(px) else None
        note["moved_mm"] = round(float(moved_mm[k]), 3) if np.isfinite(moved_mm[k]) else None
        sample.notes[k] = note
    sample.points_2d = xy
    for (v, part), valid in validity.items():
        if v == view_id:
            sample.part_valid[part] = valid
