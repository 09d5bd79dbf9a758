"""Chunked, resumable jobs: creation, claiming order, stale re-claims, finishing, failing, progress events."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from annotator.exceptions import ApplicationError
from annotator.models import Dataset, Job, JobChunk
from annotator.services import jobs
from annotator.services.jobs import (
    MAX_ATTEMPTS,
    chunk_claim,
    chunk_claim_index,
    chunk_done,
    chunk_failed,
    chunks_release_dead,
    job_create,
    job_find_same,
    job_resume,
)


@pytest.fixture
def job(db):
    dataset = Dataset.objects.create(name="d")
    return job_create(kind="demo", dataset=dataset, params={"a": 1}, payloads=[{"n": i} for i in range(3)])


@pytest.fixture
def events(monkeypatch):
    sent = []
    monkeypatch.setattr(jobs, "job_progress_broadcast", lambda **kw: sent.append(kw))
    return sent


class JobCreateTests:
    def test_creates_queued_chunks_in_order(self, job):
        assert job.status == Job.Status.QUEUED and (job.progress_done, job.progress_total) == (0, 3)
        assert [(c.index, c.payload, c.status) for c in job.chunks.all()] == [
            (i, {"n": i}, JobChunk.Status.QUEUED) for i in range(3)
        ]

    def test_no_work_is_refused_and_writes_nothing(self, db):
        dataset = Dataset.objects.create(name="d")
        with pytest.raises(ApplicationError, match="at least one chunk"):
            job_create(kind="demo", dataset=dataset, params={}, payloads=[])
        assert not Job.objects.exists()

    def test_find_same_matches_params(self, job):
        assert job_find_same(kind="demo", dataset=job.dataset, params={"a": 1}) == job
        assert job_find_same(kind="demo", dataset=job.dataset, params={"a": 2}) is None
        assert job_find_same(kind="other", dataset=job.dataset, params={"a": 1}) is None
        Job.objects.filter(pk=job.pk).update(status=Job.Status.DONE)
        assert job_find_same(kind="demo", dataset=job.dataset, params={"a": 1}) == job
        assert job_find_same(kind="demo", dataset=job.dataset, params={"a": 1}, unfinished_only=True) is None


class ChunkClaimTests:
    def test_claims_in_order_then_none(self, job, events):
        claimed = [chunk_claim(job=job, worker="w1") for _ in range(4)]
        assert [c.index for c in claimed[:3]] == [0, 1, 2] and claimed[3] is None
        assert all(c.status == JobChunk.Status.RUNNING and c.worker == "w1" and c.attempts == 1 for c in claimed[:3])
        job.refresh_from_db()
        assert job.status == Job.Status.RUNNING

    def test_a_stale_chunk_of_a_dead_worker_is_claimed_again(self, job):
        first = chunk_claim(job=job, worker="dead")
        JobChunk.objects.filter(pk=first.pk).update(started_at=timezone.now() - timedelta(hours=2))
        again = chunk_claim(job=job, worker="alive", stale_after_s=3600)
        assert again.index == first.index and again.worker == "alive" and again.attempts == 2
        # A fresh running chunk is left alone.
        assert chunk_claim_index(job=job, index=0, worker="third", stale_after_s=3600) is None

    def test_claim_by_index(self, job):
        chunk = chunk_claim_index(job=job, index=2, worker="w")
        assert chunk.index == 2 and chunk.status == JobChunk.Status.RUNNING
        chunk_done(chunk=chunk, result={"ok": True})
        assert chunk_claim_index(job=job, index=2, worker="w") is None
        with pytest.raises(ApplicationError, match="has no chunk 7"):
            chunk_claim_index(job=job, index=7)


class ChunkFinishTests:
    def test_done_counts_progress_and_finishes_the_job(self, job, events):
        written = []
        for _ in range(3):
            chunk = chunk_claim(job=job, worker="w")
            chunk = chunk_done(chunk=chunk, result={"i": chunk.index}, write=lambda c=chunk: written.append(c.index))
            assert chunk.status == JobChunk.Status.DONE and chunk.finished_at is not None
        job.refresh_from_db()
        assert job.status == Job.Status.DONE and job.progress_done == 3 and job.finished_at is not None
        assert written == [0, 1, 2]
        assert [e["done"] for e in events][-3:] == [1, 2, 3] and events[-1]["state"] == "done"
        assert events[-1]["job"] == f"demo#{job.pk}"

    def test_a_failing_write_leaves_the_chunk_unfinished(self, job):
        chunk = chunk_claim(job=job, worker="w")

        def write():
            JobChunk.objects.filter(pk=chunk.pk).update(worker="changed")
            raise RuntimeError("disk full")

        with pytest.raises(RuntimeError):
            chunk_done(chunk=chunk, result={}, write=write)
        chunk.refresh_from_db()
        assert chunk.status == JobChunk.Status.RUNNING and chunk.worker == "w"

    def test_failures_requeue_until_max_attempts_then_resume(self, job):
        for attempt in range(1, MAX_ATTEMPTS + 1):
            chunk = chunk_claim_index(job=job, index=0, worker="w")
            assert chunk.attempts == attempt
            chunk = chunk_failed(chunk=chunk, error="boom")
        assert chunk.status == JobChunk.Status.FAILED and chunk.error == "boom"
        for index in (1, 2):
            chunk_done(chunk=chunk_claim_index(job=job, index=index, worker="w"), result={})
        job.refresh_from_db()
        assert job.status == Job.Status.FAILED and "1 chunks failed" in job.error
        job = job_resume(job=job)
        assert job.status == Job.Status.RUNNING
        chunk = chunk_claim(job=job, worker="w")
        assert chunk.index == 0 and chunk.attempts == 1


def _local(pid: int) -> str:
    """The worker name a process ``pid`` of this machine records on the chunks it claims."""
    return f"{socket.gethostname()}:{pid}"


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]


@pytest.fixture
def sleeper():
    """A live process of this machine (a stand-in for a busy worker), killed afterwards."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc
    proc.kill()
    proc.wait()


