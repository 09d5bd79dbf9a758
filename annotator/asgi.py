"""ASGI entry point: HTTP goes to Django (its synchronous views in a pool of threads, so requests do not
queue behind one another: ``annotator.asgi_handler``), websockets to the Channels consumers in ``api.routing``.
``python manage.py serve`` runs it.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings.dev")
# Django must be set up before the consumers (and the models they import) are loaded.
django.setup(set_prefix=False)

from annotator.asgi_handler import ConcurrentASGIHandler  # noqa: E402
from annotator.conf import option  # noqa: E402

django_asgi_app = ConcurrentASGIHandler(threads=option("WEB_THREADS"))

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from api.routing import websocket_urlpatterns  # noqa: E402

# Import the URLconf, and with it every view and what the views import (numpy, torch for the ML endpoints),
# while the process starts rather than on its first request: Django loads it lazily, so each process that
# ``serve --workers N`` starts kept its first user waiting seconds while the others answered in milliseconds.
get_resolver().url_patterns  # noqa: B018

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
