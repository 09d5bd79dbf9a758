"""Faults survived: a worker killed in the middle of a scoring job, and a database error inside a submit.

The worker test runs real processes on a database of its own (a SQLite file, or ``<name>_faults`` beside
the PostgreSQL database ``DATABASE_URL`` names) with whatever task backend is configured (the database
queue and ``db_worker``, or RQ and ``rqworker`` when ``REDIS_URL`` is set, on a Redis database of its own).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pytest
from django.db import DatabaseError

from annotator.models import Correction, Skeleton3D, Task
from annotator.services import annotations as annotation_services
from annotator.services import tasks as task_services
from tests.benchmarks import load
from tests.frontend.live import ROOT, worker_command
from tests.ml_services.rig import rig_dir

#: Seconds the whole scoring job may take after the restart, and the wait for the first chunk.
JOB_TIMEOUT_S = 240
#: Redis database the test's RQ queue lives in (flushed first), away from the other tests'.
REDIS_DB = 7


def _redis_url() -> str | None:
    url = os.environ.get("REDIS_URL")
    if not url:
        return None
    return urlunsplit(urlsplit(url)._replace(path=f"/{REDIS_DB}"))


class _Database:
    """The test's own database: its URL for the subprocesses and a DB-API connection for polling it."""

    def __init__(self, tmp_path: Path):
        base = os.environ.get("DATABASE_URL", "")
        self.postgres = base.startswith("postgres")
        if self.postgres:
            self.base = base
            self.url = load.recreate_database(base, suffix="_faults")
        else:
            self.url = f"sqlite:///{tmp_path / 'faults.sqlite3'}"

    def query(self, sql: str) -> list[tuple]:
        if self.postgres:
            import psycopg2

            conn = psycopg2.connect(self.url)
        else:
            conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=30)
        try:
            cur = conn.cursor()
            cur.execute(sql)
            return cur.fetchall()
        finally:
            conn.close()

    def drop(self) -> None:
        if self.postgres:
            load.drop_database(self.base, suffix="_faults")


def _env(db: _Database) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "REDIS_URL")}
    env.update(DATABASE_URL=db.url, DJANGO_SETTINGS_MODULE="annotator.settings.test", PYTHONPATH=str(ROOT))
    if _redis_url():
        env["REDIS_URL"] = _redis_url()
    return env


