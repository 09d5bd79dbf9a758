"""Who may call what: every API endpoint and websocket route x every role x every method, in ONE table.

The endpoints are enumerated from the URL resolver (and the websocket routes from ``api.routing``), so a new
endpoint without a row in ``MATRIX`` fails ``test_every_endpoint_has_a_row``. Each cell runs inside a
savepoint that is rolled back, so the cells do not change each other's data.

Cells are HTTP statuses. Writes are sent with an empty JSON body: a role that may write gets past the
permission checks to validation (400) or to a domain answer (404 for an empty queue); a role that may not
gets 403, or 404 where the object must stay invisible (another annotator's task). Websocket cells are
``accept`` or the close code, and for actions the answer's type (``lock``: ``mine`` when the lock is held
through this socket, ``watch`` when not; ``none`` when nothing is sent back).
"""

from __future__ import annotations

import json
import re

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from annotator import keypoints
from annotator.models import Export, Job, Study, Task
from annotator.services.fbi_labels import FBI_JOB_KIND
from annotator.services.tasks import task_create
from api import consumers
from api.routing import websocket_urlpatterns
from tests.annotator.services.task_data import import_frames, make_task

ROLES = ("anonymous", "owner", "other", "reviewer", "admin")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: A method the endpoint does not answer: anonymous callers are refused before the method is looked at.
NOT_ALLOWED = "403 405 405 405 405"
#: The same on an endpoint that anyone may call (sign-in).
PUBLIC_NOT_ALLOWED = "405 405 405 405 405"
#: Any other method on a reviewers-only endpoint: annotators are refused before the method is looked at.
REVIEWERS_NOT_ALLOWED = "403 403 403 405 405"

# fmt: off
#: url name (or websocket route) -> method (or connect/action) -> statuses for ROLES; "*" is every other method.
MATRIX: dict[str, dict[str, str]] = {
    "api:root":                  {"GET": "403 200 200 200 200", "*": NOT_ALLOWED},
    "api:layout":                {"GET": "403 200 200 200 200", "*": NOT_ALLOWED},
    "api:token":                 {"POST": "400 400 400 400 400", "*": PUBLIC_NOT_ALLOWED},
    "api:dataset-list":          {"GET": "403 200 200 200 200", "*": NOT_ALLOWED},
    "api:dataset-detail":        {"GET": "403 200 200 200 200", "*": NOT_ALLOWED},
    # No skeleton is scored yet: 404 past the check.
    "api:dataset-quality":       {"GET": "403 403 403 404 404", "*": REVIEWERS_NOT_ALLOWED},
    "api:task-list":             {"GET": "403 200 200 200 200", "*": NOT_ALLOWED},
    # The caller's own queue: the owner starts their task, the others have none.
    "api:task-next":             {"POST": "403 200 404 404 404", "*": NOT_ALLOWED},
    "api:task-detail":           {"GET": "403 200 404 200 200", "*": NOT_ALLOWED},
    # Writes (valid bodies, see BODIES): only the assignee writes; reviewers and admins see the task but may
    # not edit it (undo and redo: nothing to undo yet, 400).
    "api:task-corrections":      {"POST": "403 201 404 403 403", "*": NOT_ALLOWED},
    "api:task-undo":             {"POST": "403 400 404 403 403", "*": NOT_ALLOWED},
    "api:task-redo":             {"POST": "403 400 404 403 403", "*": NOT_ALLOWED},
    "api:task-parts":            {"POST": "403 201 404 403 403", "*": NOT_ALLOWED},
    "api:task-submit":           {"POST": "403 200 404 403 403", "*": NOT_ALLOWED},
    # Reviews: reviewers and admins (the to-do task is not submitted yet: 400).
    "api:task-accept":           {"POST": "403 403 403 400 400", "*": REVIEWERS_NOT_ALLOWED},
    "api:task-reject":           {"POST": "403 403 403 400 400", "*": REVIEWERS_NOT_ALLOWED},
    "api:task-history":          {"GET": "403 200 404 200 200", "*": NOT_ALLOWED},
    "api:task-epipolar":         {"GET": "403 400 404 400 400", "*": NOT_ALLOWED},
    # Refiner suggestions store nothing: whoever sees the task may ask (the empty body is a 400).
    "api:task-refine":           {"POST": "403 400 404 400 400", "*": NOT_ALLOWED},
    # The FBI labeller of the owner's FBI task.
    "api:task-fbi":              {"GET": "403 200 404 200 200", "*": NOT_ALLOWED},
    "api:task-fbi-answers":      {"POST": "403 201 404 403 403", "*": NOT_ALLOWED},
    "api:task-fbi-submit":       {"POST": "403 400 404 403 403", "*": NOT_ALLOWED},
    "api:fbi-agreement":         {"GET": "403 403 403 400 400", "*": REVIEWERS_NOT_ALLOWED},
    "api:fbi-depth-error-tasks": {"POST": "403 403 403 400 400", "*": REVIEWERS_NOT_ALLOWED},
    "api:job-list":              {"GET": "403 403 403 200 200", "*": REVIEWERS_NOT_ALLOWED},
    "api:job-score":             {"POST": "403 403 403 400 400", "*": REVIEWERS_NOT_ALLOWED},
    "api:job-fbi":               {"POST": "403 403 403 400 400", "*": REVIEWERS_NOT_ALLOWED},
    "api:job-detail":            {"GET": "403 403 403 200 200", "*": REVIEWERS_NOT_ALLOWED},
    # Images of frames the caller has a task on (the dataset here has no image directory: 404 past the check).
    "api:view-image":            {"GET": "403 404 404 404 404", "*": NOT_ALLOWED},
    "api:export-list": {"GET": "403 403 403 200 200", "POST": "403 403 403 400 400", "*": REVIEWERS_NOT_ALLOWED},
    # The export has not run yet: 404 past the check.
    "api:export-download":       {"GET": "403 403 403 404 404", "*": REVIEWERS_NOT_ALLOWED},
    # Multipart only: a JSON body gets past the check to 415.
    "api:evaluation-create":     {"POST": "403 403 403 415 415", "*": REVIEWERS_NOT_ALLOWED},
    "api:study-list": {"GET": "403 403 403 200 200", "POST": "403 403 403 400 400", "*": REVIEWERS_NOT_ALLOWED},
    "api:study-report":          {"GET": "403 403 403 200 200", "*": REVIEWERS_NOT_ALLOWED},
    "api:study-frames":          {"GET": "403 403 403 200 200", "*": REVIEWERS_NOT_ALLOWED},
    "api:study-sensitivity":     {"GET": "403 403 403 200 200", "*": REVIEWERS_NOT_ALLOWED},
    "api:schema":                {"GET": "403 200 200 200 200", "*": NOT_ALLOWED},
    "api:docs":                  {"GET": "403 200 200 200 200", "*": NOT_ALLOWED},
    # Any other path under /api/: the JSON 404, for everyone (a route, so that it holds with DEBUG on too).
    "api:not-found":             {"*": "404 404 404 404 404"},
    # Websockets: close codes 4401 (not signed in), 4403 (may not follow jobs, as /api/jobs/), 4404 (task not visible).
    "ws:ws/jobs/":               {"connect": "4401 4403 4403 accept accept"},
    "ws:ws/tasks/<id:task_id>/": {
        "connect":   "4401 accept 4404 accept accept",
        "heartbeat": "- none - lock:watch lock:watch",
        "acquire":   "- lock:mine - lock:watch lock:watch",
        # Releasing broadcasts "nobody holds it" to the group, the releasing socket included.
        "release":   "- lock:watch - none none",
        "unknown":   "- error - error error",
    },
}
# fmt: on

