"""Websocket consumers: join a group, relay its events to the browser. No logic beyond that.

Every message a browser sends is parsed with the same bounded-cost JSON reader as HTTP bodies
(``annotator.jsonlimits``: size, depth, values); a message over a limit or not JSON is answered with an
``{"type": "error", "message": ...}`` that says why, and the connection stays open.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from annotator import access, jsonlimits, selectors
from annotator.conf import option
from annotator.exceptions import NotFoundError
from annotator.models import Task
from annotator.services import tasks as services
from annotator.services.events import JOBS_GROUP, task_group

#: Close codes: not signed in, not allowed (a role that may not follow jobs), no such task, bad request.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_BAD_REQUEST = 4400
#: An editor session id (``?session=``): what frontend/static/frontend/js/session.js makes.
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


def message_limits() -> jsonlimits.JSONLimits:
    """The limits of one websocket message from a browser."""
    return jsonlimits.JSONLimits(
        max_bytes=option("WEBSOCKET_MESSAGE_MAX_BYTES"),
        max_depth=option("JSON_MAX_DEPTH"),
        max_items=option("JSON_MAX_ITEMS"),
    )


class LimitedJsonWebsocketConsumer(AsyncJsonWebsocketConsumer):
    """``AsyncJsonWebsocketConsumer`` whose incoming messages are parsed within ``message_limits()``."""

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            await self.send_json({"type": "error", "message": "send JSON text messages, not binary ones"})
            return
        try:
            content = jsonlimits.loads(text_data, message_limits(), what="the message")
        except jsonlimits.JSONLimitError as exc:
            await self.send_json({"type": "error", "message": str(exc)})
            return
        await self.receive_json(content, **kwargs)


class JobProgressConsumer(LimitedJsonWebsocketConsumer):
    """Streams background-job progress (``job.progress`` events) to reviewers and admins, who alone may
    see jobs (the same rule as ``/api/jobs/``)."""

    async def connect(self):
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await _sees_jobs(user):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(JOBS_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(JOBS_GROUP, self.channel_name)

    async def job_progress(self, event):
        await self.send_json({key: value for key, value in event.items() if key != "type"})


class TaskConsumer(LimitedJsonWebsocketConsumer):
    """One task's live channel: the edit lock (heartbeat/acquire/release) and the task's events.

    The assignee of an editable task takes the edit lock on connect, for the editor session named in the
    URL (``?session=<id>``, one browser tab; without it, this connection alone); everyone else who may
    see the task, and any other session of the assignee (a second tab), watches read-only. Events come
    from the services, after their transactions commit.
    """

    async def connect(self):
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        session = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("session", [""])[-1]
        if session and not SESSION_ID.fullmatch(session):
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        self.session = session or self.channel_name
        self.task_id = int(self.scope["url_route"]["kwargs"]["task_id"])
        self.task = await _task_for(user, self.task_id)
        if self.task is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        # Take the lock before joining the group: the others hear of it, this browser gets it below.
        state = await _acquire(self.task, user, self.channel_name, self.session)
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
                await self.send_json({"type": "lock", **await _lock_state(self.task, user, self.session)})
        elif action == "acquire":
            await self.send_json({"type": "lock", **await _acquire(self.task, user, self.channel_name, self.session)})
        elif action == "release":
            await _release(self.channel_name)
        else:
            shown = action if isinstance(action, str | None) and len(action or "") <= 40 else "?"
            await self.send_json({"type": "error", "message": f"unknown action {shown!r}; use {TASK_ACTIONS}"})

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
        mine = data["holder"] is not None and data["holder"] == me and data.get("session") == self.session
        await self.send_json(
            {"type": "lock", "holder": data["holder"], "mine": mine, "can_edit": data["assignee"] == me and editable}
        )


TASK_ACTIONS = "heartbeat, acquire, release"


@database_sync_to_async
def _sees_jobs(user) -> bool:
    return access.reviews(user)


@database_sync_to_async
def _task_for(user, task_id: int):
    try:
        return selectors.task_get_for(user=user, task_id=task_id)
    except NotFoundError:
        return None


@database_sync_to_async
def _lock_state(task, user, session: str) -> dict:
    task.refresh_from_db(fields=["status"])
    state = selectors.task_lock_state(task=task, user=user, editor_session=session)
    return {**state, "can_edit": access.task_editable_by(user=user, task=task)}


@database_sync_to_async
def _acquire(task, user, channel_name: str, session: str) -> dict:
    task.refresh_from_db(fields=["status"])
    if access.task_editable_by(user=user, task=task):
        services.task_lock_acquire(task=task, user=user, channel_name=channel_name, session=session)
    state = selectors.task_lock_state(task=task, user=user, editor_session=session)
    return {**state, "can_edit": access.task_editable_by(user=user, task=task)}


@database_sync_to_async
def _heartbeat(task, channel_name: str) -> bool:
    return services.task_lock_heartbeat(task=task, channel_name=channel_name)


@database_sync_to_async
def _release(channel_name: str) -> None:
    services.task_lock_release(channel_name=channel_name)
