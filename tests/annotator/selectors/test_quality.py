"""Trusted 2D for training the refiners: ground truth (synthetic data) and accepted corrections (real data)."""

from __future__ import annotations

import numpy as np
import pytest

from annotator import geometry
from annotator.exceptions import ApplicationError
from annotator.selectors.quality import refiner_training_views
from annotator.services.annotations import correction_create
from annotator.services.reviews import review_accept, review_reject
from annotator.services.tasks import task_start_next, task_submit
from tests.annotator.services.task_data import import_frames, make_task


@pytest.fixture
def frames_with_images(db, tmp_path):
    return import_frames(tmp_path, images=True)


def _corrected_and_submitted(data, users, *, x: float, y: float):
    task = make_task(data, users["annotator"])
    task = task_start_next(user=users["annotator"])
    view = data.views[0]
    answer = correction_create(task=task, user=users["annotator"], view=view, keypoint=5, x=x, y=y,
                               base_revision=task.revision)  # fmt: skip
    task.refresh_from_db()
    return task_submit(task=task, user=users["annotator"], base_revision=answer.revision), view


class AcceptedCorrectionsSourceTests:
    def test_only_accepted_tasks_count_and_the_annotators_drop_is_trusted(self, frames_with_images, users):
        data = frames_with_images[0]
        dataset = data.frame.sequence.subject.dataset
        with pytest.raises(ApplicationError, match="has no accepted correction tasks to train on"):
            refiner_training_views(dataset=dataset, source="accepted_corrections")
        x, y = (np.asarray(geometry.project(data.cams[0], data.world[5])) + [6.0, -4.0]).tolist()
        task, view = _corrected_and_submitted(data, users, x=x, y=y)
        with pytest.raises(ApplicationError, match="no accepted correction tasks"):
            refiner_training_views(dataset=dataset, source="accepted_corrections")  # submitted is not accepted
        review_accept(task=task, reviewer=users["reviewer"], base_revision=task.revision)
        trusted = refiner_training_views(dataset=dataset, source="accepted_corrections")
        assert {t.view_id for t in trusted} == {v.pk for v in data.views}
        mine = next(t for t in trusted if t.view_id == view.pk)
        np.testing.assert_allclose(mine.points[5], [x, y])
        task.refresh_from_db()
        other = next(t for t in trusted if t.view_id != view.pk)
        cam = next(c for v, c in zip(data.views, data.cams, strict=True) if v.pk == other.view_id)
        np.testing.assert_allclose(other.points, geometry.project(cam, task.result_skeleton.keypoints))
        np.testing.assert_allclose(other.start, geometry.project(cam, task.base_skeleton.keypoints))
        assert str(mine.image_path).endswith(view.image_path)

    def test_rejected_tasks_are_not_trusted(self, frames_with_images, users):
        data = frames_with_images[0]
        task, _ = _corrected_and_submitted(data, users, x=500.0, y=500.0)
        review_reject(task=task, reviewer=users["reviewer"], comment="the wrist is wrong", base_revision=task.revision)
        with pytest.raises(ApplicationError, match="no accepted correction tasks"):
            refiner_training_views(dataset=data.frame.sequence.subject.dataset, source="accepted_corrections")

    def test_unknown_source_is_a_clear_error(self, frames_with_images):
        dataset = frames_with_images[0].frame.sequence.subject.dataset
        with pytest.raises(ApplicationError, match="unknown trusted-2D source 'people'"):
            refiner_training_views(dataset=dataset, source="people")
