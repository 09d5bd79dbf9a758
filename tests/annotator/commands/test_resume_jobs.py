"""``resume_jobs`` (run by ``make worker`` at start): a chunk a live worker is running is neither released nor done
twice; a dead local worker's chunk goes back to the queue; another machine's worker keeps its chunk until stale."""

from __future__ import annotations

import io
import socket
import subprocess
import sys

import pytest
from django.core.management import call_command

from annotator.models import Dataset, JobChunk
from annotator.services.jobs import chunk_claim, job_create
from annotator.tasks import job_chunk_task
from ml_services.tasks import JOB_KIND


def _resume() -> str:
    out = io.StringIO()
    call_command("resume_jobs", stdout=out)
    return out.getvalue()


@pytest.fixture
def scoring_job(db):
    dataset = Dataset.objects.create(name="d")
    return job_create(kind=JOB_KIND, dataset=dataset, params={"source": "dataset"},
                      payloads=[{"skeleton_ids": []}, {"skeleton_ids": []}])  # fmt: skip


@pytest.fixture
def busy_worker():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield f"{socket.gethostname()}:{proc.pid}"
    proc.kill()
    proc.wait()


class ResumeJobsTests:
    def test_a_live_workers_chunk_is_not_released_and_its_task_skips_it(self, scoring_job, busy_worker):
        running = chunk_claim(job=scoring_job, worker=busy_worker)
        out = _resume()
        assert "released" not in out and f"{JOB_KIND}#{scoring_job.pk}: enqueued 2 unfinished chunks" in out
        running.refresh_from_db()
        assert (running.status, running.worker, running.attempts) == (JobChunk.Status.RUNNING, busy_worker, 1)
        # The task resume_jobs enqueued for that chunk does nothing while its worker lives.
        assert job_chunk_task.call(scoring_job.pk, running.index) == {"skipped": True}
        running.refresh_from_db()
        assert running.attempts == 1

    def test_a_dead_local_workers_chunk_is_released(self, scoring_job):
        gone = subprocess.Popen(["true"])
        gone.wait()
        chunk = chunk_claim(job=scoring_job, worker=f"{socket.gethostname()}:{gone.pid}")
        assert "released 1 chunks of dead worker processes" in _resume()
        chunk.refresh_from_db()
        assert chunk.status == JobChunk.Status.QUEUED

    def test_another_machines_fresh_chunk_is_kept(self, scoring_job):
        chunk = chunk_claim(job=scoring_job, worker="elsewhere.example:1")
        assert "released" not in _resume()
        assert job_chunk_task.call(scoring_job.pk, chunk.index) == {"skipped": True}
        chunk.refresh_from_db()
        assert (chunk.status, chunk.worker, chunk.attempts) == (JobChunk.Status.RUNNING, "elsewhere.example:1", 1)
