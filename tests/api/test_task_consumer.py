"""The task websocket: who may connect, the edit lock, and live events reaching a read-only second client."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from rest_framework.test import APIClient

from annotator.models import Correction, TaskLock
from annotator.services.annotations import correction_create
from annotator.services.reviews import review_accept
from annotator.services.tasks import task_submit
from api.routing import websocket_urlpatterns

#: Editor session ids as session.js makes them (one per browser tab).
TAB_1, TAB_2 = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"


def _communicator(user, task_id, session: str | None = None):
    path = f"/ws/tasks/{task_id}/" + (f"?session={session}" if session else "")
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
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
        editor = _communicator(users["annotator"], task.pk, session=TAB_1)
        assert (await editor.connect())[0]
        assert await editor.receive_json_from(timeout=5) == {"type": "lock", "holder": "ann", "mine": True,
                                                             "can_edit": True}  # fmt: skip
        watcher = _communicator(users["reviewer"], task.pk)
        assert (await watcher.connect())[0]
        assert await watcher.receive_json_from(timeout=5) == {"type": "lock", "holder": "ann", "mine": False,
                                                              "can_edit": False}  # fmt: skip

        view = frames[0].views[0]
        await sync_to_async(correction_create)(task=task, user=users["annotator"], view=view.pk, keypoint=5, x=400.0,
                                               y=300.0, base_revision=0, editor_session=TAB_1)  # fmt: skip
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
        submitted = await sync_to_async(task_submit)(task=task, user=users["annotator"], base_revision=0)
        assert (await _receive_until(watcher, "status"))["status"] == "submitted"
        await sync_to_async(review_accept)(task=task, reviewer=users["reviewer"], base_revision=submitted.revision)
        assert (await _receive_until(watcher, "status"))["status"] == "accepted"
        editor = _communicator(users["annotator"], task.pk)
        assert (await editor.connect())[0]
        assert await editor.receive_json_from(timeout=5) == {"type": "lock", "holder": None, "mine": False,
                                                             "can_edit": False}  # fmt: skip
        await editor.send_json_to({"action": "dance"})
        assert (await editor.receive_json_from(timeout=5))["type"] == "error"
        await editor.disconnect()
        await watcher.disconnect()


@pytest.mark.django_db(transaction=True)
class EditorSessionTests:
    """The edit lock belongs to one editor session (one browser tab), not to the user."""

    @pytest.mark.asyncio
    async def test_two_tabs_of_one_user_one_edits_the_other_watches(self, task, frames, users):
        first = _communicator(users["annotator"], task.pk, session=TAB_1)
        assert (await first.connect())[0]
        assert (await first.receive_json_from(timeout=5))["mine"] is True
        second = _communicator(users["annotator"], task.pk, session=TAB_2)
        assert (await second.connect())[0]
        assert await second.receive_json_from(timeout=5) == {"type": "lock", "holder": "ann", "mine": False,
                                                             "can_edit": True}  # fmt: skip
        await second.send_json_to({"action": "acquire"})
        assert (await _receive_until(second, "lock"))["mine"] is False  # asking again does not steal it

        client = APIClient()
        client.force_authenticate(users["annotator"])
        body = {"view": frames[0].views[0].pk, "keypoint": 5, "x": 400.0, "y": 300.0, "base_revision": 0}
        url = f"/api/tasks/{task.pk}/corrections/"
        refused = await sync_to_async(client.post)(url, body, format="json", HTTP_X_EDITOR_SESSION=TAB_2)
        assert refused.status_code == 409 and "another window or tab of yours" in refused.json()["message"]
        assert not await sync_to_async(Correction.objects.exists)()
        done = await sync_to_async(client.post)(url, body, format="json", HTTP_X_EDITOR_SESSION=TAB_1)
        assert done.status_code == 201

        # The first tab closes: the second may take the lock, and the broadcast tells each tab whose it is.
        await first.disconnect()
        assert (await _receive_until(second, "lock"))["holder"] is None
        await second.send_json_to({"action": "acquire"})
        assert (await _receive_until(second, "lock"))["mine"] is True
        await second.disconnect()

    @pytest.mark.asyncio
    async def test_a_tab_that_reconnects_keeps_its_lock(self, task, users):
        """A server restart drops the socket without releasing the lock; the same tab takes it back at once."""
        first = _communicator(users["annotator"], task.pk, session=TAB_1)
        assert (await first.connect())[0]
        await first.receive_json_from(timeout=5)
        lock = await sync_to_async(TaskLock.objects.get)()
        again = _communicator(users["annotator"], task.pk, session=TAB_1)
        assert (await again.connect())[0]
        assert (await again.receive_json_from(timeout=5))["mine"] is True
        assert (await sync_to_async(TaskLock.objects.get)()).channel_name != lock.channel_name
        await again.disconnect()
        await first.disconnect()

    @pytest.mark.asyncio
    async def test_a_malformed_session_id_is_refused(self, task, users):
        connected, code = await _communicator(users["annotator"], task.pk, session="x%27%3Cbad").connect()
        assert (connected, code) == (False, 4400)


@pytest.mark.django_db(transaction=True)
class MessageLimitTests:
    """Websocket messages are parsed within the JSON limits: an error says why, and the socket stays usable."""

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        "message, reason",
        [
            ("[" * 1100 + "]" * 1100, "nested 1100 levels deep; the limit is 16"),
            ("[" * 3000 + "]" * 3000, "the limit is 4096 bytes"),
            ('{"action": ' + "[" * 40 + "]" * 40 + "}", "nested 41 levels deep; the limit is 16"),
            ('{"action": "x", "pad": "' + "y" * 5000 + '"}', "the limit is 4096 bytes"),
            ("{not json", "is not valid JSON"),
            ('{"action": NaN}', "not a JSON number"),
        ],
    )
    async def test_a_message_over_a_limit_gets_an_error_and_changes_nothing(self, task, users, message, reason):
        socket = _communicator(users["annotator"], task.pk, session=TAB_1)
        assert (await socket.connect())[0]
        await socket.receive_json_from(timeout=5)
        await socket.send_to(text_data=message)
        answer = await socket.receive_json_from(timeout=5)
        assert answer["type"] == "error" and reason in answer["message"], answer
        await socket.send_json_to({"action": "acquire"})
        assert (await _receive_until(socket, "lock"))["mine"] is True
        await socket.disconnect()

    @pytest.mark.asyncio
    async def test_a_binary_message_gets_an_error(self, task, users):
        socket = _communicator(users["annotator"], task.pk)
        assert (await socket.connect())[0]
        await socket.receive_json_from(timeout=5)
        await socket.send_to(bytes_data=b"\x00" * 10)
        assert (await socket.receive_json_from(timeout=5))["message"] == "send JSON text messages, not binary ones"
        await socket.disconnect()
