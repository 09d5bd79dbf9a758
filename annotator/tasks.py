"""Background task entry points of the annotator app (django-tasks): exports and automatic FBI labels.

``export_start`` creates the export and enqueues ``export_run_task`` once the transaction commits; the
task runs under any configured backend (``db_worker`` or ``rqworker``) and goes through the services.
``fbi_label_job_enqueue`` hands each unfinished chunk of an FBI labelling job to ``fbi_label_chunk_task``.
"""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from annotator.models import Export, Job, JobChunk
from annotator.services.exports import export_create, export_run
from annotator.services.fbi_labels import fbi_label_chunk_run
from annotator.services.jobs import chunk_claim_index


@task()
def export_run_task(export_id: int) -> dict:
    """Task: write export ``export_id`` (skipped when it is done or another live worker has it)."""
    export = Export.objects.select_related("dataset", "job").get(pk=export_id)
    export = export_run(export=export)
    return {"status": export.job.status, "file": export.file, "error": export.error}


def export_start(*, dataset_name: str, fmt: str, version: str, subjects: list[str] | None = None, user=None,
                 renumber: bool = False) -> Export:  # fmt: skip
    """Create an export and queue it; the worker picks it up after the creating transaction commits."""
    with transaction.atomic():
        export = export_create(dataset_name=dataset_name, fmt=fmt, version=version, subjects=subjects, user=user,
                               renumber=renumber)  # fmt: skip
        transaction.on_commit(lambda: export_run_task.enqueue(export.pk))
    return export


@task()
def fbi_label_chunk_task(job_id: int, chunk_index: int) -> dict:
    """Task: label chunk ``chunk_index`` of FBI labelling job ``job_id`` unless it is done or held by a live worker."""
    job = Job.objects.get(pk=job_id)
    chunk = chunk_claim_index(job=job, index=chunk_index)
    if chunk is None:
        return {"skipped": True}
    return fbi_label_chunk_run(job=job, chunk=chunk).result or {}


def fbi_label_job_enqueue(*, job: Job) -> int:
    """One ``fbi_label_chunk_task`` per unfinished chunk of ``job``, after the transaction commits; returns how many."""
    indices = list(job.chunks.exclude(status=JobChunk.Status.DONE).values_list("index", flat=True))
    transaction.on_commit(lambda: [fbi_label_chunk_task.enqueue(job.pk, i) for i in indices])
    return len(indices)