class ChunksReleaseDeadTests:
    """Only chunks of worker processes of this machine that are gone are released; nothing else is touched."""

    def test_a_live_local_workers_chunk_is_kept(self, job, sleeper):
        chunk = chunk_claim(job=job, worker=_local(sleeper.pid))
        assert chunks_release_dead() == []
        chunk.refresh_from_db()
        assert (chunk.status, chunk.worker, chunk.attempts) == (JobChunk.Status.RUNNING, _local(sleeper.pid), 1)
        # and no other worker can take it before it is stale
        assert chunk_claim_index(job=job, index=chunk.index, worker="other") is None

    def test_a_dead_local_workers_chunk_is_released_at_once(self, job):
        gone = subprocess.Popen(["true"])
        gone.wait()
        chunk = chunk_claim(job=job, worker=_local(gone.pid))
        assert chunks_release_dead() == [chunk.pk]
        chunk.refresh_from_db()
        assert chunk.status == JobChunk.Status.QUEUED and "died" in chunk.error
        again = chunk_claim_index(job=job, index=chunk.index, worker="new")
        assert again.worker == "new" and again.attempts == 2

    def test_a_killed_but_unreaped_worker_counts_as_dead(self, job):
        zombie = subprocess.Popen(["sleep", "120"])
        try:
            zombie.kill()
            for _ in range(100):
                if _state(zombie.pid) == "Z":
                    break
                time.sleep(0.02)
            assert _state(zombie.pid) == "Z"
            chunk = chunk_claim(job=job, worker=_local(zombie.pid))
            assert chunks_release_dead() == [chunk.pk]
        finally:
            zombie.wait()

    def test_another_machines_worker_is_left_until_its_chunk_is_stale(self, job):
        chunk = chunk_claim(job=job, worker="elsewhere.example:4242")
        assert chunks_release_dead() == []
        assert chunk_claim_index(job=job, index=chunk.index, worker="here", stale_after_s=3600) is None
        JobChunk.objects.filter(pk=chunk.pk).update(started_at=timezone.now() - timedelta(seconds=3601))
        taken = chunk_claim_index(job=job, index=chunk.index, worker="here", stale_after_s=3600)
        assert taken.worker == "here" and taken.attempts == 2

    def test_only_the_given_jobs_chunks(self, job):
        gone = subprocess.Popen(["true"])
        gone.wait()
        other = job_create(kind="demo", dataset=job.dataset, params={"a": 2}, payloads=[{"n": 0}])
        mine = chunk_claim(job=job, worker=_local(gone.pid))
        theirs = chunk_claim(job=other, worker=_local(gone.pid))
        assert chunks_release_dead(job=job) == [mine.pk]
        theirs.refresh_from_db()
        assert theirs.status == JobChunk.Status.RUNNING
