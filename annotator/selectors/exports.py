"""Reads of exports: the list for the dashboard, one export, and its finished files."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db.models import QuerySet

from annotator.exceptions import NotFoundError
from annotator.exporters.multiview import rig_path
from annotator.exporters.provenance import provenance_path
from annotator.models import Export, Job

#: Files of an export that can be downloaded (``rig``: the calibration beside a multi-view export).
EXPORT_FILES: tuple[str, ...] = ("data", "provenance", "rig")


def export_list() -> QuerySet[Export]:
    """Every export, newest first, with its dataset, job and author."""
    return Export.objects.select_related("dataset", "job", "created_by").order_by("-created_at", "-pk")


def export_get(*, export_id: int) -> Export:
    try:
        return export_list().get(pk=export_id)
    except Export.DoesNotExist:
        raise NotFoundError(f"no export {export_id}") from None


def export_file(*, export: Export, which: str = "data") -> Path:
    """The finished file of ``export`` (``data``, ``provenance`` or ``rig``); NotFoundError while it is not there."""
    if which not in EXPORT_FILES:
        raise NotFoundError(f"an export has no {which!r} file; use one of {', '.join(EXPORT_FILES)}")
    if export.job.status != Job.Status.DONE or not export.file:
        raise NotFoundError(f"export {export.pk} is {export.job.status}; its file is not ready",
                            extra={"status": export.job.status})  # fmt: skip
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / export.file).resolve()
    if which == "provenance":
        path = provenance_path(path)
    elif which == "rig":
        rig = rig_path(path, export.dataset.rig_format) if export.format == Export.Format.MULTIVIEW else None
        if rig is None or not rig.is_file():
            raise NotFoundError(f"export {export.pk} has no rig file (only multi-view exports of imported rigs do)")
        path = rig.resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFoundError(f"the file of export {export.pk} is missing")
    return path
