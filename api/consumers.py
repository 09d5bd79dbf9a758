"""Websocket consumers: join a group, relay its events to the browser. No logic beyond that."""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from annotator.services.events import JOBS_GROUP


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
