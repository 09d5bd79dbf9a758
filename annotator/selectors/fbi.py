"""Reads of FBI (forward/backward bone labels): the labeller's payload, FBI tasks, labelling jobs, and the
agreement analysis of people's answers against the labels the dataset, corrected and true skeletons imply.

The analysis gathers the answers and the skeletons they are judged against (``fbi_answer_data``) and leaves the
figures to ``annotator.fbi.agreement_report``, which recomputes the skeletons' labels for exactly the answered
(skeleton, view, bone) triples with ``annotator.fbi.skeleton_labels`` (vectorised; microseconds per
skeleton-view) rather than reading ``FBIAutoLabels``: it compares one threshold across skeleton versions that
may not have been labelled yet, and needs only the bones people were asked about.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from django.urls import reverse
from django.utils.http import urlencode

from annotator import access, fbi, geometry, keypoints
from annotator.models import Camera, Dataset, FBIAnswer, Skeleton3D, Study, Task
from annotator.selectors.tasks import _points_json, task_frame_dict, task_lock_state

#: Tasks whose answers count in the analysis: handed in, and not sent back.
FINISHED = (Task.Status.SUBMITTED, Task.Status.ACCEPTED)
VALUE_OF_LABEL = {"forward": fbi.FORWARD, "backward": fbi.BACKWARD, "unknown": fbi.UNKNOWN, "skipped": fbi.SKIPPED}


def fbi_task_layout(task: Task) -> keypoints.Layout:
    """The keypoint layout of an FBI task's dataset (its bones are that layout's)."""
    return Dataset.objects.only("layout_version").get(subjects__sequences__frames=task.frame_id).layout


def fbi_task_bones(task: Task, layout: keypoints.Layout | None = None) -> np.ndarray:
    """(B, 2) the (parent, child) bones an FBI task asks about: its subset (else the layout's default) of its
    dataset's layout (``layout``, when the caller has it), in ``Layout.bones`` order."""
    layout = layout or fbi_task_layout(task)
    return layout.bones(task.bones or layout.default_bone_subset)


def fbi_answers_latest(*, task: Task) -> list[dict]:
    """The current answer of each (view, bone) of the task (its latest row), oldest first."""
    latest: dict[tuple[int, int, int], dict] = {}
    for view, parent, child, label, seconds in (
        FBIAnswer.objects.filter(task=task).order_by("id").values_list("view_id", "parent", "child", "label", "seconds")
    ):
        latest[(view, parent, child)] = {"view": view, "parent": parent, "child": child, "label": label,
                                         "seconds": seconds}  # fmt: skip
    return list(latest.values())


def fbi_seconds_per_view(*, task: Task) -> dict[int, float]:
    """Seconds spent on each view of the task: the sum of the times of all its answers (changed ones too)."""
    totals: dict[int, float] = defaultdict(float)
    for view, seconds in FBIAnswer.objects.filter(task=task).values_list("view_id", "seconds"):
        totals[view] += seconds
    return dict(totals)


def fbi_task_payload(*, task: Task, user) -> dict:
    """Everything the FBI labeller draws: the bones asked, each view's image and projected 2D skeleton, the answers."""
    task = (
        Task.objects.select_related("frame__sequence__subject__dataset", "assignee", "base_skeleton")
        .prefetch_related("views__camera")
        .get(pk=task.pk)
    )
    layout_value = task.frame.sequence.subject.dataset.layout
    bones = fbi_task_bones(task, layout_value)
    views = []
    for view in sorted(task.views.all(), key=lambda v: v.camera.name):
        cam = view.camera.as_geometry()
        views.append({"id": view.pk, "camera": view.camera.name, "image_url": view.image_url,
                      "width": cam.width, "height": cam.height,
                      "points": _points_json(geometry.project(cam, task.base_skeleton.keypoints))})  # fmt: skip
    seconds = fbi_seconds_per_view(task=task)
    layout = layout_value.to_json()
    return {
        "id": task.pk,
        "kind": task.kind,
        "status": task.status,
        "revision": task.revision,
        "assignee": task.assignee.username,
        "review_comment": task.review_comment,
        "can_edit": access.task_editable_by(user=user, task=task) and task.kind == Task.Kind.FBI,
        "lock": task_lock_state(task=task, user=user),
        "frame": task_frame_dict(task),
        "bones": {
            "subset": task.bones or layout_value.default_bone_subset,
            "pairs": bones.tolist(),
            "names": [layout_value.bone_name(int(p), int(c)) for p, c in bones],
        },
        "labels": list(VALUE_OF_LABEL),
        "layout": {key: layout[key] for key in ("names", "part_of", "links", "colors")},
        "views": views,
        "answers": fbi_answers_latest(task=task),
        "seconds_per_view": {str(v): round(s, 3) for v, s in seconds.items()},
        "answers_url": reverse("api:task-fbi-answers", kwargs={"task_id": task.pk}),
        "submit_url": reverse("api:task-fbi-submit", kwargs={"task_id": task.pk}),
    }


def fbi_open_tasks(*, study: Study | None = None, dataset: Dataset | None = None) -> list[Task]:
    """Open (editable) FBI tasks on a study's frames or in a dataset, id order, assignee loaded."""
    tasks = Task.objects.filter(kind=Task.Kind.FBI, status__in=Task.EDITABLE_STATUSES)
    if study is not None:
        tasks = tasks.filter(frame_id__in=study.items.values("frame_id"))
    elif dataset is not None:
        tasks = tasks.filter(frame__sequence__subject__dataset=dataset)
    else:
        raise ValueError("name a study or a dataset")
    return list(tasks.select_related("assignee").order_by("id"))


# --- agreement analysis -----------------------------------------------------------------------------


def fbi_answer_data(*, dataset: Dataset, frame_ids: list[int] | None = None) -> fbi.AnswerData:
    """The latest answers of the finished FBI tasks of ``dataset`` (optionally on ``frame_ids``), with their
    cameras and the skeletons they are judged against, as ``fbi.AnswerData`` (no answers: an empty one)."""
    tasks = Task.objects.filter(kind=Task.Kind.FBI, status__in=FINISHED, frame__sequence__subject__dataset=dataset)
    if frame_ids is not None:
        tasks = tasks.filter(frame_id__in=list(frame_ids))
    latest: dict[tuple, dict] = {}
    image_seconds: dict[tuple[int, int], float] = defaultdict(float)
    answer_seconds: list[float] = []
    for row in (
        FBIAnswer.objects.filter(task__in=tasks)
        .order_by("id")
        .values(
            "task_id", "view_id", "parent", "child", "label", "seconds", "view__camera_id", "view__camera__name",
            "task__frame_id", "task__base_skeleton_id", "task__assignee__username",
            "task__frame__sequence__subject__name", "task__frame__sequence__action", "task__frame__index",
        )
    ):  # fmt: skip
        latest[(row["task_id"], row["view_id"], row["parent"], row["child"])] = row
        image_seconds[(row["task_id"], row["view_id"])] += row["seconds"]
        answer_seconds.append(row["seconds"])
    rows = [
        {"task": r["task_id"], "view": r["view_id"], "parent": r["parent"], "child": r["child"],
         "label": r["label"], "camera": r["view__camera_id"], "camera_name": r["view__camera__name"],
         "frame": r["task__frame_id"], "base": r["task__base_skeleton_id"], "annotator": r["task__assignee__username"],
         "frame_label": f"{r['task__frame__sequence__subject__name']} · {r['task__frame__sequence__action']} · "
                        f"{r['task__frame__index']}"}
        for r in latest.values()
    ]  # fmt: skip
    frames = sorted({r["frame"] for r in rows})
    latest_of: dict[str, dict[int, int]] = {}
    for source in (Skeleton3D.Source.CORRECTED, Skeleton3D.Source.GROUND_TRUTH):
        # Versions ascend, so the last one per frame wins.
        latest_of[source] = dict(
            Skeleton3D.objects.filter(frame_id__in=frames, source=source).order_by("frame_id", "version")
            .values_list("frame_id", "id")
        )  # fmt: skip
    skeleton_of = {
        str(Skeleton3D.Source.DATASET): [r["base"] for r in rows],
        str(Skeleton3D.Source.CORRECTED): [latest_of[Skeleton3D.Source.CORRECTED].get(r["frame"]) for r in rows],
        str(Skeleton3D.Source.GROUND_TRUTH): [latest_of[Skeleton3D.Source.GROUND_TRUTH].get(r["frame"]) for r in rows],
    }  # fmt: skip
    ids = {s for ids in skeleton_of.values() for s in ids if s is not None}
    camera_ids = sorted({r["camera"] for r in rows})
    cams = Camera.objects.in_bulk(camera_ids)
    return fbi.AnswerData(
        rows=rows,
        human=np.asarray([VALUE_OF_LABEL[r["label"]] for r in rows], dtype=np.int8),
        camera=np.asarray([camera_ids.index(r["camera"]) for r in rows], dtype=np.intp),
        R=np.asarray([cams[c].R for c in camera_ids], dtype=np.float64).reshape(len(camera_ids), 3, 3),
        t=np.asarray([cams[c].t for c in camera_ids], dtype=np.float64).reshape(len(camera_ids), 3),
        skeleton_of=skeleton_of,
        skeletons=dict(Skeleton3D.objects.filter(pk__in=ids).values_list("id", "keypoints")) if ids else {},
        answer_seconds=answer_seconds,
        image_seconds=list(image_seconds.values()),
        layout=dataset.layout,
    )


def fbi_agreement(
    *,
    dataset: Dataset,
    frame_ids: list[int] | None = None,
    unknown_tilt_deg: float = fbi.DEFAULT_UNKNOWN_TILT_DEG,
    policy: fbi.FlagPolicy = fbi.DEFAULT_FLAG_POLICY,
) -> dict | None:
    """People's FBI answers (finished FBI tasks of ``dataset``, optionally on ``frame_ids``) against the labels
    of the dataset skeleton each person saw, the frame's latest corrected skeleton and its ground truth:
    ``fbi.agreement_report`` of ``fbi_answer_data``, each probable depth error with the ``url`` of the labeller
    on its view and bone. Nothing here sends a flag anywhere: a reviewer chooses
    (``services.fbi.fbi_depth_error_tasks_create``). None when there is no finished answer.
    """
    report = fbi.agreement_report(
        fbi_answer_data(dataset=dataset, frame_ids=frame_ids), unknown_tilt_deg=unknown_tilt_deg, policy=policy
    )
    if report is not None:
        for error in report["probable_depth_errors"]:
            error["url"] = _labeller_url(error)
    return report


def _labeller_url(flag: dict) -> str:
    """The FBI labeller of ``flag``'s task, opened on its view and bone."""
    query = urlencode({"view": flag["view"], "parent": flag["parent"], "child": flag["child"]})
    return f"{reverse('frontend:fbi', kwargs={'task_id': flag['task']})}?{query}"


def fbi_agreement_for_study(*, study: Study) -> dict | None:
    """``fbi_agreement`` over the frames of a study's items (whichever tasks the answers came from)."""
    frame_ids = sorted(set(study.items.values_list("frame_id", flat=True)))
    return fbi_agreement(dataset=study.dataset, frame_ids=frame_ids)
