"""Writing new skeleton versions computed from a frame's data (multi-view lifting for now)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from django.db.models import Max
from tqdm import tqdm

from annotator import geometry, lifting, metrics
from annotator.exceptions import ApplicationError
from annotator.models import Dataset, Detection2D, Frame, Skeleton3D

#: Frames lifted per triangulation call: large enough to vectorise, small enough to keep memory low.
LIFT_BATCH_FRAMES = 256


@dataclass
class LiftReport:
    dataset: str
    frames: int = 0
    created: int = 0
    skipped_existing: int = 0
    complete: int = 0
    all_seen: int = 0
    lifted_fraction: float = 0.0
    error_vs_ground_truth: dict | None = None
    error_vs_dataset: dict | None = None
    subjects: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"dataset {self.dataset}: lifted {self.frames} frames from multi-view detections "
            f"({self.created} new triangulated skeletons, {self.skipped_existing} frames already had one)",
            f"complete in all keypoints: {self.complete} of {self.frames}; every keypoint seen in at least one "
            f"view: {self.all_seen} of {self.frames}; keypoints lifted: {100 * self.lifted_fraction:.1f}%",
        ]
        for label, table in (("ground truth", self.error_vs_ground_truth), ("dataset", self.error_vs_dataset)):
            if table:
                parts = ", ".join(f"{part} {row['mean']:.1f}" for part, row in table.items() if row["mean"] is not None)
                lines.append(f"mean 3D error vs {label} (mm, lifted keypoints): {parts}")
        return "\n".join(lines)


def skeletons_lift_multiview(
    *,
    dataset: Dataset,
    detector: str | None = None,
    min_score: float = lifting.DEFAULT_MIN_SCORE,
    threshold_px: float = geometry.DEFAULT_THRESHOLD_PX,
    redo: bool = False,
    progress: bool = False,
) -> LiftReport:
    """Lift every frame of ``dataset`` with detections into a ``triangulated`` skeleton version.

    Frames that already have a triangulated version are skipped unless ``redo`` (which appends a
    new version; nothing is replaced). Statistics cover every frame with detections.
    """
    if not 0 <= min_score <= 1:
        raise ApplicationError(f"min_score must be within [0, 1], got {min_score}")
    detections = Detection2D.objects.filter(view__frame__sequence__subject__dataset=dataset)
    if detector:
        detections = detections.filter(detector=detector)
    detectors = sorted(set(detections.values_list("detector", flat=True)))
    if not detectors:
        raise ApplicationError(f"dataset {dataset.name} has no 2D detections to lift" +
                               (f" from detector {detector!r}" if detector else ""))  # fmt: skip
    if len(detectors) > 1:
        raise ApplicationError(f"dataset {dataset.name} has detections from {', '.join(detectors)}; choose one")
    rows = detections.values_list("view__frame_id", "view__camera__name", "keypoints_2d", "scores")
    per_frame: dict[int, dict[str, tuple[np.ndarray, np.ndarray]]] = defaultdict(dict)
    for frame_id, camera, points, scores in rows.iterator(chunk_size=2000):
        per_frame[frame_id][camera] = (points, scores)

    frames = Frame.objects.filter(pk__in=per_frame).select_related("sequence__subject")
    by_subject: dict[int, list[Frame]] = defaultdict(list)
    for frame in frames:
        by_subject[frame.sequence.subject_id].append(frame)
    existing = set(
        Skeleton3D.objects.filter(frame__in=per_frame, source=Skeleton3D.Source.TRIANGULATED).values_list(
            "frame_id", flat=True
        )
    )
    references = _latest(per_frame, (Skeleton3D.Source.GROUND_TRUTH, Skeleton3D.Source.DATASET))
    report = LiftReport(dataset=dataset.name)
    lifted_all, scores_all, frame_ids = [], [], []
    bar = tqdm(total=len(per_frame), desc="lifting frames", disable=not progress)
    for subject_frames in by_subject.values():
        subject = subject_frames[0].sequence.subject
        report.subjects.append(subject.name)
        cameras = {c.name: c.as_geometry() for c in subject.cameras.all()}
        names = sorted(cameras)
        for start in range(0, len(subject_frames), LIFT_BATCH_FRAMES):
            batch = subject_frames[start : start + LIFT_BATCH_FRAMES]
            points, scores = _stack(batch, per_frame, names)
            X, _ = lifting.lift_multiview([cameras[n] for n in names], points, scores, min_score=min_score,
                                          threshold_px=threshold_px, layout=dataset.layout)  # fmt: skip
            lifted_all.append(X)
            scores_all.append(scores)
            frame_ids += [f.pk for f in batch]
            bar.update(len(batch))
    bar.close()
    X = np.concatenate(lifted_all)
    scores = np.concatenate(scores_all)
    stats = lifting.lift_statistics(X, scores, min_score=min_score)
    report.frames, report.complete, report.all_seen = stats["frames"], stats["complete"], stats["all_seen"]
    report.lifted_fraction = stats["lifted_fraction"]
    for source, attr in ((Skeleton3D.Source.GROUND_TRUTH, "error_vs_ground_truth"),
                         (Skeleton3D.Source.DATASET, "error_vs_dataset")):  # fmt: skip
        rows = [n for n, fid in enumerate(frame_ids) if (fid, source) in references]
        if rows:
            ref = np.stack([references[(frame_ids[n], source)] for n in rows])
            summary = metrics.part_summary(metrics.keypoint_errors_3d(X[rows], ref), dataset.layout)
            setattr(report, attr, summary)

    versions = dict(
        Skeleton3D.objects.filter(frame_id__in=frame_ids).values("frame_id").annotate(v=Max("version"))
        .values_list("frame_id", "v")
    )  # fmt: skip
    new = []
    for n, frame_id in enumerate(frame_ids):
        if frame_id in existing and not redo:
            report.skipped_existing += 1
            continue
        new.append(Skeleton3D(frame_id=frame_id, version=versions.get(frame_id, 0) + 1,
                              source=Skeleton3D.Source.TRIANGULATED, keypoints=X[n],
                              note=f"lift_multiview from {detectors[0]}, min score {min_score}"))  # fmt: skip
    with transaction.atomic():
        Skeleton3D.objects.bulk_create(new, batch_size=1000)
    report.created = len(new)
    return report


def _stack(frames: list[Frame], per_frame: dict, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(F, V, J, 2) points and (F, V, J) scores; a camera without detections counts as all missed."""
    first = next(iter(per_frame[frames[0].pk].values()))
    J = first[0].shape[0]
    points = np.full((len(frames), len(names), J, 2), np.nan)
    scores = np.zeros((len(frames), len(names), J))
    for f, frame in enumerate(frames):
        for v, name in enumerate(names):
            if name in per_frame[frame.pk]:
                points[f, v], scores[f, v] = per_frame[frame.pk][name]
    return points, scores


def _latest(frame_ids, sources) -> dict[tuple[int, str], np.ndarray]:
    latest: dict[tuple[int, str], np.ndarray] = {}
    rows = Skeleton3D.objects.filter(frame_id__in=frame_ids, source__in=sources).order_by("version")
    for frame_id, source, points in rows.values_list("frame_id", "source", "keypoints").iterator(chunk_size=1000):
        latest[(frame_id, source)] = points
    return latest
