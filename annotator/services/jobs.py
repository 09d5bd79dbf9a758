"""Chunked, resumable background jobs: create a job with its chunks, claim a chunk, finish or fail it.

A worker claims one chunk at a time (``select_for_update(skip_locked=True)`` where the database
supports it, and a conditional UPDATE everywhere, so two workers never run one chunk). A chunk whose
worker died stays ``running`` with an old ``started_at``; after ``stale_after_s`` (the
``JOB_STALE_AFTER_S`` option by default) any worker may claim it again, and a restarted worker releases
at once the chunks of dead processes of its own machine (``chunks_release_dead``). Finishing a chunk
and writing its results happen in one transaction (the caller's ``write`` callback), so a chunk is
either done with all its results or not done at all. Every state change updates the job's progress
and broadcasts it to the ``jobs`` websocket group.

``job_chunk_run`` runs one claimed chunk of any kind through its spec (``services.job_kinds``), and
``job_run_local`` runs a job's remaining chunks in this process; ``annotator.tasks.job_chunk_task`` is
the same for a worker.
"""

from __future__ import annotations

import os
import socket
import traceback
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from tqdm import tqdm

from annotator.conf import option
from annotator.exceptions import ApplicationError
from annotator.models import Dataset, Job, JobChunk
from annotator.services.events import job_progress_broadcast
from annotator.services.job_kinds import job_spec

#: A running chunk whose worker has not finished it within this many seconds is presumed dead (the
#: ``JOB_STALE_AFTER_S`` option's default; callers that pass nothing get the option).
DEFAULT_STALE_AFTER_S = 30 * 60
#: Attempts after which a failing chunk stays failed until the job is resumed explicitly.
MAX_ATTEMPTS = 3


class ChunkInputError(ApplicationError):
    """A chunk's input is bad: the same input fails the same way, so the chunk fails at once, without retries."""


def worker_name() -> str:
    """host:pid of this process, recorded on the chunks it claims."""
    return f"{socket.gethostname()}:{os.getpid()}"


def job_label(job: Job) -> str:
    """The name a job goes by in progress events and logs."""
    return f"{job.kind}#{job.pk}"


@transaction.atomic
def job_create(
    *, kind: str, dataset: Dataset, params: dict[str, Any], payloads: list[dict[str, Any]], created_by=None
) -> Job:
    """A queued job of ``kind`` with one chunk per payload (chunk i gets ``payloads[i]``)."""
    if not payloads:
        raise ApplicationError(f"a {kind} job needs at least one chunk of work")
    job = Job.objects.create(kind=kind, dataset=dataset, params=params, created_by=created_by,
                             progress_total=len(payloads))  # fmt: skip
    JobChunk.objects.bulk_create(JobChunk(job=job, index=i, payload=p) for i, p in enumerate(payloads))
    job_progress_broadcast(job=job_label(job), done=0, total=job.progress_total, state=job.status)
    return job


def job_find_same(*, kind: str, dataset: Dataset, params: dict[str, Any], unfinished_only: bool = False) -> Job | None:
    """The newest job of ``kind`` on ``dataset`` with exactly ``params`` (optionally only one not done yet)."""
    candidates = Job.objects.filter(kind=kind, dataset=dataset).order_by("-pk")
    if unfinished_only:
        candidates = candidates.exclude(status=Job.Status.DONE)
    return next((job for job in candidates if job.params == params), None)


@transaction.atomic
def job_resume(*, job: Job) -> Job:
    """Put failed chunks back in the queue (attempts reset) so a rerun retries them; finished ones stay."""
    job.chunks.filter(status=JobChunk.Status.FAILED).update(status=JobChunk.Status.QUEUED, attempts=0, error="")
    return _job_refresh(job)


def _claimable(job: Job, stale_after_s: float | None) -> Q:
    if stale_after_s is None:
        stale_after_s = option("JOB_STALE_AFTER_S")
    stale = timezone.now() - timedelta(seconds=stale_after_s)
    return Q(job=job) & (
        Q(status=JobChunk.Status.QUEUED)
        | Q(status=JobChunk.Status.RUNNING, started_at__lt=stale)
        | Q(status=JobChunk.Status.RUNNING, started_at__isnull=True)
    )


