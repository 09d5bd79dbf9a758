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
