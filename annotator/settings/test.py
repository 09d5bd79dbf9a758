"""The test suite: fast password hashing, an isolated var/ directory, debug off as in production."""

import os
import tempfile
from pathlib import Path

from annotator.settings.base import *  # noqa: F403
from annotator.settings.base import ANNOTATOR

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A fresh folder per process, unless DJANGO_TEST_MEDIA_ROOT names one: a browser test's server and its worker are two
# processes that must see the same export files.
MEDIA_ROOT = Path(os.environ.get("DJANGO_TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="annotator-test-media-"))
ANNOTATOR = {**ANNOTATOR, "DATA_DIR": Path(tempfile.mkdtemp(prefix="annotator-test-data-"))}
# Static files come from the app directories through WhiteNoise's finders; nothing is collected.
STATIC_ROOT = None
