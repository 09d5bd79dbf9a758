"""The job-progress websocket: only reviewers and admins (the rule of /api/jobs/), and it relays broadcasts."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from annotator.services.events import JOBS_GROUP, job_progress_broadcast
from api.routing import websocket_urlpatterns


def _communicator(user):
    app = URLRouter(websocket_urlpatterns)
    communicator = WebsocketCommunicator(app, "/ws/jobs/")
    communicator.scope["user"] = user
    return communicator


@pytest.mark.django_db(transaction=True)
class JobProgressConsumerTests:
    @pytest.mark.asyncio
    async def test_anonymous_is_rejected(self):
        communicator = _communicator(AnonymousUser())
        connected, code = await communicator.connect()
        assert not connected
        assert code == 4401

    @pytest.mark.asyncio
    @pytest.mark.parametrize("who", ["annotator", "other"])
    async def test_annotators_are_refused_and_hear_nothing(self, users, who):
        communicator = _communicator(users[who])
        connected, code = await communicator.connect()
        assert (connected, code) == (False, 4403)
        await sync_to_async(job_progress_broadcast)(job="score:demo", done=3, total=10, message="chunk 3")
        assert await communicator.receive_nothing(timeout=0.2)

    @pytest.mark.asyncio
    async def test_progress_reaches_the_browser(self, users):
        communicator = _communicator(users["reviewer"])
        connected, _ = await communicator.connect()
        assert connected
        await sync_to_async(job_progress_broadcast)(job="score:demo", done=3, total=10, message="chunk 3")
        assert await communicator.receive_json_from(timeout=5) == {
            "job": "score:demo", "done": 3, "total": 10, "message": "chunk 3", "state": "running",
        }  # fmt: skip
        await communicator.disconnect()


@pytest.mark.asyncio
async def test_channel_layer_group_round_trip():
    """Whatever layer is configured (in-memory or Redis) delivers group messages."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(JOBS_GROUP, channel)
    await layer.group_send(JOBS_GROUP, {"type": "job.progress", "done": 1})
    message = await layer.receive(channel)
    await layer.group_discard(JOBS_GROUP, channel)
    assert message["done"] == 1
