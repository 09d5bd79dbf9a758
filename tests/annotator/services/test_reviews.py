"""Reviews: only reviewers and admins, only submitted tasks, never one's own; a review carries the revision the
reviewer saw and is refused with the current state when the task changed since; a rejection needs a comment
and reopens the task."""

from __future__ import annotations

import pytest

from annotator import roles
from annotator.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from annotator.models import Task
from annotator.services.annotations import correction_create
from annotator.services.reviews import MAX_COMMENT_CHARS, REJECT_NEEDS_COMMENT, review_accept, review_reject
from annotator.services.tasks import task_create, task_start_next, task_submit
from annotator.services.users import user_ensure


def _submitted(task, users):
    return task_submit(task=task, user=users["annotator"], base_revision=task.revision)


@pytest.mark.django_db
class ReviewAcceptTests:
    @pytest.mark.parametrize("who", ["reviewer", "admin"])
    def test_reviewers_and_admins_accept(self, task, users, who):
        task = _submitted(task, users)
        task = review_accept(task=task, reviewer=users[who], comment=" fine ", base_revision=task.revision)
        assert (task.status, task.review_comment, task.reviewed_by) == (Task.Status.ACCEPTED, "fine", users[who])
        assert task.reviewed_at is not None

    @pytest.mark.parametrize("who", ["annotator", "other"])
    def test_annotators_may_not_review(self, task, users, who):
        task = _submitted(task, users)
        with pytest.raises(PermissionDeniedError, match="only reviewers and admins"):
            review_accept(task=task, reviewer=users[who], base_revision=task.revision)

    def test_only_submitted_tasks(self, task, users):
        with pytest.raises(ApplicationError, match="only submitted tasks can be reviewed"):
            review_accept(task=task, reviewer=users["reviewer"], base_revision=task.revision)
        task = _submitted(task, users)
        task = review_accept(task=task, reviewer=users["reviewer"], base_revision=task.revision)
        with pytest.raises(ApplicationError, match="is accepted"):
            review_reject(task=task, reviewer=users["reviewer"], comment="no", base_revision=task.revision)

    def test_a_stale_revision_is_a_conflict_with_the_current_state_and_changes_nothing(self, task, frames, users):
        """The reviewer loaded revision r and rejected; the annotator changed the task and resubmitted; accepting
        with r would accept work nobody looked at."""
        seen = _submitted(task, users)
        rejected = review_reject(task=seen, reviewer=users["reviewer"], comment="elbow", base_revision=seen.revision)
        resumed = task_start_next(user=users["annotator"])
        correction_create(task=resumed, user=users["annotator"], view=frames[0].views[0].pk, keypoint=7, x=420.0,
                          y=310.0, base_revision=resumed.revision)  # fmt: skip
        resubmitted = _submitted(Task.objects.get(pk=task.pk), users)
        with pytest.raises(ConflictError, match=f"you reviewed revision {rejected.revision}") as caught:
            review_accept(task=resubmitted, reviewer=users["reviewer"], base_revision=rejected.revision)
        assert caught.value.extra["current_revision"] == resubmitted.revision
        assert caught.value.extra["state"]["status"] == Task.Status.SUBMITTED
        assert Task.objects.get(pk=task.pk).status == Task.Status.SUBMITTED
        accepted = review_accept(task=resubmitted, reviewer=users["reviewer"], base_revision=resubmitted.revision)
        assert accepted.status == Task.Status.ACCEPTED

    def test_a_review_without_a_revision_is_refused(self, task, users):
        task = _submitted(task, users)
        with pytest.raises(ApplicationError, match="base_revision is required"):
            review_accept(task=task, reviewer=users["reviewer"], base_revision=None)

    @pytest.mark.parametrize("review", ["accept", "reject"])
    def test_nobody_reviews_their_own_work(self, frames, users, review):
        """A reviewer listed as one of a study's annotators gets tasks; they cannot accept (or reject) them."""
        both = user_ensure(username="rev-ann", password="pw-rev-ann-1", role=roles.REVIEWER)[0]
        task = task_create(frame=frames[1].frame, assignee=both)
        task = task_submit(task=task, user=both, base_revision=task.revision)
        call = review_accept if review == "accept" else review_reject
        extra = {"comment": "looks fine to me"} if review == "reject" else {}
        with pytest.raises(PermissionDeniedError, match="cannot review your own work"):
            call(task=task, reviewer=both, base_revision=task.revision, **extra)
        assert Task.objects.get(pk=task.pk).status == Task.Status.SUBMITTED
        assert review_accept(task=task, reviewer=users["reviewer"], base_revision=task.revision).status == "accepted"


@pytest.mark.django_db
class ReviewRejectTests:
    def test_reject_needs_a_comment(self, task, users):
        task = _submitted(task, users)
        with pytest.raises(ApplicationError, match=REJECT_NEEDS_COMMENT):
            review_reject(task=task, reviewer=users["reviewer"], comment="  ", base_revision=task.revision)
        task.refresh_from_db()
        assert task.status == Task.Status.SUBMITTED

    def test_a_comment_over_the_limit_is_refused(self, task, users):
        task = _submitted(task, users)
        with pytest.raises(ApplicationError, match=f"the limit is {MAX_COMMENT_CHARS}"):
            review_reject(task=task, reviewer=users["reviewer"], comment="x" * (MAX_COMMENT_CHARS + 1),
                          base_revision=task.revision)  # fmt: skip

    def test_rejected_task_returns_to_the_queue_and_continues(self, task, frames, users):
        d = frames[0]
        correction_create(task=task, user=users["annotator"], view=d.views[0].pk, keypoint=5, x=400.0, y=300.0,
                          base_revision=0)  # fmt: skip
        task.refresh_from_db()
        submitted = _submitted(task, users)
        first = submitted.result_skeleton
        task = review_reject(task=task, reviewer=users["reviewer"], comment="check the elbow",
                             base_revision=submitted.revision)  # fmt: skip
        assert task.status == Task.Status.REJECTED
        resumed = task_start_next(user=users["annotator"])
        assert (resumed.pk, resumed.status, resumed.review_comment) == (task.pk, "in_progress", "check the elbow")
        result = correction_create(task=resumed, user=users["annotator"], view=d.views[1].pk, keypoint=5, x=410.0,
                                   y=310.0, base_revision=resumed.revision)  # fmt: skip
        assert result.correction.revision == resumed.revision + 1
        second = _submitted(Task.objects.get(pk=task.pk), users).result_skeleton
        assert second.version == first.version + 1
