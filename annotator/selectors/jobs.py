"""Reads of the generic chunked jobs for the dashboard: recent jobs and one job's state as plain data.

A job's ``result`` sums its finished chunks' results as its kind's spec says (``services.job_kinds``: the
integer counts every kind reports, and for scoring the mean score weighted by the skeletons each chunk
scored), so a half-done job already says what it has produced. ``label`` is the name progress events
carry (``services.jobs.job_label``).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse

from annotator.exceptions import NotFoundError
from annotator.models import Job, JobChunk
from annotator.services.job_kinds import job_result
from annotator.services.jobs import job_label

#: Jobs listed at most.
MAX_JOBS = 50
#: Failed chunks whose error (first line) a job's data repeats.
SHOWN_CHUNK_ERRORS = 3


def job_list(*, kind: str | None = None, dataset: str | None = None, limit: int = MAX_JOBS) -> QuerySet[Job]:
    """The newest jobs (optionally of one kind and/or dataset name), newest first."""
    jobs = Job.objects.select_related("dataset", "created_by").order_by("-created_at", "-pk")
    if kind:
        jobs = jobs.filter(kind=kind)
    if dataset:
        jobs = jobs.filter(dataset__name=dataset)
    return jobs[:limit]


def job_get(*, job_id: int) -> Job:
    try:
        return Job.objects.select_related("dataset", "created_by").get(pk=job_id)
    except Job.DoesNotExist:
        raise NotFoundError(f"no job {job_id}") from None


def job_result_summary(*, job: Job) -> dict:
    """The job's result so far: its finished chunks' results summed up by its kind's ``result``."""
    results = list(job.chunks.filter(status=JobChunk.Status.DONE).order_by("index").values_list("result", flat=True))
    return job_result(kind=job.kind, results=results)


def job_dict(*, job: Job) -> dict:
    """A job's state, progress, errors and result so far, as plain JSON data."""
    errors = [
        (e.strip().splitlines() or [""])[0]
        for e in job.chunks.filter(status=JobChunk.Status.FAILED).values_list("error", flat=True)[:SHOWN_CHUNK_ERRORS]
    ]
    return {
        "id": job.pk,
        "label": job_label(job),
        "kind": job.kind,
        "dataset": job.dataset.name,
        "source": job.params.get("source"),
        "status": job.status,
        "done": job.progress_done,
        "total": job.progress_total,
        "error": job.error,
        "chunk_errors": errors,
        "result": job_result_summary(job=job),
        "created_by": job.created_by.username if job.created_by else None,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "url": reverse("api:job-detail", kwargs={"job_id": job.pk}),
    }