def _manage(db: _Database, *args: str) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=_env(db), capture_output=True,
                            text=True, timeout=JOB_TIMEOUT_S)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _start_worker(db: _Database, log: Path) -> subprocess.Popen:
    command = worker_command()  # rqworker when REDIS_URL is set (this test then gives it a database of its own)
    with log.open("ab") as out:
        # Its own session: the kill takes its whole process group (RQ's work horse included).
        return subprocess.Popen([sys.executable, "manage.py", *command], cwd=ROOT, env=_env(db), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip


def _chunks(db: _Database) -> dict[str, int]:
    return dict(db.query("SELECT status, COUNT(*) FROM annotator_jobchunk GROUP BY status"))


def _wait(condition, what: str, proc: subprocess.Popen | None, log: Path, timeout: float = JOB_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the worker exited while waiting for {what}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n{log.read_text()[-3000:]}")
        time.sleep(0.02)


def _scores(db: _Database) -> dict[int, tuple]:
    rows = db.query("SELECT skeleton_id, score, per_view, per_part FROM annotator_qualityscore ORDER BY skeleton_id")
    decode = lambda v: v if isinstance(v, dict) else json.loads(v)  # noqa: E731
    return {r[0]: (r[1], decode(r[2]), decode(r[3])) for r in rows}


def _same_scores(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for key in a:
        (sa, va, pa), (sb, vb, pb) = a[key], b[key]
        if va.keys() != vb.keys() or pa.keys() != pb.keys():
            return False
        x = np.array([sa, *va.values(), *pa.values()], dtype=float)
        y = np.array([sb, *[vb[k] for k in va], *[pb[k] for k in pa]], dtype=float)
        if not np.allclose(x, y, rtol=1e-6, atol=1e-9, equal_nan=True):
            return False
    return True


def test_a_killed_worker_is_restarted_and_the_job_ends_as_if_uninterrupted(tmp_path):
    db = _Database(tmp_path)
    worker = None
    log = tmp_path / "worker.log"
    try:
        if _redis_url():
            import redis

            redis.Redis.from_url(_redis_url()).flushdb()
        rig = rig_dir()
        _manage(db, "migrate", "--no-input", "-v", "0")
        _manage(db, "import_h3wb", "--annotations", str(rig / "h3wb.json"), "--images", str(rig / "images"),
                "--dataset", "rig")  # fmt: skip
        score = ("score_quality", "--dataset", "rig", "--chunk-size", "1", "--device", "cpu")
        _manage(db, *score, "--enqueue")
        total = sum(_chunks(db).values())
        assert total >= 3

        # The first chunk finishes, the worker is killed (SIGKILL: no clean-up) while it scores the next.
        worker = _start_worker(db, log)
        _wait(lambda: _chunks(db).get("done", 0) >= 1 and _chunks(db).get("running", 0) >= 1,
              "a chunk done and the next one running", worker, log)  # fmt: skip
        # The process running the chunk (the worker itself, or RQ's work horse in a session of its own).
        (holder,) = db.query("SELECT worker FROM annotator_jobchunk WHERE status = 'running'")[0]
        os.killpg(worker.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(holder.rpartition(":")[2]), signal.SIGKILL)
        worker.wait(timeout=30)
        killed = _chunks(db)
        assert killed.get("done", 0) < total and killed.get("running", 0) == 1, killed

        # Restarted as `make worker` does: the dead worker's chunk is released and everything re-enqueued.
        out = _manage(db, "resume_jobs")
        assert "released 1 chunks of dead worker processes" in out, out
        worker = _start_worker(db, log)
        _wait(lambda: db.query("SELECT status FROM annotator_job") == [("done",)], "the job to finish", worker, log)
        assert _chunks(db) == {"done": total}
        assert db.query("SELECT MAX(attempts) FROM annotator_jobchunk") == [(2,)]  # the killed chunk, run again
        interrupted = _scores(db)
        assert len(interrupted) == total

        # The same job without interruption, in this process's command (a fresh job over the same skeletons).
        _manage(db, "shell", "-c", "from annotator.models import Job, QualityScore; "
                "QualityScore.objects.all().delete(); Job.objects.all().delete()")  # fmt: skip
        _manage(db, *score, "--no-progress")
        assert _same_scores(interrupted, _scores(db))
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        db.drop()


@pytest.mark.django_db
class SubmitDatabaseErrorTests:
    """A database error in the middle of a submit leaves no skeleton version and the task as it was.

    The API answers a database error with 503 and a message saying nothing was saved (every write is one
    transaction): the client's request was fine, and the editor retries 5xx answers, so the submit is
    sent again once the database is back.
    """

    def test_no_partial_version_and_a_retry_succeeds(self, task, users, frames, monkeypatch):
        from rest_framework.test import APIClient

        client = APIClient()
        client.force_authenticate(users["annotator"])
        body = {"view": frames[0].views[0].pk, "keypoint": 5, "x": 400.0, "y": 300.0, "base_revision": 0}
        assert client.post(f"/api/tasks/{task.pk}/corrections/", body, format="json").status_code == 201
        versions = Skeleton3D.objects.count()

        real_bump = task_services.task_bump

        def failing_bump(task, *, fields=()):
            if "result_skeleton" in fields:  # the submit's own save, after the skeleton row was inserted
                raise DatabaseError("injected: the connection dropped")
            return real_bump(task, fields=fields)

        monkeypatch.setattr(task_services, "task_bump", failing_bump)
        response = client.post(f"/api/tasks/{task.pk}/submit/", {"base_revision": 1}, format="json")
        assert response.status_code == 503
        assert "nothing was saved" in response.json()["message"]
        assert Skeleton3D.objects.count() == versions
        task.refresh_from_db()
        assert (task.status, task.revision, task.result_skeleton_id) == (Task.Status.IN_PROGRESS, 1, None)

        monkeypatch.setattr(task_services, "task_bump", real_bump)
        response = client.post(f"/api/tasks/{task.pk}/submit/", {"base_revision": 1}, format="json")
        assert response.status_code == 200 and response.json()["status"] == Task.Status.SUBMITTED
        assert Skeleton3D.objects.count() == versions + 1


@pytest.mark.django_db
class CorrectionDatabaseErrorTests:
    """A database error in the middle of a correction stores nothing: no correction row, no new revision, the
    keypoint where it was; the answer is 503 "nothing was saved", and the same request sent again succeeds."""

    def test_nothing_is_stored_and_a_retry_succeeds(self, task, users, frames, monkeypatch):
        from rest_framework.test import APIClient

        client = APIClient()
        client.force_authenticate(users["annotator"])
        body = {"view": frames[0].views[0].pk, "keypoint": 5, "x": 400.0, "y": 300.0, "base_revision": 0}
        before = np.array(task.current_keypoints, copy=True)
        real_bump = annotation_services.task_bump

        def failing_bump(task, *, fields=()):
            if "current_keypoints" in fields:  # after the correction row was inserted and the keypoint re-fitted
                raise DatabaseError("injected: the connection dropped")
            return real_bump(task, fields=fields)

        monkeypatch.setattr(annotation_services, "task_bump", failing_bump)
        response = client.post(f"/api/tasks/{task.pk}/corrections/", body, format="json")
        assert response.status_code == 503 and "nothing was saved" in response.json()["message"]
        assert not Correction.objects.filter(task=task).exists()
        task.refresh_from_db()
        assert (task.revision, task.status) == (0, Task.Status.TODO)
        np.testing.assert_array_equal(task.current_keypoints, before)

        monkeypatch.setattr(annotation_services, "task_bump", real_bump)
        response = client.post(f"/api/tasks/{task.pk}/corrections/", body, format="json")
        assert response.status_code == 201 and response.json()["revision"] == 1
        assert Correction.objects.filter(task=task).count() == 1