#: JSON bodies of the writes that have one (placeholders filled from the world fixture); others send {}.
BODIES: dict[str, dict] = {
    "api:task-corrections": {"view": "{view_id}", "keypoint": 5, "x": 400.0, "y": 300.0, "base_revision": 0},
    "api:task-undo": {"base_revision": 0},
    "api:task-redo": {"base_revision": 0},
    "api:task-parts": {"view": "{view_id}", "part": "face", "valid": False, "base_revision": 0},
    "api:task-submit": {"base_revision": 0},
    "api:task-fbi-answers": {"view": "{fbi_view_id}", "parent": "{parent}", "child": "{child}", "label": "forward",
                             "seconds": 1.5},
}  # fmt: skip


def _api_patterns(resolver=None, prefix: str = "", namespace: str = ""):
    """(url name, route) of every pattern under the ``api`` namespace."""
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            yield from _api_patterns(p, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern) and namespace == "api":
            yield f"api:{p.name}", prefix + str(p.pattern)


API = dict(_api_patterns())
WS = {f"ws:{p.pattern}": p for p in websocket_urlpatterns}


def test_every_endpoint_has_a_row():
    assert set(API) | set(WS) == set(MATRIX), "add a row to MATRIX for every endpoint (and drop rows of gone ones)"
    for name, row in MATRIX.items():
        for key, cells in row.items():
            assert len(cells.split()) == len(ROLES), f"{name} {key}: one cell per role"
        if name.startswith("api:"):
            assert "*" in row and set(row) - {"*"} <= set(METHODS), name


def test_every_websocket_action_has_a_column():
    actions = {a.strip() for a in consumers.TASK_ACTIONS.split(",")}
    assert actions | {"connect", "unknown"} == set(MATRIX["ws:ws/tasks/<id:task_id>/"])


