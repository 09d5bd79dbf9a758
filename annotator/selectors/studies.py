"""Reads of cross-check studies: the list, one study, and its finished tasks as arrays for ``annotator.crosscheck``.

``study_data`` loads a whole study in five queries (tasks with both skeletons, their views, the
cameras, the ground truth, the items) and stacks the skeletons into arrays; the report and the
frames table are computed from those arrays with no per-keypoint Python loop.
"""

from __future__ import annotations

import numpy as np
from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from annotator import crosscheck, simulation
from annotator.exceptions import ApplicationError, NotFoundError
from annotator.models import Camera, Correction, Skeleton3D, Study, StudyItem, StudySimulation, Task, View

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


#: A gold skeleton comes from an accepted correction task that covered at least this many views: a single
#: view's drags cannot see depth along its ray (image mode), so its result is no reference for others.
GOLD_MIN_VIEWS = 2


def gold_skeletons(*, frame_ids, exclude_study: Study | None = None) -> dict[int, tuple[np.ndarray, int]]:
    """Gold frames among ``frame_ids``: frame id -> (J, 3) result of the latest accepted correction task on it
    (reviewed last) that covered at least ``GOLD_MIN_VIEWS`` views, and that task's id. A reviewer's accept is
    what makes a frame gold; tasks of ``exclude_study`` do not count (a study is not scored against itself)."""
    tasks = (
        Task.objects.filter(kind=Task.Kind.CORRECTION, status=Task.Status.ACCEPTED, frame_id__in=frame_ids)
        .annotate(n_views=Count("views"))
        .filter(n_views__gte=GOLD_MIN_VIEWS)
    )
    if exclude_study is not None:
        tasks = tasks.exclude(study=exclude_study)
    out: dict[int, tuple[np.ndarray, int]] = {}
    rows = tasks.order_by("reviewed_at", "id").values_list(
        "frame_id", "id", "result_skeleton__keypoints", "current_keypoints"
    )
    for frame_id, task_id, result, current in rows:
        out[frame_id] = (result if result is not None else current, task_id)
    return out


