"""Two sessions of the assignee race on the same task and keypoint: each revision is won by exactly one
write; the other gets 409 with the task's current state, so the editor that lost can show it and nothing
is silently overwritten.

Two set-ups, so both of the tool's databases are held to it:

* in this process, real threads with their own database connections, on PostgreSQL (CI's second pass):
  the in-memory SQLite test database refuses concurrent writers outright ("table is locked") instead of
  queueing them as the SQLite file of a real installation does;
* over HTTP against the ASGI server the demo runs, on an SQLite file as `make demo` uses: every
  ``make test`` runs this one.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from django.db import connection
from rest_framework import status
from rest_framework.test import APIClient

from annotator.models import Correction
from tests.conftest import require
from tests.frontend import live

ROUNDS = 6
KEYPOINT = 9


def _race(task, user, view, base_revision: int, xs: tuple[float, float]) -> list:
    barrier = threading.Barrier(len(xs))
    answers: list = [None] * len(xs)

    def post(i: int) -> None:
        try:
            client = APIClient()
            client.force_authenticate(user)
            body = {"view": view.pk, "keypoint": KEYPOINT, "x": xs[i], "y": 300.0, "base_revision": base_revision}
            barrier.wait(timeout=10)
            answers[i] = client.post(f"/api/tasks/{task.pk}/corrections/", body, format="json")
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return answers


@pytest.mark.django_db(transaction=True)
class SameKeypointRaceTests:
    def test_each_revision_is_won_by_exactly_one_and_the_loser_gets_the_current_state(self, task, frames, users):
        require(connection.vendor == "postgresql", "postgresql", "concurrent writers need PostgreSQL here")
        view = frames[0].views[0]
        revision = task.revision
        winners = []
        for round_ in range(ROUNDS):
            xs = (300.0 + round_, 500.0 + round_)
            answers = _race(task, users["annotator"], view, revision, xs)
            codes = sorted(a.status_code for a in answers)
            assert codes == [status.HTTP_201_CREATED, status.HTTP_409_CONFLICT], codes
            won = next(a for a in answers if a.status_code == status.HTTP_201_CREATED).json()
            lost = next(a for a in answers if a.status_code == status.HTTP_409_CONFLICT).json()
            assert won["revision"] == revision + 1
            assert "has changed" in lost["message"]
            assert lost["extra"]["current_revision"] == won["revision"]
            state = lost["extra"]["state"]
            assert state["revision"] == won["revision"]
            corrected = next(v for v in state["views"] if v["id"] == view.pk)["annotated"][str(KEYPOINT)]
            assert corrected == [won["correction"]["x"], 300.0]
            winners.append(won["correction"]["x"])
            revision = won["revision"]
        rows = list(Correction.objects.filter(task=task).order_by("revision"))
        assert [r.revision for r in rows] == list(range(task.revision + 1, revision + 1))
        assert [r.x for r in rows] == winners


def _token(url: str, username: str, password: str) -> str:
    answer = httpx.post(f"{url}/api/auth/token/", json={"username": username, "password": password}, timeout=30)
    assert answer.status_code == status.HTTP_200_OK, answer.text
    return answer.json()["token"]


def _race_http(url: str, token: str, task_id: int, body: dict, xs: tuple[float, float]) -> list[httpx.Response]:
    """POST the same correction from two HTTP clients at once (a barrier lines them up)."""
    barrier = threading.Barrier(len(xs))
    answers: list = [None] * len(xs)

    def post(i: int) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Token {token}"}, timeout=60) as client:
            client.get("/api/").raise_for_status()  # connected before the race starts
            barrier.wait(timeout=30)
            answers[i] = client.post(f"/api/tasks/{task_id}/corrections/", json={**body, "x": xs[i]})

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return answers


class SameKeypointRaceOverHttpTests:
    def test_on_an_sqlite_file_each_revision_has_one_winner(self, tmp_path_factory):
        workdir: Path = tmp_path_factory.mktemp("race-live")
        info = live.prepare(workdir)
        task_id = info["tasks"][0]
        with live.serve(workdir) as url:
            token = _token(url, "ann", info["accounts"]["ann"])
            with httpx.Client(base_url=url, headers={"Authorization": f"Token {token}"}, timeout=60) as client:
                state = client.get(f"/api/tasks/{task_id}/").json()
            view = state["views"][0]["id"]
            revision = state["revision"]
            winners = []
            for round_ in range(ROUNDS):
                body = {"view": view, "keypoint": KEYPOINT, "y": 300.0, "base_revision": revision}
                answers = _race_http(url, token, task_id, body, (300.0 + round_, 500.0 + round_))
                codes = sorted(a.status_code for a in answers)
                assert codes == [status.HTTP_201_CREATED, status.HTTP_409_CONFLICT], [a.text for a in answers]
                won = next(a for a in answers if a.status_code == status.HTTP_201_CREATED).json()
                lost = next(a for a in answers if a.status_code == status.HTTP_409_CONFLICT).json()
                assert won["revision"] == revision + 1 and lost["extra"]["current_revision"] == won["revision"]
                winners.append(won["correction"]["x"])
                revision = won["revision"]
            with httpx.Client(base_url=url, headers={"Authorization": f"Token {token}"}, timeout=60) as client:
                history = client.get(f"/api/tasks/{task_id}/history/", params={"keypoint": KEYPOINT}).json()
        assert revision == state["revision"] + ROUNDS
        assert [row["x"] for row in sorted(history, key=lambda row: row["revision"])] == winners