@pytest.fixture
def world(db, tmp_path, users):
    """A correction task and an FBI task of the owner, an export, a study and an FBI labelling job."""
    frames = import_frames(tmp_path)
    task = make_task(frames[0], users["annotator"])
    fbi_task = task_create(frame=frames[1].frame, assignee=users["annotator"], kind=Task.Kind.FBI)
    dataset = frames[0].frame.sequence.subject.dataset
    export_job = Job.objects.create(kind="export", dataset=dataset)
    export = Export.objects.create(job=export_job, dataset=dataset, format="h3wb", version="dataset")
    study = Study.objects.create(name="matrix", dataset=dataset, n_items=1)
    fbi_job = Job.objects.create(kind=FBI_JOB_KIND, dataset=dataset)
    kwargs = {
        "name": dataset.name, "task_id": task.pk, "view_id": frames[0].views[0].pk, "export_id": export.pk,
        "study_id": study.pk, "job_id": fbi_job.pk,
    }  # fmt: skip
    parent, child = (int(i) for i in keypoints.bones(fbi_task.bones)[0])
    kwargs.update(fbi_view_id=frames[1].views[0].pk, parent=parent, child=child)
    fbi_names = {"api:task-fbi", "api:task-fbi-answers", "api:task-fbi-submit"}
    return {"kwargs": kwargs, "fbi_task": fbi_task, "task": task, "users": users, "fbi_names": fbi_names}


def _body(world, name: str) -> str:
    body = {
        key: world["kwargs"][value[1:-1]] if isinstance(value, str) and value.startswith("{") else value
        for key, value in BODIES.get(name, {}).items()
    }
    return json.dumps(body)


def _client(world, role: str) -> APIClient:
    client = APIClient()
    key = {"owner": "annotator", "other": "other", "reviewer": "reviewer", "admin": "admin"}.get(role)
    if key:
        client.force_authenticate(world["users"][key])
    return client


def _path(world, name: str) -> str:
    route = API[name]
    kwargs = dict(world["kwargs"])
    if name in world["fbi_names"]:
        kwargs["task_id"] = world["fbi_task"].pk
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), route).replace("^.*$", "no/such/thing/")
    return "/" + path


@pytest.mark.parametrize("name", sorted(API))
def test_http_matrix(world, name):
    row = MATRIX[name]
    path = _path(world, name)
    body = _body(world, name)
    failures = []
    for method in METHODS:
        expected = row.get(method, row["*"]).split()
        for role, want in zip(ROLES, expected, strict=True):
            with transaction.atomic():
                response = _client(world, role).generic(method, path, body, content_type="application/json")
                transaction.set_rollback(True)
            if str(response.status_code) != want:
                failures.append(f"{method} {role}: {response.status_code}, expected {want}")
            elif response.status_code >= 400 and response.get("Content-Type", "").startswith("application/json"):
                assert response.json().get("message"), f"{method} {path} as {role}: no message"
    assert not failures, f"{path}: " + "; ".join(failures)


async def _ws_cell(user, path: str, action: str | None) -> str:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    if not connected:
        return str(code)
    try:
        if path.startswith("/ws/tasks/"):
            await communicator.receive_json_from(timeout=5)  # the lock state sent on connect
        if action is None:
            return "accept"
        await communicator.send_json_to({"action": "bogus" if action == "unknown" else action})
        if await communicator.receive_nothing(timeout=0.3):
            return "none"
        message = await communicator.receive_json_from(timeout=5)
        if message["type"] == "lock":
            return "lock:mine" if message.get("mine") else "lock:watch"
        return message["type"]
    finally:
        await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("name", sorted(WS))
async def test_websocket_matrix(tmp_path, name):
    from annotator import roles
    from annotator.services.users import user_ensure

    users = {}
    spec = {"annotator": ("ann", roles.ANNOTATOR), "other": ("ann2", roles.ANNOTATOR),
            "reviewer": ("rev", roles.REVIEWER), "admin": ("admin", roles.ADMIN)}  # fmt: skip
    for key, (username, role) in spec.items():
        users[key] = (await sync_to_async(user_ensure)(username=username, password="pw-x-12345", role=role))[0]
    frames = await sync_to_async(import_frames)(tmp_path)
    task = await sync_to_async(make_task)(frames[0], users["annotator"])
    path = "/" + str(WS[name].pattern).replace("<id:task_id>", str(task.pk))
    by_role = {"anonymous": AnonymousUser(), "owner": users["annotator"], "other": users["other"],
               "reviewer": users["reviewer"], "admin": users["admin"]}  # fmt: skip
    failures = []
    for key, cells in MATRIX[name].items():
        for role, want in zip(ROLES, cells.split(), strict=True):
            if want == "-":
                continue
            got = await _ws_cell(by_role[role], path, None if key == "connect" else key)
            if got != want:
                failures.append(f"{key} {role}: {got}, expected {want}")
    assert not failures, f"{path}: " + "; ".join(failures)
