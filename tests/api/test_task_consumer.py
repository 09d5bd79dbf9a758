"""The task websocket: who may connect, the edit lock, and live events reaching a read-only second client."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from annotator.models import TaskLock
from annotator.services.annotations import correction_create
from annotator.services.reviews import review_accept
from annotator.services.tasks import task_submit
from api.routing import websocket_urlpatterns


def _communicator(user, task_id):
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/tasks/{task_id}/")
    communicator.scope["user"] = user
    return communicator


async def _receive_until(communicator, kind):
    """The next message of type ``kind``, skipping others (lock broadcasts may interleave)."""
    for _ in range(10):
        message = await communicator.receive_json_from(timeout=5)
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


@pytest.mark.django_db(transaction=True)
class TaskConsumerTests:
    @pytest.mark.asyncio
    async def test_anonymous_is_rejected(self, task):
        connected, code = await _communicator(AnonymousUser(), task.pk).connect()
        assert (connected, code) == (False, 4401)

    @pytest.mark.asyncio
    async def test_another_annotator_is_rejected(self, task, users):
        connected, code = await _communicator(users["other"], task.pk).connect()
        assert (connected, code) == (False, 4404)

    @pytest.mark.asyncio
    async def test_assignee_locks_a_reviewer_watches_live(self, task, frames, users):
        editor = _communicator(users["annotator"], task.pk)
        assert (await editor.connect())[0]
        assert await editor.receive_json_from(timeout=5) == {"type": "lock", "holder": "ann", "mine": True,
                                                             "can_edit": True}  # fmt: skip
        watcher = _communicator(users["reviewer"], task.pk)
        assert (await watcher.connect())[0]
        assert await watcher.receive_json_from(timeout=5) == {"type": "lock", "holder": "ann", "mine": False,
                                                              "can_edit": False}  # fmt: skip

        view = frames[0].views[0]
        await sync_to_async(correction_create)(task=task, user=users["annotator"], view=view.pk, keypoint=5, x=400.0,
                                               y=300.0, base_revision=0)  # fmt: skip
        for client in (watcher, editor):
            message = await _receive_until(client, "correction")
            assert (message["revision"], message["author"], message["correction"]["keypoint"]) == (1, "ann", 5)
            assert len(message["point_3d"]) == 3 and str(view.pk) in message["reprojections"]
            status = await _receive_until(client, "status")
            assert status["status"] == "in_progress"

        await editor.send_json_to({"action": "heartbeat"})
        await editor.send_json_to({"action": "release"})
        released = await _receive_until(watcher, "lock")
        assert (released["holder"], released["mine"]) == (None, False)
        assert (await _receive_until(editor, "lock"))["holder"] is None  # its own release, broadcast
        await editor.send_json_to({"action": "acquire"})
        assert (await _receive_until(editor, "lock"))["mine"] is True
        assert (await _receive_until(watcher, "lock"))["holder"] == "ann"
        await editor.disconnect()
        released = await _receive_until(watcher, "lock")
        assert released["holder"] is None
        assert not await sync_to_async(TaskLock.objects.exists)()
        await watcher.disconnect()

    @pytest.mark.asyncio
    async def test_status_events_and_read_only_after_submit(self, task, users):
        watcher = _communicator(users["reviewer"], task.pk)
        assert (await watcher.connect())[0]
        await watcher.receive_json_from(timeout=5)
        await sync_to_async(task_submit)(task=task, user=users["annotator"], base_revision=0)
        assert (await _receive_until(watcher, "status"))["status"] == "submitted"
        await sync_to_async(review_accept)(task=task, reviewer=users["reviewer"])
        assert (await _receive_until(watcher, "status"))["status"] == "accepted"
        editor = _communicator(users["annotator"], task.pk)
        assert (await editor.connect())[0]
        assert await editor.receive_json_from(timeout=5) == {"type": "lock", "holder": None, "mine": False,
                                                             "can_edit": False}  # fmt: skip
        await editor.send_json_to({"action": "dance"})
        assert (await editor.receive_json_from(timeout=5))["type"] == "error"
        await editor.disconnect()
        await watcher.disconnect()
