"""The registry of background-job kinds: one ``JobSpec`` per ``Job.Kind``, and nothing else to edit to add one.

A spec names three functions by dotted path (resolved on first use, so the web process does not import torch
for a kind it never runs):

- ``start(*, dataset..., created_by=None, **params) -> (job, resumed)``: checks the input (bad input fails
  before any write) and creates the job with its chunks through ``services.jobs.job_create``, or finds the
  same unfinished work to resume (``job_find_same`` + ``job_resume``);
- ``run_chunk(*, job, chunk, **options) -> (result, write)``: does one claimed chunk's work and returns the
  chunk's result (JSON) and a callable that stores its output (or None); ``services.jobs.job_chunk_run`` runs ``write``
  in the transaction that marks the chunk done, and records a failure on the chunk (``ChunkInputError``: the
  same input fails the same way, so no retry);
- ``result(chunk_results) -> dict``: the job's result so far from its finished chunks' results (the jobs API).

``annotator.tasks.job_chunk_task`` is the one worker task for every kind, ``annotator.tasks.job_enqueue`` the
one way to hand a job's unfinished chunks to the workers, and ``resume_jobs`` re-enqueues every registered
kind. Adding a kind: a ``Job.Kind`` member (and its migration: the field's choices), its three functions, and
one entry in ``JOB_KINDS``; ``tests/annotator/services/test_job_kinds.py`` checks the spec and resume support.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.module_loading import import_string

from annotator.exceptions import ApplicationError
from annotator.models import Job


def sum_counts(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The integer counts of the chunks' results, summed key by key (booleans are not counts)."""
    totals: dict[str, Any] = {}
    for result in results:
        for key, value in (result or {}).items():
            if isinstance(value, int) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
    return totals


def counts_and_mean(results: list[dict[str, Any]]) -> dict[str, Any]:
    """``sum_counts`` plus ``mean``: the chunks' means weighted by how many items each ``scored``."""
    totals = sum_counts(results)
    weighted, weight = 0.0, 0
    for result in results:
        result = result or {}
        if isinstance(result.get("mean"), int | float) and isinstance(result.get("scored"), int):
            weighted += result["mean"] * result["scored"]
            weight += result["scored"]
    if weight:
        totals["mean"] = weighted / weight
    return totals


@dataclass(frozen=True)
class JobSpec:
    """How one kind of job starts, runs a chunk and sums up its result (dotted paths to the functions)."""

    kind: str
    start: str
    run_chunk: str
    result: str = "annotator.services.job_kinds.sum_counts"

    def function(self, role: str) -> Callable[..., Any]:
        """The ``start``, ``run_chunk`` or ``result`` function, imported on first use."""
        if role not in ("start", "run_chunk", "result"):
            raise ValueError(f"a job spec has no {role!r} function")
        return import_string(getattr(self, role))


#: Job kind -> its spec. Every ``Job.Kind`` has one (tests/annotator/services/test_job_kinds.py checks).
JOB_KINDS: dict[str, JobSpec] = {
    Job.Kind.QUALITY_SCORE: JobSpec(
        kind=Job.Kind.QUALITY_SCORE,
        start="ml_services.tasks.scoring_job_start",
        run_chunk="ml_services.tasks.score_chunk_run",
        result="annotator.services.job_kinds.counts_and_mean",
    ),
    Job.Kind.FBI_LABELS: JobSpec(
        kind=Job.Kind.FBI_LABELS,
        start="annotator.services.fbi_labels.fbi_label_job_start",
        run_chunk="annotator.services.fbi_labels.fbi_label_chunk_run",
    ),
    Job.Kind.DETECT_2D: JobSpec(
        kind=Job.Kind.DETECT_2D,
        start="ml_services.detection_tasks.detection_job_start",
        run_chunk="ml_services.detection_tasks.detect_chunk_run",
    ),
    Job.Kind.EXPORT: JobSpec(
        kind=Job.Kind.EXPORT,
        start="annotator.services.exports.export_job_start",
        run_chunk="annotator.services.exports.export_chunk_run",
    ),
}


def job_spec(kind: str) -> JobSpec:
    """The spec of ``kind``; an unknown kind is a clear error."""
    try:
        return JOB_KINDS[kind]
    except KeyError:
        raise ApplicationError(f"unknown job kind {kind!r}; known kinds: {', '.join(JOB_KINDS)}") from None


def job_result(*, kind: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    """A job's result from its finished chunks' results, as its kind sums them (counts for a kind not registered)."""
    spec = JOB_KINDS.get(kind)
    return spec.function("result")(results) if spec is not None else sum_counts(results)
