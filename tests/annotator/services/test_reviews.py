"""Reviews: only reviewers and admins, only submitted tasks; a rejection needs a comment and reopens the task."""

from __future__ import annotations

import pytest

from annotator.exceptions import ApplicationError, PermissionDeniedError
from annotator.models import Task
from annotator.services.annotations import correction_create
from annotator.services.reviews import REJECT_NEEDS_COMMENT, review_accept, review_reject
from annotator.services.tasks import task_start_next, task_submit


def _submitted(task, users):
    return task_submit(task=task, user=users["annotator"], base_revision=task.revision)


@pytest.mark.django_db
class ReviewAcceptTests:
    @pytest.mark.parametrize("who", ["reviewer", "admin"])
    def test_reviewers_and_admins_accept(self, task, users, who):
        task = review_accept(task=_submitted(task, users), reviewer=users[who], comment=" fine ")
        assert (task.status, task.review_comment, task.reviewed_by) == (Task.Status.ACCEPTED, "fine", users[who])
        assert task.reviewed_at is not None

    @pytest.mark.parametrize("who", ["annotator", "other"])
    def test_annotators_may_not_review(self, task, users, who):
        with pytest.raises(PermissionDeniedError, match="only reviewers and admins"):
            review_accept(task=_submitted(task, users), reviewer=users[who])

    def test_only_submitted_tasks(self, task, users):
        with pytest.raises(ApplicationError, match="only submitted tasks can be reviewed"):
            review_accept(task=task, reviewer=users["reviewer"])
        review_accept(task=_submitted(task, users), reviewer=users["reviewer"])
        with pytest.raises(ApplicationError, match="is accepted"):
            review_reject(task=task, reviewer=users["reviewer"], comment="no")


@pytest.mark.django_db
class ReviewRejectTests:
    def test_reject_needs_a_comment(self, task, users):
        with pytest.raises(ApplicationError, match=REJECT_NEEDS_COMMENT):
            review_reject(task=_submitted(task, users), reviewer=users["reviewer"], comment="  ")
        task.refresh_from_db()
        assert task.status == Task.Status.SUBMITTED

    def test_rejected_task_returns_to_the_queue_and_continues(self, task, frames, users):
        d = frames[0]
        correction_create(task=task, user=users["annotator"], view=d.views[0].pk, keypoint=5, x=400.0, y=300.0,
                          base_revision=0)  # fmt: skip
        task.refresh_from_db()
        first = _submitted(task, users).result_skeleton
        task = review_reject(task=task, reviewer=users["reviewer"], comment="check the elbow")
        assert task.status == Task.Status.REJECTED
        resumed = task_start_next(user=users["annotator"])
        assert (resumed.pk, resumed.status, resumed.review_comment) == (task.pk, "in_progress", "check the elbow")
        result = correction_create(task=resumed, user=users["annotator"], view=d.views[1].pk, keypoint=5, x=410.0,
                                   y=310.0, base_revision=resumed.revision)  # fmt: skip
        assert result.correction.revision == resumed.revision + 1
        second = _submitted(Task.objects.get(pk=task.pk), users).result_skeleton
        assert second.version == first.version + 1
