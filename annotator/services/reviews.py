"""Reviews: a reviewer accepts a submitted task, or rejects it back into the annotator's queue with a comment."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from annotator import roles
from annotator.exceptions import ApplicationError, PermissionDeniedError
from annotator.models import Task
from annotator.services.tasks import task_bump, task_lock_for_write, task_status_broadcast

REJECT_NEEDS_COMMENT = "a rejection needs a comment that tells the annotator what to fix"


def _review(task: Task, reviewer, status: str, comment: str) -> Task:
    if roles.user_role(reviewer) not in (roles.REVIEWER, roles.ADMIN):
        raise PermissionDeniedError("only reviewers and admins can review tasks")
    task = task_lock_for_write(task)
    if task.status != Task.Status.SUBMITTED:
        raise ApplicationError(f"task {task.pk} is {task.status}; only submitted tasks can be reviewed")
    task.status = status
    task.review_comment = comment
    task.reviewed_by = reviewer
    task.reviewed_at = timezone.now()
    task_bump(task, fields=("status", "review_comment", "reviewed_by", "reviewed_at"))
    task_status_broadcast(task)
    return task


@transaction.atomic
def review_accept(*, task: Task, reviewer, comment: str = "") -> Task:
    """Accept a submitted task: its corrected skeleton stands."""
    return _review(task, reviewer, Task.Status.ACCEPTED, comment.strip())


@transaction.atomic
def review_reject(*, task: Task, reviewer, comment: str) -> Task:
    """Send a submitted task back to its annotator, who continues from where the corrections were."""
    comment = (comment or "").strip()
    if not comment:
        raise ApplicationError(REJECT_NEEDS_COMMENT, extra={"field": "comment"})
    return _review(task, reviewer, Task.Status.REJECTED, comment)
