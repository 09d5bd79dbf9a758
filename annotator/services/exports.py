"""Exports as background jobs: create one (a ``Job`` of kind ``export`` with one chunk, plus its ``Export``
row), and run it (write the file under MEDIA_ROOT/exports/, report progress, record the outcome).

The ``export`` job kind's spec (``services.job_kinds``): ``export_job_start`` and ``export_chunk_run``; the
generic runner claims the chunk and records the outcome. A bad input (a frame lacking the version, a file name
outside MEDIA_ROOT) fails the job at once, without retries.

The command line writes through the same ``annotator.exporters.write_export`` directly.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from annotator import names
from annotator.exceptions import ApplicationError
from annotator.exporters import check_format, check_layout, write_export
from annotator.exporters.samples import export_plan
from annotator.exporters.versions import parse_version
from annotator.models import Export, Job, JobChunk
from annotator.selectors.datasets import dataset_get
from annotator.services.events import job_progress_broadcast
from annotator.services.jobs import ChunkInputError, job_create, job_label

EXPORT_JOB_KIND = Job.Kind.EXPORT
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
    check_layout(fmt, dataset)
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


def export_job_start(*, dataset_name: str, fmt: str, version: str, subjects: list[str] | None = None,
                     created_by=None, renumber: bool = False) -> tuple[Job, bool]:  # fmt: skip
    """The export kind's start: a new export (never a resumed one) as (its job, False)."""
    export = export_create(dataset_name=dataset_name, fmt=fmt, version=version, subjects=subjects, user=created_by,
                           renumber=renumber)  # fmt: skip
    return export.job, False


def export_chunk_run(*, job: Job, chunk: JobChunk) -> tuple[dict, Callable[[], None]]:
    """Write the export's file: (the summary, the write that records it on the ``Export``).

    An error is recorded on the ``Export`` too; bad input (``ApplicationError``) is a ``ChunkInputError``.
    """
    export = Export.objects.select_related("dataset").get(job=job)
    name = export_file_name(export)
    try:
        out = names.path_under(settings.MEDIA_ROOT, name, what="the export file")
        summary = write_export(dataset=export.dataset, fmt=export.format, version=export.version,
                               out=out, subjects=export.subjects or None, renumber=export.renumber,
                               progress=lambda done, total: _report_progress(job, done, total))  # fmt: skip
    except ApplicationError as exc:
        Export.objects.filter(pk=export.pk).update(error=exc.message)
        raise ChunkInputError(exc.message) from exc
    except Exception as exc:
        Export.objects.filter(pk=export.pk).update(error=str(exc))
        raise

    def record() -> None:
        Export.objects.filter(pk=export.pk).update(file=name, samples=summary.samples, size_bytes=summary.size_bytes,
                                                   error="")  # fmt: skip

    return summary.as_dict(), record
