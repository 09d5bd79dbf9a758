"""What the editor's refiner needs to suggest positions for one part of a task in one view.

The part's current 2D is what the annotator sees: the projection of the task's current skeleton into
the view, replaced by the annotator's own drop where the keypoint is corrected in that view. Every
refusal (a view outside the task, a part marked not annotatable, a missing image, keypoints without a
position or off the image) is an ``ApplicationError`` that names it, before any network runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from annotator import geometry, keypoints
from annotator.exceptions import ApplicationError, NotFoundError
from annotator.models import Dataset, Skeleton3D, Task
from annotator.selectors.tasks import task_state, view_image_file

#: Parts a refiner exists for: the ones COCO-WholeBody marks valid per image (face and hands).
REFINE_PARTS: tuple[str, ...] = keypoints.VALIDITY_PARTS


@dataclass(frozen=True)
class RefineInput:
    """One part of one view: ``points`` (J, 2) pixels of every keypoint as drawn, the image file and size, and the
    dataset (which decides what model suggests by default)."""

    task_id: int
    view_id: int
    part: str
    dataset: Dataset
    image_path: Path
    width: int
    height: int
    points: np.ndarray


#: What a refusal for another layout calls the suggestions (the refiners and the pretrained model's face and hands).
SUGGESTIONS_FEATURE = "suggesting positions (with the face and hand refiners or the pretrained whole-body model)"


def refine_input(*, task: Task, view: int, part: str) -> RefineInput:
    """The drawn 2D of ``part`` in ``view`` of ``task`` and the view's image, checked for refinement; a task of a
    dataset of another layout than COCO-WholeBody is refused first (``NotApplicableError``)."""
    task = Task.objects.select_related("frame__sequence__subject__dataset").get(pk=task.pk)
    keypoints.require_layout(task.frame.sequence.subject.dataset.layout, SUGGESTIONS_FEATURE)
    if part not in REFINE_PARTS:
        raise ApplicationError(f"part must be one of {', '.join(REFINE_PARTS)}, got {part!r}", extra={"field": "part"})
    found = task.views.select_related("camera", "frame__sequence__subject__dataset").filter(pk=view).first()
    if found is None:
        raise ApplicationError(f"view {view} is not one of task {task.pk}'s views", extra={"field": "view"})
    state = task_state(task=task)
    label = part.replace("_", " ")
    if not state.part_valid(found.pk, part):
        raise ApplicationError(
            f"the {label} is marked not annotatable in view {found.pk}; there is nothing to refine",
            extra={"field": "part", "part": part},
        )
    try:
        image = view_image_file(view=found)
    except NotFoundError as exc:
        raise ApplicationError(f"cannot refine without the image: {exc.message}", extra={"field": "view"}) from None
    cam = found.camera.as_geometry()
    points = geometry.project(cam, np.asarray(task.current_keypoints, dtype=np.float64))  # (J, 2)
    for k, (x, y) in state.annotated(found.pk).items():
        points[int(k)] = (x, y)
    members = keypoints.PARTS[part]
    if not np.isfinite(points[members]).all():
        raise ApplicationError(f"some {label} keypoints have no position in view {found.pk}", extra={"field": "part"})
    centre = (points[members].min(axis=0) + points[members].max(axis=0)) / 2
    if not (0 <= centre[0] < cam.width and 0 <= centre[1] < cam.height):
        raise ApplicationError(f"the {label} lies outside the image of view {found.pk}", extra={"field": "part"})
    return RefineInput(task.pk, found.pk, part, found.frame.sequence.subject.dataset, image, cam.width, cam.height,
                       points)  # fmt: skip


def dataset_has_ground_truth(*, dataset: Dataset) -> bool:
    """Whether ``dataset`` has ground-truth skeletons: only the synthetic rig does (a real release has none)."""
    return Skeleton3D.objects.filter(frame__sequence__subject__dataset=dataset,
                                     source=Skeleton3D.Source.GROUND_TRUTH).exists()  # fmt: skip
