"""Trusted 2D for training the refiners: ground truth (synthetic data) and accepted corrections (real data)."""

from __future__ import annotations

import numpy as np
import pytest

from annotator import geometry
from annotator.exceptions import ApplicationError
from annotator.selectors.quality import (
    QUALITY_JOB_KIND,
    SCORED_KEYPOINTS,
    ground_truth_errors,
    quality_report,
    refiner_training_views,
    scoring_skeleton_ids,
)
from annotator.services.annotations import correction_create
from annotator.services.jobs import job_create
from annotator.services.quality import ScoreRow, quality_scores_write
from annotator.services.reviews import review_accept, review_reject
from annotator.services.tasks import task_start_next, task_submit
from tests.annotator.services.task_data import import_frames, make_task
from tests.ml_services.rig import import_rig


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


@pytest.fixture
def scored_rig(db):
    """The tiny rig's dataset skeletons, their true face+hand errors, and a hand-made scoring job over them."""
    dataset = import_rig()
    ids = scoring_skeleton_ids(dataset=dataset, source="dataset")
    truth = ground_truth_errors(skeleton_ids=ids, parts=SCORED_KEYPOINTS)
    by_error = sorted(ids, key=lambda pk: truth[pk][0])  # best (lowest true 2D error) first
    job = job_create(kind=QUALITY_JOB_KIND, dataset=dataset, params={"source": "dataset", "checkpoint": "by-hand"},
                     payloads=[{"skeleton_ids": ids}])  # fmt: skip
    return job, by_error, truth


def _report_with_scores(job, scores: dict[int, float]) -> dict:
    quality_scores_write(rows=[ScoreRow(pk, s, {}, {}) for pk, s in scores.items()], model_name="m",
                         checkpoint="by-hand")  # fmt: skip
    return quality_report(job=job)


class QualityReportRankingTests:
    """The report's Spearman and best-two-thirds figures against values worked out by hand (4 skeletons)."""

    def test_a_score_that_orders_like_the_true_error_has_spearman_plus_one(self, scored_rig):
        job, by_error, _ = scored_rig
        truth = _report_with_scores(job, {pk: float(rank) for rank, pk in enumerate(by_error, 1)})["truth"]
        assert truth["n"] == 4 and truth["spearman_2d"] == pytest.approx(1.0)

    def test_a_reversed_score_has_spearman_minus_one(self, scored_rig):
        job, by_error, _ = scored_rig
        truth = _report_with_scores(job, {pk: -float(rank) for rank, pk in enumerate(by_error, 1)})["truth"]
        assert truth["spearman_2d"] == pytest.approx(-1.0)

    def test_one_swap_gives_the_hand_computed_rho_and_kept_mean(self, scored_rig):
        job, by_error, errors = scored_rig
        # Score ranks 1, 3, 2, 4 against true-error ranks 1, 2, 3, 4: sum d^2 = 2, so
        # rho = 1 - 6 * 2 / (4 * (16 - 1)) = 0.8. The best two-thirds (round(8/3) = 3 lowest scores) are the
        # three lowest true errors, in another order; all four are kept in the "all" mean.
        scores = dict(zip(by_error, (1.0, 3.0, 2.0, 4.0)))
        truth = _report_with_scores(job, scores)["truth"]
        assert truth["spearman_2d"] == pytest.approx(0.8)
        true_2d = [errors[pk][0] for pk in by_error]
        assert truth["n_kept"] == 3
        assert truth["mean_true_2d_px"]["kept"] == pytest.approx(np.mean(true_2d[:3]))
        assert truth["mean_true_2d_px"]["all"] == pytest.approx(np.mean(true_2d))
        assert truth["mean_true_2d_px"]["kept"] < truth["mean_true_2d_px"]["all"]
        # Every skeleton of the tiny rig is S1's: the per-subject figure is the overall one.
        assert truth["per_subject"] == {"S1": {"n": 4, "spearman_2d": pytest.approx(0.8)}}
