"""Background task entry points of the annotator app (django-tasks): exports.

``export_start`` creates the export and enqueues ``export_run_task`` once the transaction commits; the
task runs under any configured backend (``db_worker`` or ``rqworker``) and goes through the services.
"""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from annotator.models import Export
from annotator.services.exports import export_create, export_run


@task()
def export_run_task(export_id: int) -> dict:
    """Task: write export ``export_id`` (skipped when it is done or another live worker has it)."""
    export = Export.objects.select_related("dataset", "job").get(pk=export_id)
    export = export_run(export=export)
    return {"status": export.job.status, "file": export.file, "error": export.error}


def export_start(*, dataset_name: str, fmt: str, version: str, subjects: list[str] | None = None, user=None) -> Export:
    """Create an export and queue it; the worker picks it up after the creating transaction commits."""
    with transaction.atomic():
        export = export_create(dataset_name=dataset_name, fmt=fmt, version=version, subjects=subjects, user=user)
        transaction.on_commit(lambda: export_run_task.enqueue(export.pk))
    return export
