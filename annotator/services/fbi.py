"""FBI (forward/backward bone labels) by people: tasks, answers, submitting, simulated labellers, and
sending probable depth errors back to the correction queue.

An FBI task is a ``Task`` of kind ``fbi``: it shares the queue, start-next, visibility and review
with correction tasks, and asks its assignee, image by image, whether each bone of
``layout.bones(task.bones)`` (the dataset's layout) points towards the camera (forward), away (backward) or is unclear
(unknown, or skipped). Answers are append-only ``FBIAnswer`` rows (the latest per view and bone
counts) with the seconds the browser measured for each; the time per image is the sum over its
answers. Labels computed from 3D skeletons live in ``annotator.services.fbi_labels``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from annotator import fbi, keypoints
from annotator.exceptions import ApplicationError
from annotator.models import Dataset, FBIAnswer, Frame, Skeleton3D, Study, Task
from annotator.selectors.fbi import fbi_task_bones
from annotator.services.tasks import (
    task_bump,
    task_check_writable,
    task_create,
    task_lock_for_write,
    task_start_if_needed,
    task_status_broadcast,
)

#: An answer claiming to have taken longer than this (seconds) is refused: the browser's clock went wrong.
MAX_ANSWER_SECONDS = 3600.0
#: Label names of the API and the database, by ``annotator.fbi`` value, and back.
LABEL_OF_VALUE = {fbi.FORWARD: FBIAnswer.Label.FORWARD, fbi.BACKWARD: FBIAnswer.Label.BACKWARD,
                  fbi.UNKNOWN: FBIAnswer.Label.UNKNOWN, fbi.SKIPPED: FBIAnswer.Label.SKIPPED}  # fmt: skip
VALUE_OF_LABEL = {str(label): value for value, label in LABEL_OF_VALUE.items()}
#: Priority of the correction tasks made from probable depth errors: ahead of ordinary work (0).
DEPTH_ERROR_PRIORITY = -1


@dataclass(frozen=True)
class AnswerInput:
    """One answer as the browser sends it."""

    view: int
    parent: int
    child: int
    label: str
    seconds: float


def _fail(message: str, field: str) -> ApplicationError:
    return ApplicationError(message, extra={"field": field})


def _check_answer(task: Task, view_ids: set[int], bones: set[tuple[int, int]], answer: AnswerInput) -> None:
    if answer.view not in view_ids:
        raise _fail(f"view {answer.view} is not one of task {task.pk}'s views", "view")
    if (answer.parent, answer.child) not in bones:
        raise _fail(
            f"bone {answer.parent} -> {answer.child} is not one of the {task.bones} bones task {task.pk} asks about",
            "child",
        )
    if answer.label not in VALUE_OF_LABEL:
        raise _fail(f"label must be one of {', '.join(VALUE_OF_LABEL)}, got {answer.label!r}", "label")
    seconds = answer.seconds
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or not 0 <= seconds <= MAX_ANSWER_SECONDS:
        raise _fail(f"seconds must be a number from 0 to {MAX_ANSWER_SECONDS:g}, got {seconds!r}", "seconds")


@transaction.atomic
def fbi_answers_create(*, task: Task, user, answers: list[AnswerInput]) -> list[FBIAnswer]:
    """Append ``answers`` to the FBI ``task`` (all or none): checks the task, every view, bone, label and time.

    Only the assignee of an editable FBI task may answer; the first answer starts the task. Answers
    never overwrite each other (the latest per view and bone counts), so no base revision is needed.
    """
    task = task_lock_for_write(task)
    task_check_writable(task=task, user=user, base_revision=None, kind=Task.Kind.FBI, check_revision=False)
    if not answers:
        raise ApplicationError("no answers to record")
    view_ids = set(task.views.values_list("id", flat=True))
    bones = {(int(p), int(c)) for p, c in fbi_task_bones(task)}
    for answer in answers:
        _check_answer(task, view_ids, bones, answer)
    rows = FBIAnswer.objects.bulk_create(
        FBIAnswer(task=task, view_id=a.view, parent=a.parent, child=a.child, label=a.label, seconds=float(a.seconds),
                  author=user)
        for a in answers
    )  # fmt: skip
    started = task_start_if_needed(task)
    task_bump(task, fields=("status", "started_at") if started else ())
    if started:
        task_status_broadcast(task)
    return rows


def fbi_answer_create(*, task: Task, user, view: int, parent: int, child: int, label: str, seconds: float) -> FBIAnswer:
    """One answer (see ``fbi_answers_create``)."""
    answer = AnswerInput(view=view, parent=parent, child=child, label=label, seconds=seconds)
    return fbi_answers_create(task=task, user=user, answers=[answer])[0]


def fbi_missing_answers(task: Task) -> int:
    """How many (view, bone) pairs of the FBI task have no answer yet."""
    bones = fbi_task_bones(task)
    answered = set(FBIAnswer.objects.filter(task=task).values_list("view_id", "parent", "child").distinct())
    views = list(task.views.values_list("id", flat=True))
    return sum((v, int(p), int(c)) not in answered for v in views for p, c in bones)


@transaction.atomic
def fbi_task_submit(*, task: Task, user) -> Task:
    """Hand in an FBI task once every bone of every view has an answer (unknown and skipped count)."""
    task = task_lock_for_write(task)
    task_check_writable(task=task, user=user, base_revision=None, kind=Task.Kind.FBI, check_revision=False)
    missing = fbi_missing_answers(task)
    if missing:
        raise ApplicationError(
            f"{missing} bone(s) still have no answer; answer them (unknown or skip when not sure) before submitting",
            extra={"missing": missing},
        )
    now = timezone.now()
    task.status = Task.Status.SUBMITTED
    task.submitted_at = now
    task.started_at = task.started_at or now
    task_bump(task, fields=("status", "submitted_at", "started_at"))
    task_status_broadcast(task)
    return task


# --- creating FBI tasks -----------------------------------------------------------------------------


def _users(usernames: list[str]) -> list:
    if not usernames:
        raise _fail("name at least one annotator", "annotators")
    found = {u.username: u for u in get_user_model().objects.filter(username__in=usernames, is_active=True)}
    unknown = [name for name in usernames if name not in found]
    if unknown:
        raise _fail(f"unknown annotator(s): {', '.join(unknown)}", "annotators")
    return [found[name] for name in dict.fromkeys(usernames)]


@transaction.atomic
def fbi_tasks_create(
    *,
    annotators: list[str],
    dataset: Dataset | None = None,
    n_frames: int | None = None,
    seed: int = 0,
    study: Study | None = None,
    per_frame: int = 1,
    bones: str = "",
    created_by=None,
) -> list[Task]:
    """FBI tasks on ``n_frames`` frames of ``dataset`` drawn with ``seed`` (frames with a dataset skeleton, id
    order, ``numpy.random.default_rng(seed)`` without replacement), or on every frame of ``study``.

    Each frame goes to ``per_frame`` annotators, rotating through the list; an annotator who already has
    an open FBI task on a frame is skipped for it. All views of a frame; the base is its latest dataset
    skeleton. ``bones`` is a bone subset of the dataset's layout ("": the layout's default, ``hemlets14`` in the
    shipped ones). Atomic: bad input creates nothing.
    """
    source = study.dataset if study is not None else dataset
    if source is not None:
        try:
            bones = keypoints.bone_subset_check(source.layout, bones)
        except keypoints.LayoutError as exc:
            raise _fail(str(exc), "bones") from None
    users = _users(annotators)
    if not 1 <= per_frame <= len(users):
        raise _fail(f"per-frame must be from 1 to the number of annotators ({len(users)}), got {per_frame}",
                    "per_frame")  # fmt: skip
    if study is not None:
        frame_ids = sorted(set(study.items.values_list("frame_id", flat=True)))
    else:
        if dataset is None or n_frames is None:
            raise _fail("name a study, or a dataset and a number of frames", "dataset")
        candidates = list(
            Frame.objects.filter(sequence__subject__dataset=dataset, skeletons__source=Skeleton3D.Source.DATASET)
            .distinct().order_by("id").values_list("id", flat=True)
        )  # fmt: skip
        if not 1 <= n_frames <= len(candidates):
            raise _fail(f"frames must be from 1 to {len(candidates)} (the dataset's frames), got {n_frames}", "frames")
        if seed < 0:
            raise _fail(f"seed must be zero or more, got {seed}", "seed")
        rng = np.random.default_rng(seed)
        frame_ids = sorted(candidates[i] for i in rng.choice(len(candidates), n_frames, replace=False).tolist())
    busy = set(
        Task.objects.filter(kind=Task.Kind.FBI, status__in=Task.OPEN_STATUSES, frame_id__in=frame_ids,
                            assignee__in=users).values_list("frame_id", "assignee_id")
    )  # fmt: skip
    frames = Frame.objects.in_bulk(frame_ids)
    created = []
    for i, frame_id in enumerate(frame_ids):
        chosen = [users[(i * per_frame + j) % len(users)] for j in range(per_frame)]
        for user in chosen:
            if (frame_id, user.pk) in busy:
                continue
            task = task_create(frame=frames[frame_id], assignee=user, created_by=created_by, kind=Task.Kind.FBI,
                               bones=bones)  # fmt: skip
            created.append(task)
    if study is not None and created:
        Task.objects.filter(pk__in=[t.pk for t in created]).update(study=study)
    return created


# --- probable depth errors -> the correction queue --------------------------------------------------


@dataclass
class DepthErrorTasks:
    """What ``fbi_depth_error_tasks_create`` did: the tasks it created and the frames it left out (and why)."""

    created: list[Task]
    skipped: dict[int, str]


@transaction.atomic
def fbi_depth_error_tasks_create(*, frame_ids: list[int], assignee: str, created_by=None) -> DepthErrorTasks:
    """Correction tasks for ``assignee`` on the frames whose depth people contradicted, ahead of their queue.

    The frames' latest dataset skeleton is the base, all views; frames where the annotator already has an
    open correction task, or without a dataset skeleton, are skipped and reported.
    """
    user = _users([assignee])[0]
    if not frame_ids:
        raise _fail("name at least one frame", "frames")
    frames = Frame.objects.in_bulk(sorted(set(frame_ids)))
    unknown = sorted(set(frame_ids) - set(frames))
    if unknown:
        raise _fail(f"unknown frame(s): {', '.join(map(str, unknown))}", "frames")
    busy = set(
        Task.objects.filter(kind=Task.Kind.CORRECTION, status__in=Task.OPEN_STATUSES, assignee=user,
                            frame_id__in=frames).values_list("frame_id", flat=True)
    )  # fmt: skip
    with_dataset = set(
        Skeleton3D.objects.filter(frame_id__in=frames, source=Skeleton3D.Source.DATASET)
        .values_list("frame_id", flat=True)
    )  # fmt: skip
    out = DepthErrorTasks(created=[], skipped={})
    for frame_id, frame in sorted(frames.items()):
        if frame_id in busy:
            out.skipped[frame_id] = f"{user.username} already has an open correction task on it"
        elif frame_id not in with_dataset:
            out.skipped[frame_id] = "no dataset skeleton to correct"
        else:
            out.created.append(
                task_create(frame=frame, assignee=user, created_by=created_by, priority=DEPTH_ERROR_PRIORITY)
            )
    return out


# --- simulated labellers ----------------------------------------------------------------------------


@dataclass
class FBISimulationReport:
    """What ``fbi_simulate_labellers`` did."""

    tasks_done: int = 0
    answers: int = 0
    skipped_no_truth: int = 0

    def __str__(self) -> str:
        return f"{self.tasks_done} FBI tasks submitted with {self.answers} answers" + (
            f"; {self.skipped_no_truth} tasks skipped (no ground truth)" if self.skipped_no_truth else ""
        )


#: Spread (log-normal sigma) of simulated seconds per answer around ``LabellerModel.seconds_per_bone``.
SECONDS_LOG_SIGMA = 0.35


def fbi_simulate_labellers(
    *, tasks: list[Task], seed: int = 0, model: fbi.LabellerModel | None = None, progress=None
) -> FBISimulationReport:
    """Answer and submit open FBI tasks as HEMlets-like people would, through ``fbi_answers_create``.

    The true answer of each bone in each view comes from the frame's ground truth; ``fbi.simulate_labels``
    turns it into a person's answer (errors and skips by tilt, ``model``, default ``fbi.LabellerModel()``,
    HEMlets-like); seconds per answer are log-normal around ``model.seconds_per_bone``. One transaction
    per task; tasks whose frame has no ground truth are skipped. ``progress(done, total)`` is called after each task.
    """
    model = model or fbi.LabellerModel()
    rng = np.random.default_rng(seed)
    report = FBISimulationReport()
    truth_of = dict(
        Skeleton3D.objects.filter(source=Skeleton3D.Source.GROUND_TRUTH, frame_id__in={t.frame_id for t in tasks})
        .order_by("frame_id", "version").values_list("frame_id", "keypoints")
    )  # fmt: skip
    for n, task in enumerate(tasks):
        truth = truth_of.get(task.frame_id)
        if truth is None:
            report.skipped_no_truth += 1
            continue
        views = sorted(task.views.select_related("camera"), key=lambda v: v.camera.name)
        bones = fbi_task_bones(task)
        R = np.stack([np.asarray(v.camera.R, dtype=np.float64) for v in views])
        t = np.stack([np.asarray(v.camera.t, dtype=np.float64) for v in views])
        # Threshold 0: the true sign of every bone, however slightly tilted; people see the tilt, not a label.
        true_labels, tilt = fbi.skeleton_labels(truth[None], R, t, bones, unknown_tilt_deg=0.0)  # (1, V, B)
        answers = fbi.simulate_labels(true_labels[0], tilt[0], rng, model)  # (V, B)
        seconds = model.seconds_per_bone * rng.lognormal(0.0, SECONDS_LOG_SIGMA, size=answers.shape)
        batch = [
            AnswerInput(view=view.pk, parent=int(p), child=int(c), label=str(LABEL_OF_VALUE[int(answers[v, b])]),
                        seconds=round(float(seconds[v, b]), 3))
            for v, view in enumerate(views) for b, (p, c) in enumerate(bones)
        ]  # fmt: skip
        with transaction.atomic():
            fbi_answers_create(task=task, user=task.assignee, answers=batch)
            fbi_task_submit(task=task, user=task.assignee)
        report.tasks_done += 1
        report.answers += len(batch)
        if progress is not None:
            progress(n + 1, len(tasks))
    return report
