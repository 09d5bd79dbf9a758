"""The editor payload's undo and redo depths: the signed-in user's own stacks, as the undo service sees them."""

from __future__ import annotations

import pytest

from annotator import keypoints, selectors
from annotator.services import annotations


def _depths(task, user) -> tuple[int, int]:
    payload = selectors.task_editor_payload(task=task, user=user)
    return payload["undo_depth"], payload["redo_depth"]


@pytest.mark.django_db
class UndoDepthTests:
    def test_depths_follow_writes_undos_and_redos(self, task, frames, users):
        ann = users["annotator"]
        data = frames[0]
        assert _depths(task, ann) == (0, 0)
        x, y = data.project(0, data.world)[keypoints.LEFT_WRIST]
        for i in range(2):
            task.refresh_from_db()
            annotations.correction_create(task=task, user=ann, view=data.views[0], keypoint=keypoints.LEFT_WRIST,
                                          x=x + 3 * (i + 1), y=y, base_revision=task.revision)  # fmt: skip
        assert _depths(task, ann) == (2, 0)
        task.refresh_from_db()
        annotations.correction_undo(task=task, user=ann, base_revision=task.revision)
        assert _depths(task, ann) == (1, 1)
        task.refresh_from_db()
        annotations.correction_redo(task=task, user=ann, base_revision=task.revision)
        assert _depths(task, ann) == (2, 0)
        # Another user's stacks are their own (a reviewer watching has nothing to undo).
        assert _depths(task, users["reviewer"]) == (0, 0)

    def test_a_new_write_empties_the_redo_stack(self, task, frames, users):
        ann = users["annotator"]
        view = frames[0].views[0]
        annotations.part_validity_set(task=task, user=ann, view=view, part="face", valid=False, base_revision=0)
        task.refresh_from_db()
        annotations.correction_undo(task=task, user=ann, base_revision=task.revision)
        assert _depths(task, ann) == (0, 1)
        task.refresh_from_db()
        annotations.part_validity_set(task=task, user=ann, view=view, part="left_hand", valid=False,
                                      base_revision=task.revision)  # fmt: skip
        assert _depths(task, ann) == (1, 0)
