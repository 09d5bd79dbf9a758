"""Websocket routes."""

from django.urls import path

from api import consumers

websocket_urlpatterns = [
    path("ws/jobs/", consumers.JobProgressConsumer.as_asgi()),
    path("ws/tasks/<id:task_id>/", consumers.TaskConsumer.as_asgi()),
]
