"""Local development and the demo: debug on unless DJANGO_DEBUG says otherwise."""

from annotator.settings.base import *  # noqa: F403
from annotator.settings.env import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
