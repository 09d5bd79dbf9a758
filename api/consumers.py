"""Websocket consumers: join a group, relay its events to the browser. No logic beyond that."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from annotator import selectors
from annotator.exceptions import NotFoundError
from annotator.models import Task
from annotator.services import tasks as services
from annotator.services.events import JOBS_GROUP, task_group


class JobProgressConsumer(AsyncJsonWebsocketConsumer):
    """Streams background-job progress (``job.progress`` events) to signed-in users."""

    async def connect(self):
        if not self.scope["user"].is_authenticated:
            await self.close(code=4401)
            return
        await self.channel_layer.group_add(JOBS_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(JOBS_GROUP, self.channel_name)

    async def job_progress(self, event):
        await self.send_json({key: value for key, value in event.items() if key != "type"})


class TaskConsumer(AsyncJsonWebsocketConsumer):
    """One task's live channel: the edit lock (heartbeat/acquire/release) and the task's events.

    The assignee of an editable task takes the edit lock on connect; everyone else who may see the
    task watches read-only. Events come from the services, after their transactions commit.
    """

    async def connect(self):
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close(code=4401)
            return
        self.task_id = int(self.scope["url_route"]["kwargs"]["task_id"])
        self.task = await _task_for(user, self.task_id)
        if self.task is None:
            await self.close(code=4404)
            return
        # Take the lock before joining the group: the others hear of it, this browser gets it below.
        state = await _acquire(self.task, user, self.channel_name)
        self.group = task_group(self.task_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "lock", **state})

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await _release(self.channel_name)

    async def receive_json(self, content, **kwargs):
        action = content.get("action") if isinstance(content, dict) else None
        user = self.scope["user"]
        if action == "heartbeat":
            if not await _heartbeat(self.task, self.channel_name):
                await self.send_json({"type": "lock", **await _lock_state(self.task, user)})
        elif action == "acquire":
            await self.send_json({"type": "lock", **await _acquire(self.task, user, self.channel_name)})
        elif action == "release":
            await _release(self.channel_name)
        else:
            await self.send_json({"type": "error", "message": f"unknown action {action!r}; use {TASK_ACTIONS}"})

    async def task_correction(self, event):
        await self.send_json({"type": "correction", **event["data"]})

    async def task_part(self, event):
        await self.send_json({"type": "part", **event["data"]})

    async def task_status(self, event):
        await self.send_json({"type": "status", **event["data"]})

    async def task_lock(self, event):
        data = event["data"]
        me = self.scope["user"].username
        editable = data["status"] in Task.EDITABLE_STATUSES
        await self.send_json(
            {"type": "lock", "holder": data["holder"], "mine": data["holder"] == me,
             "can_edit": data["assignee"] == me and editable}
        )  # fmt: skip


TASK_ACTIONS = "heartbeat, acquire, release"


@database_sync_to_async
def _task_for(user, task_id: int):
    try:
        return selectors.task_get_for(user=user, task_id=task_id)
    except NotFoundError:
        return None


@database_sync_to_async
def _lock_state(task, user) -> dict:
    task.refresh_from_db(fields=["status"])
    state = selectors.task_lock_state(task=task, user=user)
    return {**state, "can_edit": task.assignee_id == user.pk and task.is_editable}


@database_sync_to_async
def _acquire(task, user, channel_name: str) -> dict:
    task.refresh_from_db(fields=["status"])
    if task.assignee_id == user.pk and task.is_editable:
        services.task_lock_acquire(task=task, user=user, channel_name=channel_name)
    state = selectors.task_lock_state(task=task, user=user)
    return {**state, "can_edit": task.assignee_id == user.pk and task.is_editable}


@database_sync_to_async
def _heartbeat(task, channel_name: str) -> bool:
    return services.task_lock_heartbeat(task=task, channel_name=channel_name)


@database_sync_to_async
def _release(channel_name: str) -> None:
    services.task_lock_release(channel_name=channel_name)
