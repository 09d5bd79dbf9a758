"""An accepted task with every kind of correction, for the export tests (on the ``frames`` fixture's first frame)."""

from __future__ import annotations

from dataclasses import dataclass

from annotator.models import Task
from annotator.services.annotations import correction_create, part_validity_set
from annotator.services.reviews import review_accept
from annotator.services.tasks import task_submit
from tests.annotator.services.task_data import FrameData, make_task

MOVED, MODEL, OCCLUDED, UNSURE = 9, 10, 15, 16  # left wrist, right wrist, left ankle, right ankle
MOVE_PX = 12.0


@dataclass
class AcceptedTask:
    task: Task
    data: FrameData


def accepted_task(frames: list[FrameData], users) -> AcceptedTask:
    """Frame 0: keypoint MOVED moved by hand in view 0, MODEL moved from a model in view 1, OCCLUDED flagged in
    view 2 (not moved), UNSURE moved and flagged unsure in view 0, the left hand marked not annotatable in view 3."""
    d = frames[0]
    ann = users["annotator"]
    task = make_task(d, ann)
    base = [d.project(i, d.world) for i in range(len(d.views))]

    def head() -> int:
        task.refresh_from_db()
        return task.revision

    def move(view: int, k: int, dx: float, **kwargs) -> None:
        x, y = base[view][k]
        correction_create(task=task, user=ann, view=d.views[view].pk, keypoint=k, x=float(x + dx), y=float(y),
                          base_revision=head(), **kwargs)  # fmt: skip

    move(0, MOVED, MOVE_PX)
    move(1, MODEL, 5.0, source="model")
    correction_create(task=task, user=ann, view=d.views[2].pk, keypoint=OCCLUDED, x=None, y=None, flag="occluded",
                      base_revision=head())  # fmt: skip
    move(0, UNSURE, 3.0, flag="unsure")
    part_validity_set(task=task, user=ann, view=d.views[3].pk, part="left_hand", valid=False, base_revision=head())
    task_submit(task=task, user=ann, base_revision=head())
    review_accept(task=task, reviewer=users["reviewer"], base_revision=head())
    task.refresh_from_db()
    return AcceptedTask(task, d)
