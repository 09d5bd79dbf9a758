"""Fuzz every operation of the OpenAPI schema with schemathesis: no input ever gets a 5xx, and every 4xx
says what was wrong in a non-empty ``message`` (the one error format of ``api.exception_handlers``).

The schema is the one drf-spectacular generates from the URL conf (what /api/schema/ serves); requests go
to the Django WSGI application in this process, so they run inside the test's database transaction. One
pass is made as an admin (token-authenticated) and one as an annotator, with ``EXAMPLES`` generated cases
per operation (hypothesis; the whole file stays around a minute on two cores). Schemathesis makes valid and
invalid requests from the schema; the ``flatmap_case`` hook below adds hostile ones (tests/api/hostile.py).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from tests.annotator.services.task_data import make_task
from tests.api.hostile import hostile_variants

#: Generated cases per operation and role.
EXAMPLES = 12
#: Statuses at or above this are server faults; none may happen.
SERVER_ERROR = 500

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()


@schema.hooks.hook
def flatmap_case(context, case):
    """Besides the valid and invalid requests schemathesis makes from the schema, about half get one hostile
    change (tests/api/hostile.py): a huge, tiny or boolean number somewhere, a body nested past the depth
    limit, or a huge path id."""
    return hostile_variants(case)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler closes database connections after each request, as a server should; here the
    requests run on the test's own connection (inside its transaction), so keep it open as Django's test
    client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(users, frames):
    """Tokens of the admin and the annotator, who has a task (so ids in the database can be hit)."""
    make_task(frames[0], users["annotator"])
    return {role: Token.objects.get_or_create(user=users[role])[0].key for role in ("admin", "annotator")}


def _check(case, response) -> None:
    where = f"{case.method} {case.formatted_path} {case.body!r} {case.query!r}"
    assert response.status_code < SERVER_ERROR, f"{where}: {response.status_code} {response.text[:500]}"
    if 400 <= response.status_code < SERVER_ERROR:
        headers = {key.lower(): value for key, value in response.headers.items()}
        content_type = headers.get("content-type", "")
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith("application/json"), f"{where}: {response.status_code} as {content_type}"
        message = response.json().get("message")
        assert isinstance(message, str) and message.strip(), f"{where}: {response.status_code} without a message"


def _run(case, token: str) -> None:
    response = case.call(headers={"Authorization": f"Token {token}"})
    _check(case, response)


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
def test_no_server_error_as_admin(case, tokens):
    _run(case, tokens["admin"])


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
def test_no_server_error_as_annotator(case, tokens):
    _run(case, tokens["annotator"])


def test_the_schema_covers_the_api():
    paths = set(schema.raw_schema["paths"])
    assert {"/api/tasks/{task_id}/corrections/", "/api/auth/token/", "/api/evaluations/"} <= paths
