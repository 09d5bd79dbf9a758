"""Settings switch backends on the environment alone: SQLite vs PostgreSQL, in-memory vs Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); print(json.dumps({"
    "'engine': settings.DATABASES['default']['ENGINE'], 'name': str(settings.DATABASES['default']['NAME']), "
    "'host': settings.DATABASES['default'].get('HOST', ''), "
    "'layer': settings.CHANNEL_LAYERS['default']['BACKEND'], 'tasks': settings.TASKS['default']['BACKEND'], "
    "'apps': settings.INSTALLED_APPS, 'debug': settings.DEBUG, 'hosts': settings.ALLOWED_HOSTS, "
    "'media': str(settings.MEDIA_ROOT), 'rq': getattr(settings, 'RQ_QUEUES', None), "
    "'cache': settings.CACHES['default']['BACKEND'], 'proxies': settings.REST_FRAMEWORK['NUM_PROXIES'], "
    "'password_rate': settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['password'], "
    "'conn_max_age': settings.DATABASES['default']['CONN_MAX_AGE']}))"
)


def _settings(module: str = "annotator.settings.dev", **env: str) -> dict:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    clean.update(env, DJANGO_SETTINGS_MODULE=module)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )
    if result.returncode:
        raise RuntimeError(result.stderr.strip().splitlines()[-1])
    return json.loads(result.stdout)


def test_embedded_defaults():
    s = _settings()
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"].endswith("var/db.sqlite3")
    assert s["layer"] == "channels.layers.InMemoryChannelLayer"
    assert s["tasks"] == "django_tasks_db.DatabaseBackend"
    assert "django_tasks_db" in s["apps"] and "django_tasks_rq" not in s["apps"]
    # make demo / make serve: no debug pages unless a developer asks (DJANGO_DEBUG=1).
    assert s["debug"] is False
    assert s["media"].endswith("var/media")
    # Throttles key on the TCP peer; the one web process keeps its counts in memory.
    assert (s["proxies"], s["password_rate"]) == (0, "20/min")
    assert s["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert s["conn_max_age"] == 60


def test_debug_pages_only_when_asked():
    assert _settings(DJANGO_DEBUG="1")["debug"] is True


def test_proxies_and_password_rate_from_the_environment():
    s = _settings(DJANGO_NUM_PROXIES="1", DJANGO_PASSWORD_THROTTLE="5/min")
    assert (s["proxies"], s["password_rate"]) == (1, "5/min")
    assert _settings(DJANGO_TOKEN_THROTTLE="7/hour")["password_rate"] == "7/hour"  # the former name


def test_database_url_selects_postgresql():
    s = _settings(DATABASE_URL="postgres://ann:secret@db.example:5433/annotations")
    assert s["engine"] == "django.db.backends.postgresql"
    assert (s["name"], s["host"]) == ("annotations", "db.example")


def test_redis_url_selects_redis_layer_and_rq_tasks():
    s = _settings(REDIS_URL="redis://127.0.0.1:6390/2")
    assert s["layer"] == "channels_redis.core.RedisChannelLayer"
    assert s["tasks"] == "django_tasks_rq.RQBackend"
    assert {"django_rq", "django_tasks_rq"} <= set(s["apps"])
    assert s["rq"]["default"]["URL"] == "redis://127.0.0.1:6390/2"
    # Several web processes share throttle counts through Redis.
    assert s["cache"] == "django.core.cache.backends.redis.RedisCache"


def test_django_variables():
    s = _settings(DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="a.example, b.example", DJANGO_MEDIA_ROOT="/tmp/m")
    assert s["debug"] is False
    assert s["hosts"] == ["a.example", "b.example"]
    assert s["media"] == "/tmp/m"


def test_bad_boolean_is_a_clear_error():
    with pytest.raises(RuntimeError, match="DJANGO_DEBUG must be a boolean"):
        _settings(DJANGO_DEBUG="maybe")


def test_production_requires_a_secret_key():
    with pytest.raises(RuntimeError, match="DJANGO_SECRET_KEY must be set"):
        _settings("annotator.settings.prod")


def test_production_passes_the_deployment_checks():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="annotator.settings.prod",
        DJANGO_SECRET_KEY="a-long-random-production-secret-key-with-enough-entropy-0123456789",
        DJANGO_ALLOWED_HOSTS="annotate.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
