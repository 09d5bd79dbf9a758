"""Reviews: a reviewer accepts a submitted task, or rejects it back into the annotator's queue with a comment.

A review is a write like any other: it carries the revision the reviewer saw (``base_revision``) and is
refused with 409 and the current state when the task has changed since, so nobody accepts work they did
not look at. Nobody reviews their own work: the task's assignee (a reviewer who is also one of a study's
annotators, say) is refused.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from annotator import access, selectors
from annotator.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from annotator.models import Task
from annotator.services.tasks import task_bump, task_lock_for_write, task_status_broadcast

REJECT_NEEDS_COMMENT = "a rejection needs a comment that tells the annotator what to fix"
#: Longest review comment, characters.
MAX_COMMENT_CHARS = 10_000
OWN_WORK = "you cannot review your own work: task {task} is assigned to you; another reviewer must review it"


def _review(task: Task, reviewer, status: str, comment: str, base_revision: int | None) -> Task:
    if not access.reviews(reviewer):
        raise PermissionDeniedError("only reviewers and admins can review tasks")
    if base_revision is None:
        raise ApplicationError(
            "base_revision is required: send the revision of the task you reviewed", extra={"field": "base_revision"}
        )
    if len(comment) > MAX_COMMENT_CHARS:
        raise ApplicationError(
            f"the comment is {len(comment)} characters; the limit is {MAX_COMMENT_CHARS}", extra={"field": "comment"}
        )
    task = task_lock_for_write(task)
    if task.assignee_id == reviewer.pk:
        raise PermissionDeniedError(OWN_WORK.format(task=task.pk))
    if base_revision != task.revision:
        raise ConflictError(
            f"task {task.pk} has changed since you loaded it: you reviewed revision {base_revision}, the task is "
            f"at revision {task.revision} ({task.status}); look at it again before you decide",
            extra={"current_revision": task.revision, "state": selectors.task_editor_payload(task=task, user=reviewer)},
        )
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
def review_accept(*, task: Task, reviewer, base_revision: int | None, comment: str = "") -> Task:
    """Accept a submitted task at ``base_revision`` (the revision the reviewer saw): its corrected skeleton stands."""
    return _review(task, reviewer, Task.Status.ACCEPTED, comment.strip(), base_revision)


@transaction.atomic
def review_reject(*, task: Task, reviewer, comment: str, base_revision: int | None) -> Task:
    """Send a submitted task (at ``base_revision``) back to its annotator, who continues from where the
    corrections were."""
    comment = (comment or "").strip()
    if not comment:
        raise ApplicationError(REJECT_NEEDS_COMMENT, extra={"field": "comment"})
    return _review(task, reviewer, Task.Status.REJECTED, comment, base_revision)
