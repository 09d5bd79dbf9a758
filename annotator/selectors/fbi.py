"""Reads of FBI (forward/backward bone labels): the labeller's payload, FBI tasks, labelling jobs, and the
agreement analysis of people's answers against the labels the dataset, corrected and true skeletons imply.

The analysis recomputes the skeletons' labels for exactly the answered (skeleton, view, bone) triples
with ``annotator.fbi.skeleton_labels`` (vectorised; microseconds per skeleton-view) rather than
reading ``FBIAutoLabels``: it compares one threshold across skeleton versions that may not have been
labelled yet, and needs only the bones people were asked about.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict

import numpy as np
from django.urls import reverse
from django.utils.http import urlencode

from annotator import access, fbi, geometry, keypoints
from annotator.models import Camera, Dataset, FBIAnswer, Skeleton3D, Study, Task
from annotator.selectors.tasks import _points_json, task_frame_dict, task_lock_state

#: Tasks whose answers count in the analysis: handed in, and not sent back.
FINISHED = (Task.Status.SUBMITTED, Task.Status.ACCEPTED)
#: Reference skeletons of the analysis, in report order.
REFERENCES = (Skeleton3D.Source.DATASET, Skeleton3D.Source.CORRECTED, Skeleton3D.Source.GROUND_TRUTH)
VALUE_OF_LABEL = {"forward": fbi.FORWARD, "backward": fbi.BACKWARD, "unknown": fbi.UNKNOWN, "skipped": fbi.SKIPPED}


def fbi_task_bones(task: Task) -> np.ndarray:
    """(B, 2) the (parent, child) bones an FBI task asks about, in ``keypoints.bones`` order."""
    return keypoints.bones(task.bones or keypoints.DEFAULT_BONE_SUBSET)


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
    bones = fbi_task_bones(task)
    views = []
    for view in sorted(task.views.all(), key=lambda v: v.camera.name):
        cam = view.camera.as_geometry()
        views.append({"id": view.pk, "camera": view.camera.name, "image_url": view.image_url,
                      "width": cam.width, "height": cam.height,
                      "points": _points_json(geometry.project(cam, task.base_skeleton.keypoints))})  # fmt: skip
    seconds = fbi_seconds_per_view(task=task)
    layout = keypoints.layout_json()
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
            "subset": task.bones or keypoints.DEFAULT_BONE_SUBSET,
            "pairs": bones.tolist(),
            "names": [keypoints.bone_name(int(p), int(c)) for p, c in bones],
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


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 6) if d else None


def _references(rows: list[dict], skeleton_of: dict[str, list[int | None]], unknown_tilt_deg: float):
    """Labels and tilts each reference skeleton implies for each answer row: source -> ((A,) int8, (A,) deg)."""
    camera_ids = sorted({r["camera"] for r in rows})
    cams = Camera.objects.in_bulk(camera_ids)
    R = np.asarray([cams[c].R for c in camera_ids], dtype=np.float64)
    t = np.asarray([cams[c].t for c in camera_ids], dtype=np.float64).reshape(len(camera_ids), 3)
    c_idx = np.asarray([camera_ids.index(r["camera"]) for r in rows])
    bone_list = sorted({(r["parent"], r["child"]) for r in rows})
    b_idx = np.asarray([bone_list.index((r["parent"], r["child"])) for r in rows])
    bones = np.asarray(bone_list, dtype=np.intp)
    out = {}
    for source, ids in skeleton_of.items():
        known = sorted({s for s in ids if s is not None})
        labels = np.full(len(rows), fbi.UNKNOWN, dtype=np.int8)
        tilt = np.full(len(rows), np.nan)
        if known:
            X = dict(Skeleton3D.objects.filter(pk__in=known).values_list("id", "keypoints"))
            stack = np.stack([X[s] for s in known])  # (S, J, 3)
            lab, til = fbi.skeleton_labels(stack, R, t, bones, unknown_tilt_deg)  # (S, C, B)
            a = np.flatnonzero([s is not None for s in ids])
            s_idx = np.asarray([known.index(ids[i]) for i in a], dtype=np.intp)
            labels[a] = lab[s_idx, c_idx[a], b_idx[a]]
            tilt[a] = til[s_idx, c_idx[a], b_idx[a]]
        out[source] = (labels, tilt)
    return out


def fbi_agreement(
    *,
    dataset: Dataset,
    frame_ids: list[int] | None = None,
    unknown_tilt_deg: float = fbi.DEFAULT_UNKNOWN_TILT_DEG,
    policy: fbi.FlagPolicy = fbi.DEFAULT_FLAG_POLICY,
) -> dict | None:
    """People's FBI answers (finished FBI tasks of ``dataset``, optionally on ``frame_ids``) against the labels
    of the dataset skeleton each person saw, the frame's latest corrected skeleton and its ground truth.

    Keys: counts (``n_answers``, ``n_tasks``, ``n_images``, ``n_frames``), ``answers_by_label``, ``seconds``
    (per answer and per image), ``references`` (source -> ``{"n", "bins"}`` from ``fbi.agreement_by_tilt``,
    or None where no such skeleton exists); the flags: ``probable_depth_errors`` (one per dataset skeleton, view
    and bone that ``policy`` flags from everybody's answers on it, ``fbi.depth_error_flags``; steepest first,
    with the true direction where known), ``depth_error_frames``, ``policy``, ``calibration`` (what the policy
    was measured to do on unseen rigs, ``fbi.FLAG_CALIBRATION``, and the ``expected_false_alarm_rate``),
    ``contradicted`` (bones people contradicted, flagged or not, per bone group), ``max_labellers`` (most people
    on one bone) and ``depth_error_check`` (with ground truth: how many flags the dataset really has backwards).
    Nothing here sends a flag anywhere: a reviewer chooses (``services.fbi.fbi_depth_error_tasks_create``).
    None when there is no finished answer.
    """
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
    if not latest:
        return None
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
        Skeleton3D.Source.DATASET: [r["base"] for r in rows],
        Skeleton3D.Source.CORRECTED: [latest_of[Skeleton3D.Source.CORRECTED].get(r["frame"]) for r in rows],
        Skeleton3D.Source.GROUND_TRUTH: [latest_of[Skeleton3D.Source.GROUND_TRUTH].get(r["frame"]) for r in rows],
    }
    refs = _references(rows, skeleton_of, unknown_tilt_deg)
    human = np.asarray([VALUE_OF_LABEL[r["label"]] for r in rows], dtype=np.int8)
    references = {}
    for source in REFERENCES:
        labels, tilt = refs[source]
        known = np.isfinite(tilt)
        references[str(source)] = (
            {"n": int(known.sum()), "bins": fbi.agreement_by_tilt(human[known], labels[known], tilt[known])}
            if known.any() else None
        )  # fmt: skip

    flags = _flags(rows, human, refs, skeleton_of, policy)
    per_image = list(image_seconds.values())
    return {
        "n_answers": len(rows),
        "n_tasks": len({r["task"] for r in rows}),
        "n_images": len({(r["task"], r["view"]) for r in rows}),
        "n_frames": len(frames),
        "annotators": sorted({r["annotator"] for r in rows}),
        "answers_by_label": {name: int(n) for name, n in Counter(r["label"] for r in rows).most_common()},
        "unknown_tilt_deg": unknown_tilt_deg,
        "tilt_bins_deg": list(fbi.TILT_BINS_DEG),
        "seconds": {
            "per_answer_mean": round(statistics.fmean(answer_seconds), 3),
            "per_image_mean": round(statistics.fmean(per_image), 3),
            "per_image_median": round(statistics.median(per_image), 3),
        },
        "references": references,
        **flags,
    }


def _labeller_url(row: dict) -> str:
    """The FBI labeller of ``row``'s task, opened on its view and bone."""
    query = urlencode({"view": row["view"], "parent": row["parent"], "child": row["child"]})
    return f"{reverse('frontend:fbi', kwargs={'task_id': row['task']})}?{query}"