def _take(chunk: JobChunk, worker: str) -> JobChunk | None:
    """Move ``chunk`` to running for ``worker`` unless someone else changed it since it was read."""
    now = timezone.now()
    won = JobChunk.objects.filter(pk=chunk.pk, status=chunk.status, started_at=chunk.started_at).update(
        status=JobChunk.Status.RUNNING, worker=worker, attempts=chunk.attempts + 1, started_at=now, finished_at=None
    )
    if not won:
        return None
    chunk.refresh_from_db()
    if chunk.job.status == Job.Status.QUEUED:
        Job.objects.filter(pk=chunk.job_id, status=Job.Status.QUEUED).update(status=Job.Status.RUNNING)
    return chunk


def _locked(queryset):
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset


@transaction.atomic
def chunk_claim(*, job: Job, worker: str | None = None, stale_after_s: float | None = None) -> JobChunk | None:
    """The next queued (or stale running) chunk of ``job``, now running for ``worker``; None when none is left."""
    for chunk in _locked(JobChunk.objects.filter(_claimable(job, stale_after_s)).order_by("index"))[:8]:
        taken = _take(chunk, worker or worker_name())
        if taken is not None:
            return taken
    return None


@transaction.atomic
def chunk_claim_index(
    *, job: Job, index: int, worker: str | None = None, stale_after_s: float | None = None
) -> JobChunk | None:
    """Claim chunk ``index`` of ``job`` (a task for one chunk); None when it is done or another live worker has it."""
    chunk = _locked(JobChunk.objects.filter(_claimable(job, stale_after_s), index=index)).first()
    if chunk is None:
        if not JobChunk.objects.filter(job=job, index=index).exists():
            raise ApplicationError(f"job {job_label(job)} has no chunk {index}")
        return None
    return _take(chunk, worker or worker_name())


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    # A killed process nobody has reaped yet (a zombie) still answers the signal; Linux says what it is.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


@transaction.atomic
def chunks_release_dead(*, job: Job | None = None) -> list[int]:
    """Put back in the queue the running chunks whose worker was a process of this machine that is gone.

    A worker records ``host:pid`` on the chunk it claims (``worker_name``); when that host is this one and
    the pid no longer runs, the chunk can never finish, so it is released without waiting for
    ``JOB_STALE_AFTER_S``. Returns the released chunks' ids.
    """
    host = socket.gethostname()
    running = JobChunk.objects.select_for_update().filter(status=JobChunk.Status.RUNNING, worker__startswith=f"{host}:")
    if job is not None:
        running = running.filter(job=job)
    dead = []
    for chunk in running:
        pid = chunk.worker.rpartition(":")[2]
        if pid.isdigit() and not _process_alive(int(pid)):
            dead.append(chunk.pk)
    if dead:
        JobChunk.objects.filter(pk__in=dead).update(status=JobChunk.Status.QUEUED, started_at=None,
                                                    error="released: its worker process died")  # fmt: skip
        for job_id in set(JobChunk.objects.filter(pk__in=dead).values_list("job_id", flat=True)):
            _job_refresh(Job.objects.get(pk=job_id), message="chunks of a dead worker released")
    return dead


def job_chunk_run(*, job: Job, chunk: JobChunk, **options: Any) -> JobChunk:
    """Run one claimed ``chunk`` of ``job`` with its kind's ``run_chunk`` and store its output with its completion.

    A failure is recorded on the chunk (``chunk_failed``: back to the queue until ``MAX_ATTEMPTS``) and raised
    again; a ``ChunkInputError`` fails the chunk at once and is not raised (the job reports it).
    """
    run_chunk = job_spec(job.kind).function("run_chunk")
    try:
        result, write = run_chunk(job=job, chunk=chunk, **options)
    except ChunkInputError as exc:
        chunk.attempts = MAX_ATTEMPTS  # the same input fails the same way: no retry
        return chunk_failed(chunk=chunk, error=exc.message)
    except Exception as exc:
        chunk_failed(chunk=chunk, error=f"{exc}\n{traceback.format_exc(limit=5)}")
        raise
    return chunk_done(chunk=chunk, result=result, write=write)


