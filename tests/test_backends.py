"""The configured backends really work: database, channel layer and task queue, whichever is set.

Run once on the embedded defaults (SQLite, in-memory layer, database queue) and once with
DATABASE_URL / REDIS_URL pointing at real PostgreSQL and Redis (CI does both).
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django_tasks import task

from tests.conftest import require

USING_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
USING_REDIS = bool(os.environ.get("REDIS_URL"))


@task()
def multiply(a: int, b: int) -> int:
    return a * b


@pytest.mark.django_db
def test_database_vendor_follows_database_url():
    expected = "postgresql" if USING_POSTGRES else "sqlite"
    assert connection.vendor == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone()[0] == 1


@pytest.mark.django_db
def test_postgresql_is_used_when_required():
    require(USING_POSTGRES, "postgresql", "DATABASE_URL does not point at PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        assert cursor.fetchone()[0]


def test_redis_is_used_when_required():
    require(USING_REDIS, "redis", "REDIS_URL is not set")
    import redis

    assert redis.Redis.from_url(settings.REDIS_URL).ping()
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"


@pytest.mark.django_db(transaction=True)
def test_a_task_runs_through_the_configured_queue():
    result = multiply.enqueue(6, 7)
    if USING_REDIS:
        import django_rq
        from django_tasks_rq import Job

        django_rq.get_worker("default", job_class=Job).work(burst=True)
    else:
        call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    result.refresh()
    assert result.status.name == "SUCCESSFUL", result.status
    assert result.return_value == 42
