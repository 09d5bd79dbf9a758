"""Websocket routes, named like HTTP routes so that pages get their paths from ``socket_path`` (a reverse).

``urlpatterns`` makes this module a URLconf of its own (Channels routes are Django ``path`` objects), which
is what ``django.urls.reverse`` needs; ``annotator.asgi`` routes ``websocket_urlpatterns``.
"""

from django.urls import path, reverse

from api import consumers

websocket_urlpatterns = [
    path("ws/jobs/", consumers.JobProgressConsumer.as_asgi(), name="jobs"),
    path("ws/tasks/<id:task_id>/", consumers.TaskConsumer.as_asgi(), name="task"),
]
urlpatterns = websocket_urlpatterns


def socket_path(name: str, **kwargs) -> str:
    """The path of the websocket route ``name`` with ``kwargs`` (``socket_path("task", task_id=7)`` is
    ``/ws/tasks/7/``)."""
    return reverse(name, urlconf=__name__, kwargs=kwargs or None)
