"""Task lists as people browse them: an annotator's own tasks, and the reviewers' queue of everybody's.

Both are one query over the tasks the user may see (``access.tasks_visible_to``: annotators their own, reviewers and
admins all), narrowed by ``TaskFilters`` (status, kind, dataset, study, assignee) and put in one of
``TASK_SORTS``' orders. The filters' choices (``task_filter_choices``) come from the same visible tasks,
so a list never offers a study or an annotator the user cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, QuerySet, Value, When

from annotator import access
from annotator.models import Task

#: Orders a task list can be shown in: name -> (label, order_by fields). ``queue`` is the order in which
#: "Start next" hands tasks out (services.tasks.QUEUE_ORDER: rejected, in progress, to do; then priority).
TASK_SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "queue": ("queue order", ("queue_rank", "priority", "id")),
    "updated": ("last changed first", ("-updated_at", "-id")),
    "submitted": ("submitted first", ("submitted_at", "id")),
    "frame": ("frame", ("frame__sequence__subject__dataset__name", "frame__sequence__subject__name",
                        "frame__sequence__action", "frame__index", "id")),
    "id": ("task number", ("id",)),
}  # fmt: skip
DEFAULT_SORT = "queue"
#: The queue order of statuses (then every other status after them).
_QUEUE_RANK = (Task.Status.REJECTED, Task.Status.IN_PROGRESS, Task.Status.TODO, Task.Status.SUBMITTED)


@dataclass(frozen=True)
class TaskFilters:
    """What a task list is narrowed to; ``None`` means "any"."""

    status: str | None = None
    kind: str | None = None
    dataset: str | None = None
    study: int | None = None
    assignee: str | None = None
    sort: str = DEFAULT_SORT


def task_rows(*, user, filters: TaskFilters) -> QuerySet[Task]:
    """The visible tasks matching ``filters``, in ``filters.sort``'s order, with what a list row shows.

    Rows carry their frame (sequence, subject, dataset), assignee, study and reviewer, and ``n_corrections``.
    An unknown sort raises ``ValueError`` (the page's form offers only ``TASK_SORTS``).
    """
    if filters.sort not in TASK_SORTS:
        raise ValueError(f"unknown sort {filters.sort!r}; use one of {', '.join(TASK_SORTS)}")
    tasks = access.tasks_visible_to(user=user)
    if filters.status:
        tasks = tasks.filter(status=filters.status)
    if filters.kind:
        tasks = tasks.filter(kind=filters.kind)
    if filters.dataset:
        tasks = tasks.filter(frame__sequence__subject__dataset__name=filters.dataset)
    if filters.study is not None:
        tasks = tasks.filter(study_id=filters.study)
    if filters.assignee:
        tasks = tasks.filter(assignee__username=filters.assignee)
    rank = Case(
        *[When(status=s, then=Value(i)) for i, s in enumerate(_QUEUE_RANK)],
        default=Value(len(_QUEUE_RANK)),
        output_field=IntegerField(),
    )
    return (
        tasks.select_related("frame__sequence__subject__dataset", "assignee", "study", "reviewed_by")
        .annotate(n_corrections=Count("corrections", distinct=True), queue_rank=rank)
        .order_by(*TASK_SORTS[filters.sort][1])
    )


def task_filter_choices(*, user) -> dict[str, list]:
    """The values the filters of ``user``'s task lists can take, from the tasks they may see.

    ``{"statuses": [(value, label)], "kinds": [(value, label)], "datasets": [name], "studies": [(id, name)],
    "assignees": [username]}``; ``assignees`` is empty for annotators (their list is their own).
    """
    tasks = access.tasks_visible_to(user=user)
    studies = (
        tasks.filter(study__isnull=False).values_list("study_id", "study__name").distinct().order_by("study__name")
    )
    datasets = tasks.values_list("frame__sequence__subject__dataset__name", flat=True).distinct()
    assignees = tasks.values_list("assignee__username", flat=True).distinct() if access.reviews(user) else []
    return {
        "statuses": list(Task.Status.choices),
        "kinds": list(Task.Kind.choices),
        "datasets": sorted(set(datasets)),
        "studies": list(studies),
        "assignees": sorted(set(assignees)),
    }


def review_comment_shown(task: Task) -> bool:
    """Whether the annotator still has to read the reviewer's comment: the task was sent back and has not
    been handed in again (rejected, or in progress after the rejection)."""
    return bool(task.review_comment) and task.status in (Task.Status.REJECTED, Task.Status.IN_PROGRESS)
