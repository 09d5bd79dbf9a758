"""Exports as background jobs: create one (a ``Job`` of kind ``export`` with one chunk, plus its ``Export``
row), and run it (write the file under MEDIA_ROOT/exports/, report progress, record the outcome).

The command line writes through the same ``annotator.exporters.write_export`` directly.
"""

from __future__ import annotations

import traceback

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from annotator import names
from annotator.exceptions import ApplicationError
from annotator.exporters import check_format, write_export
from annotator.exporters.samples import export_plan
from annotator.exporters.versions import parse_version
from annotator.models import Export, Job
from annotator.selectors.datasets import dataset_get
from annotator.services.events import job_progress_broadcast
from annotator.services.jobs import MAX_ATTEMPTS, chunk_claim_index, chunk_done, chunk_failed, job_create, job_label

EXPORT_JOB_KIND = "export"
#: Directory under MEDIA_ROOT that holds the finished exports.
EXPORT_DIR = "exports"
FILE_SUFFIXES = {Export.Format.H3WB: ".h3wb.json", Export.Format.COCO_WHOLEBODY: ".coco-wholebody.json",
                 Export.Format.H3WB_NPZ: ".h3wb.npz", Export.Format.MULTIVIEW: ".multiview.jsonl"}  # fmt: skip


def export_file_name(export: Export) -> str:
    """The export's file, relative to MEDIA_ROOT: ``exports/<id>-<dataset>-<version><suffix>``."""
    return f"{EXPORT_DIR}/{export.pk}-{export.dataset.name}-{export.version}{FILE_SUFFIXES[export.format]}"


@transaction.atomic
def export_create(*, dataset_name: str, fmt: str, version: str, subjects: list[str] | None = None, user=None,
                  renumber: bool = False) -> Export:  # fmt: skip
    """A queued export of ``dataset_name``'s ``version`` as ``fmt``; bad names fail here, before any job exists."""
    dataset = dataset_get(name=dataset_name)
    check_format(fmt)
    spec = parse_version(version)
    subjects = sorted(set(subjects or []))
    export_plan(dataset=dataset, subjects=subjects)  # unknown subjects, empty dataset
    params = {"format": fmt, "version": spec.text, "subjects": subjects, "renumber": bool(renumber)}
    job = job_create(kind=EXPORT_JOB_KIND, dataset=dataset, params=params, payloads=[params], created_by=user)
    return Export.objects.create(job=job, dataset=dataset, format=fmt, version=spec.text, subjects=subjects,
                                 created_by=user, renumber=bool(renumber))  # fmt: skip


def _report_progress(job: Job, done: int, total: int) -> None:
    # Samples written so far; the chunk's completion sets the job's own count (1 of 1) at the end.
    Job.objects.filter(pk=job.pk).update(progress_done=done, progress_total=total, updated_at=timezone.now())
    job_progress_broadcast(job=job_label(job), done=done, total=total, state=Job.Status.RUNNING)


def export_run(*, export: Export) -> Export:
    """Write the export's file (unless it is finished or another live worker has it) and record the outcome.

    Bad input (a frame lacking the version) fails the job at once; other errors go back to the job queue's
    retry rule and are raised again.
    """
    job = export.job
    chunk = chunk_claim_index(job=job, index=0)
    if chunk is None:
        return export
    name = export_file_name(export)
    try:
        out = names.path_under(settings.MEDIA_ROOT, name, what="the export file")
        summary = write_export(dataset=export.dataset, fmt=export.format, version=export.version,
                               out=out, subjects=export.subjects or None, renumber=export.renumber,
                               progress=lambda done, total: _report_progress(job, done, total))  # fmt: skip
    except ApplicationError as exc:
        Export.objects.filter(pk=export.pk).update(error=exc.message)
        chunk.attempts = MAX_ATTEMPTS  # the same input fails the same way: no retry
        chunk_failed(chunk=chunk, error=exc.message)
        export.refresh_from_db()
        return export
    except Exception as exc:
        Export.objects.filter(pk=export.pk).update(error=str(exc))
        chunk_failed(chunk=chunk, error=f"{exc}\n{traceback.format_exc(limit=5)}")
        raise

    def record() -> None:
        Export.objects.filter(pk=export.pk).update(file=name, samples=summary.samples, size_bytes=summary.size_bytes,
                                                   error="")  # fmt: skip

    chunk_done(chunk=chunk, result=summary.as_dict(), write=record)
    export.refresh_from_db()
    return export
