"""The test suite: fast password hashing, an isolated var/ directory, debug off as in production."""

import tempfile
from pathlib import Path

from annotator.settings.base import *  # noqa: F403
from annotator.settings.base import ANNOTATOR

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="annotator-test-media-"))
ANNOTATOR = {**ANNOTATOR, "DATA_DIR": Path(tempfile.mkdtemp(prefix="annotator-test-data-"))}
# Static files come from the app directories through WhiteNoise's finders; nothing is collected.
STATIC_ROOT = None
# The in-process cache, emptied before each test (tests/conftest.py); the Redis cache of CI's second pass
# is exercised by the throttle test that asks for it (tests/api/test_security.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