def study_data(*, study: Study) -> crosscheck.StudyData:
    """The study's submitted and accepted tasks as ``crosscheck.StudyData`` (tasks in id order), with what the
    instrument section needs: visibility per task view, every view of each frame (for replays), the standing
    drops, and each task's honeypot reference (ground truth, else gold from outside the study)."""
    tasks = Task.objects.filter(study=study, status__in=FINISHED, kind=Task.Kind.CORRECTION)
    rows = list(
        tasks.order_by("id").values_list(
            "id", "frame_id", "assignee__username", "status", "base_skeleton__keypoints",
            "result_skeleton__keypoints", "current_keypoints", "frame__sequence__subject__name",
            "frame__sequence__action", "frame__index",
        )
    )  # fmt: skip
    layout = study.dataset.layout
    J = layout.num_keypoints
    T = len(rows)
    index_of = {r[0]: t for t, r in enumerate(rows)}
    views = list(
        Task.views.through.objects.filter(task__in=tasks)
        .order_by("task_id", "view__camera__name")
        .values_list("task_id", "view_id", "view__camera_id", "view__bbox", "view__truth_visible")
    )
    frame_views = list(
        View.objects.filter(frame_id__in={r[1] for r in rows})
        .order_by("frame_id", "id")
        .values_list("frame_id", "camera_id")
    )
    camera_rows = Camera.objects.filter(pk__in={v[2] for v in views} | {c for _, c in frame_views}).order_by(
        "subject__name", "name"
    )
    cameras = list(camera_rows)
    camera_index = {c.pk: i for i, c in enumerate(cameras)}
    cameras_of_frame: dict[int, list[int]] = {}
    for frame_id, camera_id in frame_views:
        cameras_of_frame.setdefault(frame_id, []).append(camera_index[camera_id])
    truth_of = dict(
        Skeleton3D.objects.filter(source=Skeleton3D.Source.GROUND_TRUTH, frame_id__in=tasks.values("frame_id"))
        .order_by("frame_id", "version")
        .values_list("frame_id", "keypoints")
    )
    gold_of = gold_skeletons(frame_ids=[r[1] for r in rows if r[1] not in truth_of], exclude_study=study)
    items = {
        (frame_id, view_id): (n, honeypot)
        for n, (frame_id, view_id, honeypot) in enumerate(
            StudyItem.objects.filter(study=study).order_by("id").values_list("frame_id", "view_id", "is_honeypot")
        )
    }

    task_views: dict[int, list[int]] = {}
    for task_id, view_id, *_ in views:
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
    truth_2d = crosscheck.project_rows(
        [c.as_geometry() for c in cameras], np.asarray([camera_index[v[2]] for v in views], dtype=np.intp),
        np.asarray([index_of[v[0]] for v in views], dtype=np.intp), truth,
    ) if views else np.zeros((0, J, 2))  # fmt: skip
    reference = truth.copy()
    reference_kind = []
    for t, r in enumerate(rows):
        if r[1] in truth_of:
            reference_kind.append("ground_truth")
        elif r[1] in gold_of:
            reference[t] = gold_of[r[1]][0]
            reference_kind.append("gold")
        else:
            reference_kind.append("")
    drops = _standing_drops(tasks, {(v[0], v[1]): n for n, v in enumerate(views)})
    dropped_views = np.zeros((T, J), dtype=np.intp)
    row_task = np.asarray([index_of[v[0]] for v in views], dtype=np.intp)
    if len(drops[0]):
        np.add.at(dropped_views, (row_task[drops[0]], drops[1]), 1)
    return crosscheck.StudyData(
        base=base,
        result=result,
        truth=truth,
        item=item,
        annotator=np.asarray([names.index(r[2]) for r in rows], dtype=np.intp),
        honeypot=honeypot,
        row_task=row_task,
        row_camera=np.asarray([camera_index[v[2]] for v in views], dtype=np.intp),
        row_scale=np.asarray([simulation.view_scale(v[3], truth_2d[n]) for n, v in enumerate(views)]),
        cameras=[c.as_geometry() for c in cameras],
        camera_names=[c.name for c in cameras],
        annotator_names=names,
        task_ids=[r[0] for r in rows],
        frame_ids=[r[1] for r in rows],
        frame_labels=[f"{r[7]} · {r[8]} · {r[9]}" for r in rows],
        statuses=[r[3] for r in rows],
        row_visible=np.stack([v[4] if v[4] is not None else np.full(J, np.nan) for v in views])
        if views else np.zeros((0, J)),
        frame_cameras=[tuple(cameras_of_frame.get(r[1], ())) for r in rows],
        sim_keys=np.asarray([simulation.simulation_key(f"{r[7]}/{r[8]}/{r[9]}", r[2]) for r in rows], dtype=np.int64),
        reference=reference,
        reference_kind=reference_kind,
        dropped_views=dropped_views,
        drop_row=drops[0],
        drop_keypoint=drops[1],
        drop_xy=drops[2],
        layout=layout,
    )  # fmt: skip


