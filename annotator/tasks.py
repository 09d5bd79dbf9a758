"""The background task of every job kind (django-tasks), and the one way to start and enqueue a job.

``job_chunk_task`` claims one chunk of a job and runs it through its kind's spec (``services.job_kinds``);
it runs under any configured backend (``db_worker`` or ``rqworker``). ``job_enqueue`` hands a job's
unfinished chunks to it once the creating transaction commits (at once outside one), and ``job_submit``
starts a job of any kind and enqueues it: the API, the commands' ``--enqueue`` and ``resume_jobs`` all go
through these.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_tasks import task

from annotator.models import Job, JobChunk
from annotator.selectors.jobs import job_get
from annotator.services.job_kinds import job_spec
from annotator.services.jobs import chunk_claim_index, job_chunk_run


@task()
def job_chunk_task(job_id: int, chunk_index: int, options: dict[str, Any] | None = None) -> dict:
    """Task: run chunk ``chunk_index`` of job ``job_id`` unless it is finished or held by a live worker.

    Returns the chunk's and the job's status (the chunk's result is stored with the chunk, not in the queue).
    """
    job = job_get(job_id=job_id)
    job_spec(job.kind)  # an unknown kind fails before the chunk is claimed
    chunk = chunk_claim_index(job=job, index=chunk_index)
    if chunk is None:
        return {"skipped": True}
    chunk = job_chunk_run(job=job, chunk=chunk, **(options or {}))
    job.refresh_from_db()
    return {"skipped": False, "chunk": chunk.status, "job": job.status}


def job_enqueue(*, job: Job, **options: Any) -> int:
    """One ``job_chunk_task`` per unfinished chunk of ``job`` (``options`` go to the kind's ``run_chunk``), sent
    once the current transaction commits; returns how many."""
    job_spec(job.kind)
    indices = list(job.chunks.exclude(status=JobChunk.Status.DONE).values_list("index", flat=True))
    options = dict(options)
    transaction.on_commit(lambda: [job_chunk_task.enqueue(job.pk, i, options) for i in indices])
    return len(indices)


def job_submit(*, kind: str, options: dict[str, Any] | None = None, **params: Any) -> tuple[Job, bool, int]:
    """Start (or resume) a job of ``kind`` with ``params`` and enqueue its unfinished chunks with ``options``.

    Returns (job, resumed, enqueued); bad ``params`` fail in the kind's ``start``, before any write.
    """
    job, resumed = job_spec(kind).function("start")(**params)
    enqueued = job_enqueue(job=job, **(options or {}))
    job.refresh_from_db()
    return job, resumed, enqueued
