"""Exported files of a dataset version: what was asked, where the file is; status and progress are the Job's.

Fields and constraints only; writes live in ``annotator.services.exports``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Export(models.Model):
    """One export of a dataset version (H3WB or COCO-WholeBody JSON plus provenance), run as a background job."""

    class Format(models.TextChoices):
        H3WB = "h3wb", "H3WB JSON"
        COCO_WHOLEBODY = "coco-wholebody", "COCO-WholeBody JSON"
        H3WB_NPZ = "h3wb-npz", "H3WB npz (PAFUSE / mmpose training layout)"
        MULTIVIEW = "multiview", "generic multi-view JSON Lines with its rig file"

    job = models.OneToOneField("annotator.Job", on_delete=models.CASCADE, related_name="export")
    dataset = models.ForeignKey("annotator.Dataset", on_delete=models.CASCADE, related_name="exports")
    format = models.CharField(max_length=20, choices=Format.choices)
    #: H3WB keys 0, 1, ... in export order instead of the source sample ids.
    renumber = models.BooleanField(default=False)
    version = models.CharField(max_length=40, help_text="latest-accepted, a skeleton source or a version number")
    subjects = models.JSONField(default=list, blank=True, help_text="empty: every subject")
    #: Path of the finished file relative to MEDIA_ROOT; the provenance file lies beside it.
    file = models.CharField(max_length=300, blank=True)
    samples = models.PositiveIntegerField(default=0)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"export {self.pk}: {self.dataset_id} {self.version} as {self.format}"