def _standing_drops(tasks, row_of: dict[tuple[int, int], int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The drops that stand in the tasks' views (the head of each keypoint's chain, a position, not a reset):
    (K,) row index (``row_of[(task, view)]``) and keypoint, and (K, 2) px."""
    heads = Correction.objects.filter(task__in=tasks, superseded_by__isnull=True, x__isnull=False).values_list(
        "task_id", "view_id", "keypoint", "x", "y"
    )
    found = [(row_of[(t, v)], k, x, y) for t, v, k, x, y in heads.iterator(chunk_size=5000) if (t, v) in row_of]
    if not found:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), np.zeros((0, 2))
    arr = np.asarray(found, dtype=np.float64)
    return arr[:, 0].astype(np.intp), arr[:, 1].astype(np.intp), arr[:, 2:4]


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


def _sensitivity_params(study: Study, runs: list[StudySimulation]) -> tuple[int, dict | None]:
    """The seed the sensitivity replay draws its noise with, and the study's own perceiving parameters: with the
    seed of the study's one perceiving run, the replay at its parameters reproduces the study (a study done by
    people, or in several runs, gets seed 0)."""
    perceiving = [r for r in runs if r.annotator == StudySimulation.Annotator.PERCEIVING]
    seed = perceiving[0].seed if len(perceiving) == 1 and len(runs) == 1 else 0
    at = {k: perceiving[0].params[k] for k in ("threshold_px", "noise_scale")} if len(perceiving) == 1 else None
    return seed, at


def study_sensitivity(*, study: Study) -> dict | None:
    """The study's sensitivity table alone (``instrument.sensitivity_table``): 25 replays, so the page asks for it
    apart from the report."""
    from annotator import instrument

    seed, at = _sensitivity_params(study, list(study.simulations.order_by("id")))
    return instrument.sensitivity_table(study_data(study=study), seed=seed, at=at)


def study_report(*, study: Study, sensitivity: bool = True) -> dict:
    """The study's cross-check report (``crosscheck.study_report``) with the study's summary under ``study``, and
    under ``fbi`` the FBI agreement on the study's frames (``selectors.fbi.fbi_agreement``; None without answers)."""
    from annotator.selectors.fbi import fbi_agreement_for_study

    runs = list(study.simulations.order_by("id"))
    seed, at = _sensitivity_params(study, runs)
    report = crosscheck.study_report(
        study_data(study=study), mode=study.mode, simulations=[simulation_dict(r) for r in runs],
        sensitivity=sensitivity, sensitivity_seed=seed, sensitivity_at=at,
    )  # fmt: skip
    report["study"] = study_summary(study=study)
    report["fbi"] = fbi_agreement_for_study(study=study)
    return report


def simulation_dict(run: StudySimulation) -> dict:
    """A recorded simulated-annotator run as plain data."""
    return {
        "id": run.pk,
        "annotator": run.annotator,
        "label": run.get_annotator_display(),
        "params": run.params,
        "seed": run.seed,
        "counts": run.counts,
        "created_at": run.created_at.isoformat().replace("+00:00", "Z"),
    }


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
    parts = data.layout.metric_parts
    if part not in parts:
        raise ApplicationError(f"part {part!r} is not a part of the {data.layout.title} layout of this study's "
                               f"dataset; use one of {', '.join(parts)}", extra={"field": "part"})  # fmt: skip
    if keypoint is not None and not 0 <= keypoint < data.layout.num_keypoints:
        raise ApplicationError(f"keypoint {keypoint} is not in the {data.layout.title} layout (0 to "
                               f"{data.layout.num_keypoints - 1})", extra={"field": "keypoint"})  # fmt: skip
    rows = crosscheck.frame_rows(
        data, crosscheck.compute_errors(data), sort=sort, part=part, camera=camera, annotator=annotator,
        keypoint=keypoint,
    )  # fmt: skip
    for row in rows:
        row["review_url"] = reverse("frontend:review-task", kwargs={"task_id": row["task"]})
    return {"count": len(rows), "rows": rows[offset : offset + limit]}


#: What the study form says of each mode: frame mode is the unbiased design (``instrument.design_bias``).
MODE_NOTES = {
    Study.Mode.FRAME: "unbiased: every view of an instant is corrected, so no direction is hidden from the "
    "re-triangulation",
    Study.Mode.IMAGE: "H3WB's design: one view per task, blind to error along that camera's ray (measures depth "
    "errors short)",
}


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
        "modes": [{"value": v, "label": label, "note": MODE_NOTES[v]} for v, label in Study.Mode.choices],
    }
