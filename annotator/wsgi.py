"""WSGI entry point, for management tooling and servers without websockets."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings.dev")
application = get_wsgi_application()
