"""Automatic FBI labels from 3D: a chunked, resumable job that labels every bone of every skeleton version in
every view of a dataset, and stores one ``FBIAutoLabels`` row per (skeleton, view, bone subset).

The ``fbi_labels`` job kind's spec (``services.job_kinds``): ``fbi_label_job_start`` creates (or finds, to
resume) a ``Job`` whose chunks are lists of frame ids; ``fbi_label_chunk_run`` labels one claimed chunk: its
skeletons are stacked per subject (one calibrated rig, one ``fbi.skeleton_labels`` call for all of them in all
the rig's cameras) and the generic runner upserts the rows with the chunk's completion in one transaction, so a
rerun skips finished chunks and a retried chunk overwrites its own rows.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from annotator import fbi, keypoints
from annotator.exceptions import ApplicationError
from annotator.models import Camera, Dataset, FBIAutoLabels, Job, JobChunk, Skeleton3D, View
from annotator.services.jobs import job_create, job_find_same, job_resume

FBI_JOB_KIND = Job.Kind.FBI_LABELS
#: Frames per chunk: a chunk's skeletons, views and rows are held in memory at once.
DEFAULT_CHUNK_FRAMES = 256
#: ``--source all``: every kind of skeleton version.
ALL_SOURCES = "all"
SOURCE_CHOICES = (*Skeleton3D.Source.values, ALL_SOURCES)


def _sources(source: str) -> list[str]:
    if source not in SOURCE_CHOICES:
        raise ApplicationError(f"source must be one of {', '.join(SOURCE_CHOICES)}, got {source!r}",
                               extra={"field": "source"})  # fmt: skip
    return list(Skeleton3D.Source.values) if source == ALL_SOURCES else [source]


def fbi_label_job_start(
    *,
    dataset: Dataset,
    source: str = ALL_SOURCES,
    bones: str = "",
    unknown_tilt_deg: float = fbi.DEFAULT_UNKNOWN_TILT_DEG,
    chunk_frames: int = DEFAULT_CHUNK_FRAMES,
    created_by=None,
) -> tuple[Job, bool]:
    """The labelling job of ``dataset``'s ``source`` skeletons: the latest one over the same skeletons with the
    same settings (resumed: finished chunks stay finished) or a new one. Returns (job, resumed). ``bones`` is a
    bone subset of the dataset's layout ("": its default). Bad settings and a dataset without such skeletons fail
    before any write."""
    sources = _sources(source)
    try:
        bones = keypoints.bone_subset_check(dataset.layout, bones)
    except keypoints.LayoutError as exc:
        raise ApplicationError(str(exc), extra={"field": "bones"}) from None
    if not 0 <= unknown_tilt_deg < 90:
        raise ApplicationError(f"the unknown tilt must be from 0 to 90 degrees (exclusive), got {unknown_tilt_deg}",
                               extra={"field": "unknown_tilt_deg"})  # fmt: skip
    if chunk_frames < 1:
        raise ApplicationError(f"chunk size must be at least 1 frame, got {chunk_frames}")
    skeletons = Skeleton3D.objects.filter(frame__sequence__subject__dataset=dataset, source__in=sources)
    skeleton_ids = sorted(skeletons.values_list("id", flat=True))
    if not skeleton_ids:
        raise ApplicationError(f"dataset {dataset.name} has no {source} skeletons to label", extra={"field": "source"})
    frame_ids = sorted(set(skeletons.values_list("frame_id", flat=True)))
    params = {"source": source, "bones": bones, "unknown_tilt_deg": float(unknown_tilt_deg),
              "chunk_frames": chunk_frames, "skeletons": len(skeleton_ids),
              "skeletons_hash": hashlib.sha256(json.dumps(skeleton_ids).encode()).hexdigest()[:16]}  # fmt: skip
    job = job_find_same(kind=FBI_JOB_KIND, dataset=dataset, params=params)
    if job is not None:
        return job_resume(job=job), True
    payloads = [{"frame_ids": frame_ids[i : i + chunk_frames]} for i in range(0, len(frame_ids), chunk_frames)]
    job = job_create(kind=FBI_JOB_KIND, dataset=dataset, params=params, payloads=payloads, created_by=created_by)
    return job, False


def fbi_labels_compute(
    *,
    frame_ids: list[int],
    sources: list[str],
    bones: str,
    unknown_tilt_deg: float,
    layout: keypoints.Layout = keypoints.DEFAULT_LAYOUT,
) -> list[FBIAutoLabels]:
    """Unsaved ``FBIAutoLabels`` of every ``sources`` skeleton of the frames in each of its frame's views, for the
    ``bones`` subset of ``layout`` (the frames' dataset's).

    Vectorised per subject: all its skeletons x all its cameras in one ``fbi.skeleton_labels`` call.
    """
    bone_pairs = layout.bones(bones)
    skeletons = list(
        Skeleton3D.objects.filter(frame_id__in=frame_ids, source__in=sources)
        .order_by("id").values_list("id", "frame_id", "keypoints", "frame__sequence__subject_id")
    )  # fmt: skip
    views_of: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for view_id, frame_id, camera_id in View.objects.filter(frame_id__in=frame_ids).values_list(
        "id", "frame_id", "camera_id"
    ):
        views_of[frame_id].append((view_id, camera_id))
    by_subject: dict[int, list[tuple]] = defaultdict(list)
    for row in skeletons:
        by_subject[row[3]].append(row)
    rows = []
    for subject_id, group in by_subject.items():
        cameras = list(Camera.objects.filter(subject_id=subject_id).order_by("id").values_list("id", "R", "t"))
        if not cameras:
            continue
        column = {camera_id: c for c, (camera_id, _, _) in enumerate(cameras)}
        R = np.asarray([c[1] for c in cameras], dtype=np.float64)  # (C, 3, 3)
        t = np.asarray([c[2] for c in cameras], dtype=np.float64).reshape(len(cameras), 3)
        X = np.stack([row[2] for row in group])  # (N, J, 3)
        labels, tilt = fbi.skeleton_labels(X, R, t, bone_pairs, unknown_tilt_deg)  # (N, C, B) each
        tilt = tilt.astype(np.float32)
        for n, (skeleton_id, frame_id, _, _) in enumerate(group):
            for view_id, camera_id in views_of.get(frame_id, []):
                c = column[camera_id]
                rows.append(FBIAutoLabels(skeleton_id=skeleton_id, view_id=view_id, bones_subset=bones,
                                          labels=labels[n, c], tilt=tilt[n, c],
                                          unknown_tilt_deg=unknown_tilt_deg))  # fmt: skip
    return rows


def fbi_labels_write(*, rows: list[FBIAutoLabels]) -> int:
    """Insert or replace (same skeleton, view and subset) the rows; returns how many were written."""
    FBIAutoLabels.objects.bulk_create(
        rows,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["skeleton", "view", "bones_subset"],
        update_fields=["labels", "tilt", "unknown_tilt_deg", "created_at"],
    )
    return len(rows)


def fbi_label_chunk_run(*, job: Job, chunk: JobChunk) -> tuple[dict, Callable[[], int]]:
    """Label one claimed chunk: (its result, the write of its rows)."""
    p = job.params
    rows = fbi_labels_compute(frame_ids=chunk.payload["frame_ids"], sources=_sources(p["source"]),
                              bones=p["bones"], unknown_tilt_deg=p["unknown_tilt_deg"],
                              layout=job.dataset.layout)  # fmt: skip
    labels = np.concatenate([r.labels for r in rows]) if rows else np.zeros(0, dtype=np.int8)
    result = {"skeleton_views": len(rows), **{name: int((labels == value).sum()) for value, name in
                                               ((fbi.FORWARD, "forward"), (fbi.BACKWARD, "backward"),
                                                (fbi.UNKNOWN, "unknown"))}}  # fmt: skip
    return result, lambda: fbi_labels_write(rows=rows)
