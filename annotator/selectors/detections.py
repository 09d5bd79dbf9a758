"""Reads for the 2D detection job: which views of a dataset to run a detector on, with their images and boxes.

A view's person box, when asked for, is the bounding box of a skeleton version projected into the view
(for example the dataset's own skeleton): the detector then looks at that person only. The image path is
resolved under the dataset's image root, but whether the file can be read is the worker's business: a
missing or broken image is reported per view, never a reason to stop the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from annotator import geometry
from annotator.exceptions import ApplicationError, NotFoundError
from annotator.models import Dataset, Detection2D, Job, JobChunk, Skeleton3D, View
from annotator.selectors.quality import latest_skeletons
from annotator.selectors.tasks import view_image_file

#: Kind of the chunked detection jobs (``ml_services.detection_tasks`` creates them).
DETECTION_JOB_KIND = Job.Kind.DETECT_2D
#: The detector name the pretrained model's detections are stored under (``ml_services.pretrained.MODEL_NAME``;
#: a test keeps the two equal, as this module may not import the ML package).
PRETRAINED_DETECTOR = "mediapipe-0.10.14"


@dataclass(frozen=True)
class DetectionItem:
    """One view to detect in: its image (None with ``problem`` when it cannot be had) and optional person box."""

    view_id: int
    label: str
    image_path: Path | None
    problem: str
    box: tuple[float, float, float, float] | None


def detection_view_ids(*, dataset: Dataset) -> list[int]:
    """Ids of every view of ``dataset`` that has an image path, in a stable order."""
    if not dataset.image_root:
        raise ApplicationError(f"dataset {dataset.name} has no images; 2D detection needs them")
    ids = list(
        View.objects.filter(frame__sequence__subject__dataset=dataset)
        .exclude(image_path="")
        .order_by("frame_id", "camera__name")
        .values_list("pk", flat=True)
    )
    if not ids:
        raise ApplicationError(f"dataset {dataset.name} has no views with images")
    return ids


def _box(points: np.ndarray) -> tuple[float, float, float, float] | None:
    finite = points[np.isfinite(points).all(axis=1)]
    if len(finite) < 2:
        return None
    (x0, y0), (x1, y1) = finite.min(axis=0), finite.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def detection_items(*, view_ids: list[int], box_from: str | None = None) -> list[DetectionItem]:
    """The views ``view_ids`` (in that order) with their images and, with ``box_from`` (a skeleton source), the
    box of that source's newest skeleton projected into each view. A view whose image cannot be had, or whose
    frame has no such skeleton or one that projects off the image, carries the ``problem`` instead."""
    views = {
        v.pk: v
        for v in View.objects.filter(pk__in=view_ids).select_related("camera", "frame__sequence__subject__dataset")
    }
    skeletons: dict[int, np.ndarray] = {}
    if box_from is not None and views:
        dataset = next(iter(views.values())).frame.sequence.subject.dataset
        frames = {v.frame_id for v in views.values()}
        for s in latest_skeletons(dataset=dataset, source=box_from).filter(frame_id__in=frames):
            skeletons[s.frame_id] = s.keypoints
    out = []
    for pk in view_ids:
        view = views.get(pk)
        if view is None:
            out.append(DetectionItem(pk, f"view {pk}", None, f"view {pk} no longer exists", None))
            continue
        frame = view.frame
        label = f"view {pk} ({frame.sequence.subject.name} {frame.sequence.action} frame {frame.index}, camera " \
                f"{view.camera.name})"  # fmt: skip
        try:
            path, problem = view_image_file(view=view), ""
        except NotFoundError as exc:
            path, problem = None, exc.message
        box = None
        if box_from is not None and not problem:
            if view.frame_id not in skeletons:
                problem = f"the frame has no {box_from} skeleton to take a person box from"
            else:
                cam = view.camera.as_geometry()
                box = _box(geometry.project(cam, skeletons[view.frame_id]))
                if box is None or box[2] < -0.5 or box[3] < -0.5 or box[0] > cam.width - 0.5 or \
                        box[1] > cam.height - 0.5:  # fmt: skip
                    problem = f"the {box_from} skeleton lies outside the image: no person box"
        out.append(DetectionItem(pk, label, path, problem, box))
    return out


def detection_job_report(*, job: Job) -> dict:
    """What a detection job did so far: views detected, parts found, and every skipped view with its reason."""
    totals: dict[str, int] = {"views": 0, "detected": 0, "skipped": 0}
    found: dict[str, int] = {}
    skipped: list[dict] = []
    for result in job.chunks.filter(status=JobChunk.Status.DONE).order_by("index").values_list("result", flat=True):
        result = result or {}
        for key in totals:
            totals[key] += int(result.get(key, 0))
        for part, n in (result.get("found") or {}).items():
            found[part] = found.get(part, 0) + int(n)
        skipped += result.get("skipped_views") or []
    return {**totals, "found": found, "skipped_views": skipped, "detector": job.params.get("detector")}


def detections_of(*, dataset: Dataset, detector: str) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """view id -> ((J, 2) points, (J,) scores) of ``detector`` on ``dataset``'s views."""
    rows = Detection2D.objects.filter(view__frame__sequence__subject__dataset=dataset, detector=detector)
    return {view_id: (points, scores) for view_id, points, scores in
            rows.values_list("view_id", "keypoints_2d", "scores").iterator(chunk_size=1000)}  # fmt: skip


#: Skeleton sources a person box can be projected from.
BOX_SOURCES: tuple[str, ...] = tuple(Skeleton3D.Source.values)
