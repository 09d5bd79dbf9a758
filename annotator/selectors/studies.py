"""Reads of cross-check studies: the list, one study, and its finished tasks as arrays for ``annotator.crosscheck``.

``study_data`` loads a whole study in five queries (tasks with both skeletons, their views, the
cameras, the ground truth, the items) and stacks the skeletons into arrays; the report and the
frames table are computed from those arrays with no per-keypoint Python loop.
"""

from __future__ import annotations

import math

import numpy as np
from django.db.models import Count, Q, QuerySet

from annotator import crosscheck, keypoints
from annotator.exceptions import NotFoundError
from annotator.models import Camera, Skeleton3D, Study, StudyItem, Task

#: Tasks whose corrections count in a report: handed in, and not sent back.
FINISHED = (Task.Status.SUBMITTED, Task.Status.ACCEPTED)


def study_list() -> QuerySet[Study]:
    """Studies, newest first, with ``n_tasks``, ``n_finished`` and ``n_accepted`` task counts."""
    return (
        Study.objects.select_related("dataset", "created_by")
        .prefetch_related("annotators")
        .annotate(
            n_tasks=Count("tasks", distinct=True),
            n_finished=Count("tasks", filter=Q(tasks__status__in=FINISHED), distinct=True),
            n_accepted=Count("tasks", filter=Q(tasks__status=Task.Status.ACCEPTED), distinct=True),
        )
    )


def study_get(*, study_id: int) -> Study:
    try:
        return study_list().get(pk=study_id)
    except Study.DoesNotExist:
        raise NotFoundError(f"no study {study_id}") from None


def _scale(bbox) -> float:
    """Object scale of a view: sqrt of its box area, px (NaN without a box)."""
    if not bbox or len(bbox) != 4:
        return math.nan
    w, h = bbox[2] - bbox[0], bbox[3] - bbox[1]
    return math.sqrt(w * h) if w > 0 and h > 0 else math.nan


def study_data(*, study: Study) -> crosscheck.StudyData:
    """The study's submitted and accepted tasks as ``crosscheck.StudyData`` (tasks in id order)."""
    tasks = Task.objects.filter(study=study, status__in=FINISHED, kind=Task.Kind.CORRECTION)
    rows = list(
        tasks.order_by("id").values_list(
            "id", "frame_id", "assignee__username", "status", "base_skeleton__keypoints",
            "result_skeleton__keypoints", "current_keypoints", "frame__sequence__subject__name",
            "frame__sequence__action", "frame__index",
        )
    )  # fmt: skip
    J = keypoints.NUM_KEYPOINTS
    T = len(rows)
    index_of = {r[0]: t for t, r in enumerate(rows)}
    views = list(
        Task.views.through.objects.filter(task__in=tasks)
        .order_by("task_id", "view__camera__name")
        .values_list("task_id", "view_id", "view__camera_id", "view__bbox")
    )
    camera_rows = Camera.objects.filter(pk__in={v[2] for v in views}).order_by("subject__name", "name")
    cameras = list(camera_rows)
    camera_index = {c.pk: i for i, c in enumerate(cameras)}
    truth_of = dict(
        Skeleton3D.objects.filter(source=Skeleton3D.Source.GROUND_TRUTH, frame_id__in=tasks.values("frame_id"))
        .order_by("frame_id", "version")
        .values_list("frame_id", "keypoints")
    )
    items = {
        (frame_id, view_id): (n, honeypot)
        for n, (frame_id, view_id, honeypot) in enumerate(
            StudyItem.objects.filter(study=study).order_by("id").values_list("frame_id", "view_id", "is_honeypot")
        )
    }

    task_views: dict[int, list[int]] = {}
    for task_id, view_id, _, _ in views:
        task_views.setdefault(task_id, []).append(view_id)
    nan_skeleton = np.full((J, 3), np.nan)
    base = np.stack([r[4] for r in rows]) if T else np.zeros((0, J, 3))
    result = np.stack([r[5] if r[5] is not None else r[6] for r in rows]) if T else np.zeros((0, J, 3))
    truth = np.stack([truth_of.get(r[1], nan_skeleton) for r in rows]) if T else np.zeros((0, J, 3))
    item = np.zeros(T, dtype=np.intp)
    honeypot = np.zeros(T, dtype=bool)
    extra = len(items)
    for t, r in enumerate(rows):
        own = task_views.get(r[0], [])
        key = (r[1], own[0]) if study.mode == Study.Mode.IMAGE and len(own) == 1 else (r[1], None)
        found = items.get(key)
        if found is None:  # not one of the sampled items (a task added by hand): an item of its own
            item[t], extra = extra, extra + 1
        else:
            item[t], honeypot[t] = found
    names = sorted({r[2] for r in rows})
    return crosscheck.StudyData(
        base=base,
        result=result,
        truth=truth,
        item=item,
        annotator=np.asarray([names.index(r[2]) for r in rows], dtype=np.intp),
        honeypot=honeypot,
        row_task=np.asarray([index_of[v[0]] for v in views], dtype=np.intp),
        row_camera=np.asarray([camera_index[v[2]] for v in views], dtype=np.intp),
        row_scale=np.asarray([_scale(v[3]) for v in views], dtype=np.float64),
        cameras=[c.as_geometry() for c in cameras],
        camera_names=[c.name for c in cameras],
        annotator_names=names,
        task_ids=[r[0] for r in rows],
        frame_ids=[r[1] for r in rows],
        frame_labels=[f"{r[7]} · {r[8]} · {r[9]}" for r in rows],
        statuses=[r[3] for r in rows],
    )


