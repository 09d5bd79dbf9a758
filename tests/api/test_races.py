"""Two sessions of the assignee race on the same task and keypoint: each revision is won by exactly one
write; the other gets 409 with the task's current state, so the editor that lost can show it and nothing
is silently overwritten. Real threads with their own database connections, on PostgreSQL (CI's second
pass): the embedded pass's in-memory SQLite test database refuses concurrent writers outright ("table is
locked") instead of queueing them as the SQLite file of a real installation does.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework import status
from rest_framework.test import APIClient

from annotator.models import Correction
from tests.conftest import require

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
