"""Completing a study's open tasks with simulated annotators, through the same services people use.

The annotator models live in ``annotator.simulation`` (what a person would see and where they drop). This
module drives them task by task: in each view a task covers (camera-name order), the annotator looks at the
skeleton as the editor draws it then (the corrections of earlier views re-triangulated), and each drop is a
``correction_create`` like a person's drag; hidden keypoints may be flagged occluded; then ``task_submit``.
Each task is one transaction. Every run is recorded as a ``StudySimulation`` (model, parameters, seed and
what it did), which the study's report shows as the assumptions its figures rest on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction

from annotator import geometry, keypoints, simulation
from annotator.exceptions import ApplicationError
from annotator.models import Correction, Detection2D, Skeleton3D, Study, StudySimulation, Task, View
from annotator.selectors.detections import PRETRAINED_DETECTOR
from annotator.selectors.tasks import view_image_file
from annotator.services.annotations import correction_create
from annotator.services.tasks import task_submit

Annotator = simulation.PerceivingAnnotator | simulation.ModelAnnotator


@dataclass
class SimulationReport:
    """What ``study_simulate_annotators`` did; ``counts`` is what the ``StudySimulation`` row records."""

    simulation: StudySimulation | None = None
    counts: Counter = field(default_factory=Counter)

    @property
    def tasks_done(self) -> int:
        return self.counts["tasks_done"]

    @property
    def corrections(self) -> int:
        return self.counts["moved"] + self.counts["occluded_flagged"]

    def __str__(self) -> str:
        c = self.counts
        text = (
            f"{c['tasks_done']} tasks submitted: {c['moved']} keypoints dragged, {c['unseen_hidden']} hidden and "
            f"{c['unseen_other']} otherwise unseen (left alone), {c['occluded_flagged']} flagged occluded"
        )
        if c["skipped_no_truth"]:
            text += f"; {c['skipped_no_truth']} tasks skipped (no ground truth)"
        if c["views_without_visibility"]:
            text += f"; {c['views_without_visibility']} views without visibility (every keypoint counted as seen)"
        if c["views_without_prediction"]:
            text += f"; {c['views_without_prediction']} views where the model found nothing"
        return text


def _truth_of(tasks: list[Task]) -> dict[int, np.ndarray]:
    return dict(
        Skeleton3D.objects.filter(source=Skeleton3D.Source.GROUND_TRUTH, frame_id__in=[t.frame_id for t in tasks])
        .order_by("frame_id", "version").values_list("frame_id", "keypoints")
    )  # fmt: skip


def _task_key(task: Task) -> int:
    frame = task.frame
    return simulation.simulation_key(f"{frame.sequence.subject.name}/{frame.sequence.action}/{frame.index}",
                                     task.assignee.username)  # fmt: skip


def _predict(view: View, displayed: np.ndarray, stored: dict[int, tuple], counts: Counter) -> tuple:
    """The pretrained model's (J, 2) points and (J,) scores in ``view``: stored ``detect_2d`` output when there
    is some, else the model run now on the image, in the box of the skeleton as drawn."""
    if view.pk in stored:
        counts["views_stored_detections"] += 1
        return stored[view.pk]
    from ml_services.images import load_rgb
    from ml_services.pretrained import detect_wholebody

    finite = displayed[np.isfinite(displayed).all(axis=1)]
    cam = view.camera
    box = None
    if len(finite) >= 2:
        (x0, y0), (x1, y1) = finite.min(axis=0), finite.max(axis=0)
        box = (max(x0, 0.0), max(y0, 0.0), min(x1, cam.width - 1.0), min(y1, cam.height - 1.0))
    try:
        out = detect_wholebody(load_rgb(view_image_file(view=view)), box)
    except (ValueError, ApplicationError) as exc:
        raise ApplicationError(f"the pretrained annotator cannot look at view {view.pk}: {exc}") from None
    counts["views_detected"] += 1
    return out[:, :2], out[:, 2]


def _work_task(
    task: Task, annotator: Annotator, truth, noise, stored, counts: Counter, layout: keypoints.Layout
) -> None:
    """One task, as the annotator would do it in the editor (inside the caller's transaction)."""
    revision = task.revision
    current = task.current_keypoints
    J = layout.num_keypoints
    for i, view in enumerate(sorted(task.views.all(), key=lambda v: v.camera.name)):
        cam = view.camera.as_geometry()
        displayed = geometry.project(cam, current)
        size = np.asarray([[cam.width, cam.height]], dtype=np.float64)
        if isinstance(annotator, simulation.PerceivingAnnotator):
            truth_2d = geometry.project(cam, truth)
            visible = view.truth_visible
            if visible is None:
                counts["views_without_visibility"] += 1
                visible = np.full(J, np.nan)
            scale = simulation.view_scale(view.bbox, truth_2d)
            decisions = simulation.perceiving_decisions(
                annotator,
                displayed[None],
                truth_2d[None],
                visible[None],
                np.asarray([scale]),
                size,
                noise[i][None],
                layout=layout,
            )
        else:
            points, scores = _predict(view, displayed, stored, counts)
            if not (np.asarray(scores) >= annotator.min_score).any():
                counts["views_without_prediction"] += 1
            decisions = simulation.model_decisions(annotator, displayed[None], points[None], scores[None], size)
        moved = np.flatnonzero(decisions.move[0])
        for k in moved.tolist():
            x, y = (float(v) for v in decisions.drops[0, k])
            revision = correction_create(task=task, user=task.assignee, view=view.pk, keypoint=k, x=x, y=y,
                                         base_revision=revision).revision  # fmt: skip
        for k in np.flatnonzero(decisions.occluded[0]).tolist():
            revision = correction_create(task=task, user=task.assignee, view=view.pk, keypoint=k, x=None, y=None,
                                         flag=Correction.Flag.OCCLUDED, base_revision=revision).revision  # fmt: skip
        counts["views"] += 1
        counts["moved"] += len(moved)
        counts["occluded_flagged"] += int(decisions.occluded[0].sum())
        counts["unseen_hidden"] += int((decisions.unseen[0] & decisions.hidden[0]).sum())
        counts["unseen_other"] += int((decisions.unseen[0] & ~decisions.hidden[0]).sum())
        if len(moved):
            current = Task.objects.values_list("current_keypoints", flat=True).get(pk=task.pk)
    task_submit(task=task, user=task.assignee, base_revision=revision)


def study_simulate_annotators(
    *,
    study: Study,
    annotator: Annotator | None = None,
    seed: int = 0,
    progress=None,
    created_by=None,
) -> SimulationReport:
    """Complete the study's open correction tasks with ``annotator`` (default: ``simulation.PerceivingAnnotator()``).

    The perceiving annotator needs ground truth (tasks on frames without it are skipped and counted) and works in
    any keypoint layout (the dataset's sigmas and focus parts); the pretrained one needs images (the model's
    stored ``detect_2d`` output is used where there is some) and a COCO-WholeBody dataset, as the model predicts
    that layout (``NotApplicableError`` otherwise, before anything is written). Each
    task is one transaction; ``progress(done, total)`` is called after each. A run that submitted anything
    is recorded as a ``StudySimulation``.
    """
    annotator = annotator or simulation.PerceivingAnnotator()
    if not isinstance(annotator, simulation.PerceivingAnnotator | simulation.ModelAnnotator):
        raise ApplicationError(f"unknown annotator model {annotator!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        raise ApplicationError(f"seed must be an integer from 0 to {2**31 - 1}, got {seed!r}", extra={"field": "seed"})
    layout = study.dataset.layout
    if isinstance(annotator, simulation.ModelAnnotator):
        keypoints.require_layout(layout, "the pretrained annotator (the pretrained whole-body model)")
    tasks = list(
        Task.objects.filter(study=study, status__in=Task.EDITABLE_STATUSES, kind=Task.Kind.CORRECTION)
        .select_related("assignee", "frame__sequence__subject")
        .prefetch_related("views__camera")
        .order_by("id")
    )
    perceiving = isinstance(annotator, simulation.PerceivingAnnotator)
    truth_of = _truth_of(tasks) if perceiving else {}
    stored = {} if perceiving else {
        view_id: (points, scores) for view_id, points, scores in Detection2D.objects.filter(
            detector=PRETRAINED_DETECTOR, view__tasks__in=tasks).values_list("view_id", "keypoints_2d", "scores")
    }  # fmt: skip
    report = SimulationReport()
    counts = report.counts
    for n, task in enumerate(tasks):
        truth = truth_of.get(task.frame_id)
        if perceiving and truth is None:
            counts["skipped_no_truth"] += 1
            continue
        noise = (simulation.task_noise(seed, _task_key(task), len(task.views.all()), layout.num_keypoints)
                 if perceiving else None)  # fmt: skip
        with transaction.atomic():
            _work_task(task, annotator, truth, noise, stored, counts, layout)
        counts["tasks_done"] += 1
        if progress is not None:
            progress(n + 1, len(tasks))
    if counts["tasks_done"]:
        report.simulation = StudySimulation.objects.create(
            study=study, annotator=annotator.kind, params=annotator.params(), seed=seed, counts=dict(counts),
            created_by=created_by,
        )  # fmt: skip
    return report