def study_summary(*, study: Study) -> dict:
    """What a study is: its parameters and progress, as plain data."""
    counts = dict(Task.objects.filter(study=study).values_list("status").annotate(n=Count("id")))
    return {
        "id": study.pk,
        "name": study.name,
        "dataset": study.dataset.name,
        "subjects": study.subjects,
        "mode": study.mode,
        "n_items": study.n_items,
        "n_honeypots": study.n_honeypots,
        "seed": study.seed,
        "per_item": study.per_item,
        "annotators": sorted(u.username for u in study.annotators.all()),
        "created_by": study.created_by.username if study.created_by else None,
        "created_at": study.created_at.isoformat().replace("+00:00", "Z"),
        "tasks_by_status": {s: counts.get(s, 0) for s in Task.Status.values},
    }


def study_report(*, study: Study) -> dict:
    """The study's cross-check report (``crosscheck.study_report``) with the study's summary under ``study``, and
    under ``fbi`` the FBI agreement on the study's frames (``selectors.fbi.fbi_agreement``; None without answers)."""
    from annotator.selectors.fbi import fbi_agreement_for_study

    report = crosscheck.study_report(study_data(study=study), mode=study.mode)
    report["study"] = study_summary(study=study)
    report["fbi"] = fbi_agreement_for_study(study=study)
    return report


def study_frames(
    *,
    study: Study,
    sort: str = "worst",
    part: str = "all",
    camera: str | None = None,
    annotator: str | None = None,
    keypoint: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict:
    """The frames table of a study: ``{"count", "rows"}``, rows filtered and sorted by ``crosscheck.frame_rows``."""
    data = study_data(study=study)
    rows = crosscheck.frame_rows(
        data, crosscheck.compute_errors(data), sort=sort, part=part, camera=camera, annotator=annotator,
        keypoint=keypoint,
    )  # fmt: skip
    for row in rows:
        row["review_url"] = f"/review/tasks/{row['task']}/"
    return {"count": len(rows), "rows": rows[offset : offset + limit]}


def study_form_options() -> dict:
    """What the study form offers: datasets with their subjects and frame/view counts, and the annotators."""
    from django.contrib.auth import get_user_model

    from annotator import roles
    from annotator.models import Dataset

    datasets = []
    for ds in Dataset.objects.prefetch_related("subjects").annotate(
        n_frames=Count("subjects__sequences__frames", distinct=True),
        n_views=Count("subjects__sequences__frames__views", distinct=True),
    ):
        datasets.append(
            {"name": ds.name, "subjects": [s.name for s in ds.subjects.all()], "n_frames": ds.n_frames,
             "n_views": ds.n_views}
        )  # fmt: skip
    users = get_user_model().objects.filter(is_active=True, groups__name=roles.GROUPS[roles.ANNOTATOR])
    return {
        "datasets": datasets,
        "annotators": sorted(set(users.values_list("username", flat=True))),
        "modes": [{"value": v, "label": label} for v, label in Study.Mode.choices],
    }
