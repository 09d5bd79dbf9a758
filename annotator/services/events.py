"""Broadcasting domain events to the browsers over the channel layer.

Services call these after their transaction commits, so a browser never hears of a change that
was rolled back. The group names are defined here once and used by the consumers.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

JOBS_GROUP = "jobs"


def job_progress_broadcast(*, job: str, done: int, total: int, message: str = "", state: str = "running") -> None:
    """Tell every connected dashboard how far the background job ``job`` has come."""
    event = {"type": "job.progress", "job": job, "done": int(done), "total": int(total), "message": message,
             "state": state}  # fmt: skip
    layer = get_channel_layer()
    transaction.on_commit(lambda: async_to_sync(layer.group_send)(JOBS_GROUP, event))


def task_group(task_id: int) -> str:
    """The channel-layer group of everyone watching task ``task_id``."""
    return f"task-{int(task_id)}"


#: Event kinds sent to a task's group; each reaches the browser as ``{"type": kind, **data}``.
TASK_EVENT_KINDS = ("correction", "part", "status", "lock")


def task_event_broadcast(*, task_id: int, kind: str, data: dict) -> None:
    """Send ``data`` to everyone watching the task once the current transaction commits.

    The consumer's ``task_<kind>`` handler receives ``{"type": "task.<kind>", "data": data}``.
    """
    if kind not in TASK_EVENT_KINDS:
        raise ValueError(f"unknown task event {kind!r}; expected one of {TASK_EVENT_KINDS}")
    event = {"type": f"task.{kind}", "data": data}
    layer = get_channel_layer()
    transaction.on_commit(lambda: async_to_sync(layer.group_send)(task_group(task_id), event))
