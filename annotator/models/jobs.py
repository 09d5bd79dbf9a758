"""A generic table of chunked, resumable background jobs: a ``Job`` is split into ``JobChunk`` rows that
workers claim, run and finish one by one, so a rerun skips finished chunks and a chunk held by a dead
worker (a stale ``started_at``) is claimed again. Fields and constraints only; see ``services.jobs``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Job(models.Model):
    """One long-running job over a dataset (e.g. quality scoring); progress counts finished chunks."""

    class Kind(models.TextChoices):
        """The job kinds; each has one spec (start, run_chunk, result) in ``services.job_kinds.JOB_KINDS``."""

        QUALITY_SCORE = "quality_score", "quality scoring"
        FBI_LABELS = "fbi_labels", "FBI labels from 3D"
        DETECT_2D = "detect_2d", "2D detection with the pretrained model"
        EXPORT = "export", "export"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=50, choices=Kind.choices)
    dataset = models.ForeignKey("annotator.Dataset", on_delete=models.CASCADE, related_name="jobs")
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["kind", "dataset", "status"], name="job_kind_dataset_status")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} on {self.dataset_id} ({self.status} {self.progress_done}/{self.progress_total})"


class JobChunk(models.Model):
    """One unit of a job's work; ``payload`` says what to do, ``result`` what came of it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="unique_job_chunk_index")]
        indexes = [models.Index(fields=["job", "status"], name="jobchunk_job_status")]

    def __str__(self) -> str:
        return f"chunk {self.index} of job {self.job_id} ({self.status})"
