"""Production: debug off, the secret key from the environment, HTTPS-only cookies and HSTS.

``python manage.py check --deploy --settings=annotator.settings.prod`` passes with these values.
"""

from annotator.settings.base import *  # noqa: F403
from annotator.settings.base import STORAGES
from annotator.settings.env import env_bool, env_int, env_required

DEBUG = False
SECRET_KEY = env_required("DJANGO_SECRET_KEY")

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True

WHITENOISE_USE_FINDERS = False
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
