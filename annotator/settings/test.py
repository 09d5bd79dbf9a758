"""The test suite: fast password hashing, an isolated var/ directory, debug off as in production."""

import os
import tempfile
from pathlib import Path

from annotator.settings.base import *  # noqa: F403
from annotator.settings.base import ANNOTATOR, DATABASES
from annotator.settings.env import env_int

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A fresh folder per process, unless DJANGO_TEST_MEDIA_ROOT names one: a browser test's server and its worker are two
# processes that must see the same export files.
MEDIA_ROOT = Path(os.environ.get("DJANGO_TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="annotator-test-media-"))
ANNOTATOR = {**ANNOTATOR, "DATA_DIR": Path(tempfile.mkdtemp(prefix="annotator-test-data-"))}
# Static files come from the app directories through WhiteNoise's finders; nothing is collected.
STATIC_ROOT = None
# The in-process cache, emptied before each test (tests/conftest.py); the Redis cache of CI's second pass
# is exercised by the throttle test that asks for it (tests/api/test_security.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# In-process tests close connections after each use, as before: a connection kept by a websocket test's
# worker thread would outlive its test (and hold up the next one's database flush). Servers the tests start
# (tests/frontend/live.py) keep them, as deployments do.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DJANGO_CONN_MAX_AGE", 0)