def job_run_local(
    *,
    job: Job,
    progress: bool = True,
    stale_after_s: float = DEFAULT_STALE_AFTER_S,
    max_chunks: int | None = None,
    **options: Any,
) -> Job:
    """Run ``job``'s remaining chunks here (queued, or stale ones of dead workers) with a progress bar.

    ``options`` go to the kind's ``run_chunk`` (e.g. ``device`` for scoring). Returns the job as it stands
    afterwards.
    """
    job_spec(job.kind)  # an unknown kind fails before any chunk is claimed
    job.refresh_from_db()
    bar = tqdm(total=job.progress_total, initial=job.progress_done, unit="chunk", desc=job.kind, disable=not progress)
    ran = 0
    try:
        while max_chunks is None or ran < max_chunks:
            chunk = chunk_claim(job=job, stale_after_s=stale_after_s)
            if chunk is None:
                break
            job_chunk_run(job=job, chunk=chunk, **options)
            ran += 1
            bar.update()
    finally:
        bar.close()
    job.refresh_from_db()
    return job


def chunk_done(*, chunk: JobChunk, result: dict[str, Any], write: Callable[[], None] | None = None) -> JobChunk:
    """Mark ``chunk`` done with ``result``, running ``write`` (the chunk's output) in the same transaction.

    A chunk re-claimed by another worker meanwhile is finished by whichever commits first; the other's
    writes must therefore be idempotent (quality scores are upserts).
    """
    with transaction.atomic():
        if write is not None:
            write()
        JobChunk.objects.filter(pk=chunk.pk).update(status=JobChunk.Status.DONE, result=result, error="",
                                                    finished_at=timezone.now())  # fmt: skip
        _job_refresh(chunk.job)
    chunk.refresh_from_db()
    return chunk


@transaction.atomic
def chunk_failed(*, chunk: JobChunk, error: str) -> JobChunk:
    """Record ``error``; the chunk goes back to the queue until it has failed ``MAX_ATTEMPTS`` times."""
    status = JobChunk.Status.FAILED if chunk.attempts >= MAX_ATTEMPTS else JobChunk.Status.QUEUED
    JobChunk.objects.filter(pk=chunk.pk).update(status=status, error=error[:5000], finished_at=timezone.now())
    _job_refresh(chunk.job, message=f"chunk {chunk.index} failed: {error[:200]}")
    chunk.refresh_from_db()
    return chunk


def _job_refresh(job: Job, message: str = "") -> Job:
    """Recount the job's progress and status from its chunks and broadcast them."""
    counts = dict(job.chunks.values("status").annotate(n=Count("id")).values_list("status", "n"))
    done, failed = counts.get(JobChunk.Status.DONE, 0), counts.get(JobChunk.Status.FAILED, 0)
    total = sum(counts.values())
    if done == total:
        status = Job.Status.DONE
    elif failed and done + failed == total:
        status = Job.Status.FAILED
    elif done or counts.get(JobChunk.Status.RUNNING, 0) or failed:
        status = Job.Status.RUNNING
    else:
        status = Job.Status.QUEUED
    finished = (job.finished_at or timezone.now()) if status in (Job.Status.DONE, Job.Status.FAILED) else None
    errors = "" if status != Job.Status.FAILED else f"{failed} chunks failed; see their errors"
    Job.objects.filter(pk=job.pk).update(status=status, progress_done=done, progress_total=total,
                                         finished_at=finished, error=errors, updated_at=timezone.now())  # fmt: skip
    job.refresh_from_db()
    job_progress_broadcast(job=job_label(job), done=done, total=total, message=message, state=status)
    return job