def _flags(rows: list[dict], human: np.ndarray, refs: dict, skeleton_of: dict, policy: fbi.FlagPolicy) -> dict:
    """The flag part of ``fbi_agreement``: answers grouped per (dataset skeleton, view, bone), counted against the
    skeleton's label, and flagged by ``policy``."""
    ds_labels, ds_tilt = refs[Skeleton3D.Source.DATASET]
    truth_sign = _true_signs(rows, skeleton_of[Skeleton3D.Source.GROUND_TRUTH])
    groups: dict[tuple, list[int]] = defaultdict(list)
    for a, r in enumerate(rows):
        groups[(r["base"], r["view"], r["parent"], r["child"])].append(a)
    keys = list(groups)
    first = np.asarray([groups[k][0] for k in keys], dtype=np.intp)
    width = max(len(v) for v in groups.values())
    answers = np.full((width, len(keys)), fbi.SKIPPED, dtype=np.int8)  # (P, G): SKIPPED pads the missing people
    for g, key in enumerate(keys):
        answers[: len(groups[key]), g] = human[groups[key]]
    against, with_ = fbi.contradiction_counts(answers, ds_labels[first])
    bone_pairs = np.asarray([[r["parent"], r["child"]] for r in (rows[a] for a in first)], dtype=np.intp)
    group_of = fbi.bone_groups(bone_pairs)
    lengths = _dataset_bone_lengths(rows, first)
    flagged = fbi.depth_error_flags(against, with_, ds_tilt[first], lengths, group_of, policy)
    order = np.flatnonzero(flagged)
    order = order[np.argsort(-ds_tilt[first][order], kind="stable")]
    errors = []
    for g in order.tolist():
        a = int(first[g])
        r = rows[a]
        members = groups[keys[g]]
        contra = [m for m in members if human[m] in (fbi.FORWARD, fbi.BACKWARD) and human[m] != ds_labels[a]]
        truth = fbi.LABEL_NAMES[int(truth_sign[a])] if truth_sign[a] != fbi.UNKNOWN else None
        dataset_label = fbi.LABEL_NAMES[int(ds_labels[a])]
        errors.append(
            {"task": r["task"], "tasks": [rows[m]["task"] for m in members], "frame": r["frame"],
             "frame_label": r["frame_label"], "view": r["view"], "camera": r["camera_name"], "parent": r["parent"],
             "child": r["child"], "bone": keypoints.bone_name(r["parent"], r["child"]), "group": str(group_of[g]),
             "annotators": sorted({rows[m]["annotator"] for m in contra}), "human": rows[contra[0]]["label"],
             "n_against": int(against[g]), "n_with": int(with_[g]), "dataset": dataset_label,
             "tilt_deg": round(float(ds_tilt[a]), 2), "length_mm": round(float(lengths[g]), 1),
             "ground_truth": truth, "dataset_wrong": None if truth is None else truth != dataset_label,
             "url": _labeller_url(r)}
        )  # fmt: skip
    checked = [e for e in errors if e["dataset_wrong"] is not None]
    contradicted = against >= 1
    precision = fbi.FLAG_CALIBRATION["precision"]
    return {
        "policy": policy.as_dict(),
        "calibration": {
            **fbi.FLAG_CALIBRATION,
            "expected_false_alarm_rate": round(1.0 - precision[0], 3),
            "applies": policy == fbi.DEFAULT_FLAG_POLICY,
        },  # fmt: skip
        "max_labellers": int(width),
        "contradicted": {
            group: {
                "bones": int((contradicted & (group_of == group)).sum()),
                "flagged": int((flagged & (group_of == group)).sum()),
            }
            for group in fbi.BONE_GROUPS
        },  # fmt: skip
        "probable_depth_errors": errors,
        "n_probable_depth_errors": len(errors),
        "depth_error_frames": sorted({e["frame"] for e in errors}),
        "depth_error_check": (
            {
                "n": len(checked),
                "dataset_wrong": sum(e["dataset_wrong"] for e in checked),
                "precision": _rate(sum(e["dataset_wrong"] for e in checked), len(checked)),
            }
            if checked
            else None
        ),  # fmt: skip
    }


def _true_signs(rows: list[dict], truth_ids: list[int | None]) -> np.ndarray:
    """(A,) the ground truth's direction of each answered bone, however slightly tilted (UNKNOWN without one)."""
    labels, _ = _references(rows, {"truth": truth_ids}, 0.0)["truth"]
    return labels


def _dataset_bone_lengths(rows: list[dict], first: np.ndarray) -> np.ndarray:
    """(G,) length (mm) of each group's bone in the dataset skeleton people were shown."""
    ids = sorted({rows[a]["base"] for a in first.tolist()})
    X = dict(Skeleton3D.objects.filter(pk__in=ids).values_list("id", "keypoints"))
    return np.asarray(
        [float(np.linalg.norm(X[rows[a]["base"]][rows[a]["child"]] - X[rows[a]["base"]][rows[a]["parent"]]))
         for a in first.tolist()]
    )  # fmt: skip


def fbi_agreement_for_study(*, study: Study) -> dict | None:
    """``fbi_agreement`` over the frames of a study's items (whichever tasks the answers came from)."""
    frame_ids = sorted(set(study.items.values_list("frame_id", flat=True)))
    return fbi_agreement(dataset=study.dataset, frame_ids=frame_ids)
