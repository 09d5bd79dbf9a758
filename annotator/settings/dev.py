"""Local development and the demo: the base settings; debug pages only for developers who ask for them.

``make demo`` and ``make serve`` run with DEBUG off, so a 500 never shows a traceback with settings to
whoever caused it (WhiteNoise serves the static files either way). ``DJANGO_DEBUG=1`` turns it on.
"""

from annotator.settings.base import *  # noqa: F403
from annotator.settings.env import env_bool

DEBUG = env_bool("DJANGO_DEBUG", False)
