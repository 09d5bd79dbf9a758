"""The correction workflow's tables: tasks, their append-only corrections and part validity, edit locks.

A Task asks one annotator to correct one frame in some of its views. Every write to a task appends
a row stamped with the task's next ``revision`` (the head revision lives on the task and is bumped
by every write, which is what optimistic concurrency compares against); nothing is updated or
deleted, so the 2D state at any revision is a replay of the rows up to it. ``current_keypoints``
is the re-triangulated 3D skeleton, kept in step with the corrections in the same transaction.
Fields and constraints only; writes live in ``annotator.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from annotator import keypoints
from annotator.fields import KeypointArrayField
from annotator.models.datasets import Frame, Skeleton3D, View

#: Parts whose validity any shipped layout records, in first-seen order (COCO-WholeBody: face, hands).
VALIDITY_PART_CHOICES: tuple[str, ...] = tuple(
    dict.fromkeys(p for layout in keypoints.LAYOUTS.values() for p in layout.validity_parts)
)
#: An edit lock whose last heartbeat is older than this (seconds) has expired and may be taken over.
LOCK_TTL_S = 30


class Task(models.Model):
    """One annotator's job on one frame in a set of views: correcting its skeleton, or labelling its bones (FBI)."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", "correction"
        FBI = "fbi", "forward/backward bone labels"

    class Status(models.TextChoices):
        TODO = "todo", "to do"
        IN_PROGRESS = "in_progress", "in progress"
        SUBMITTED = "submitted", "submitted"
        ACCEPTED = "accepted", "accepted"
        REJECTED = "rejected", "rejected"

    #: Statuses in which the assignee may still write corrections.
    EDITABLE_STATUSES = (Status.TODO, Status.IN_PROGRESS, Status.REJECTED)
    #: Statuses of a task that is not finished; a frame has at most one such task per assignee.
    OPEN_STATUSES = (Status.TODO, Status.IN_PROGRESS, Status.SUBMITTED, Status.REJECTED)

    frame = models.ForeignKey(Frame, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.CORRECTION)
    #: FBI tasks: the bone subset asked about (one of the dataset layout's ``bone_subsets``, the choices are those of
    #: every layout); empty for correction tasks.
    bones = models.CharField(max_length=20, blank=True, choices=[(s, s) for s in keypoints.ALL_BONE_SUBSETS])
    views = models.ManyToManyField(View, related_name="tasks", help_text="the views the annotator corrects")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tasks")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.TODO)
    priority = models.IntegerField(default=0, help_text="lower comes first in the queue")
    study = models.ForeignKey(
        "annotator.Study", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks",
        help_text="the cross-check study this task belongs to, if any",
    )  # fmt: skip
    base_skeleton = models.ForeignKey(Skeleton3D, on_delete=models.PROTECT, related_name="tasks")
    result_skeleton = models.ForeignKey(
        Skeleton3D, null=True, blank=True, on_delete=models.PROTECT, related_name="result_of_tasks"
    )
    revision = models.PositiveIntegerField(default=0, help_text="head revision, bumped by every write")
    current_keypoints = KeypointArrayField(dims=3, help_text="the corrected skeleton so far, world mm")
    review_comment = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="reviewed_tasks"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="created_tasks"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["priority", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["frame", "assignee", "kind"],
                condition=Q(status__in=["todo", "in_progress", "submitted", "rejected"]),
                name="one_open_task_per_frame_and_assignee",
            ),
        ]
        indexes = [models.Index(fields=["assignee", "status", "priority"], name="task_queue")]

    def __str__(self) -> str:
        return f"task {self.pk} ({self.status}) on {self.frame_id} for {self.assignee_id}"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE_STATUSES

    @property
    def page_url(self) -> str:
        """The page on which the assignee works on the task: the editor, or the FBI labeller."""
        return reverse("frontend:fbi" if self.kind == self.Kind.FBI else "frontend:editor", kwargs={"task_id": self.pk})


class Correction(models.Model):
    """One immutable write of one keypoint's 2D position and flag in one view (null x/y: back to the dataset)."""

    class Flag(models.TextChoices):
        VISIBLE = "visible", "visible"
        OCCLUDED = "occluded", "occluded"
        UNSURE = "unsure", "unsure"

    class Kind(models.TextChoices):
        MOVE = "move", "move"
        FLAG = "flag", "flag"
        UNDO = "undo", "undo"
        REDO = "redo", "redo"

    class Source(models.TextChoices):
        MANUAL = "manual", "manual"
        MODEL = "model", "model-assisted"

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="corrections")
    revision = models.PositiveIntegerField()
    view = models.ForeignKey(View, on_delete=models.PROTECT, related_name="corrections")
    keypoint = models.SmallIntegerField()
    x = models.FloatField(null=True, blank=True, help_text="distorted pixels; null = the dataset projection")
    y = models.FloatField(null=True, blank=True)
    flag = models.CharField(max_length=10, choices=Flag.choices, default=Flag.VISIBLE)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MOVE)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    #: The previous correction of the same task, view and keypoint: the chain is linear.
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    #: For undo and redo: the revision of the write undone or redone.
    target_revision = models.PositiveIntegerField(null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="corrections")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["task", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["task", "revision"], name="unique_correction_revision"),
            models.UniqueConstraint(fields=["supersedes"], name="correction_superseded_once"),
            # The upper bound is the dataset layout's keypoint count, which ``correction_create`` checks.
            models.CheckConstraint(condition=Q(keypoint__gte=0), name="correction_keypoint_in_range"),
            models.CheckConstraint(
                condition=Q(x__isnull=True, y__isnull=True) | Q(x__isnull=False, y__isnull=False),
                name="correction_xy_both_or_neither",
            ),
        ]
        indexes = [models.Index(fields=["task", "keypoint", "revision"], name="correction_task_keypoint")]

    def __str__(self) -> str:
        return f"task {self.task_id} r{self.revision}: {self.kind} keypoint {self.keypoint} in view {self.view_id}"

    @property
    def is_reset(self) -> bool:
        return self.x is None


class PartValidity(models.Model):
    """One immutable write of whether a part (face, a hand) can be annotated in one view."""

    class Kind(models.TextChoices):
        SET = "set", "set"
        UNDO = "undo", "undo"
        REDO = "redo", "redo"

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="part_validities")
    revision = models.PositiveIntegerField()
    view = models.ForeignKey(View, on_delete=models.PROTECT, related_name="part_validities")
    #: One of the dataset layout's ``validity_parts`` (``part_validity_set`` checks which); the choices are
    #: every shipped layout's.
    part = models.CharField(max_length=20, choices=[(p, p) for p in VALIDITY_PART_CHOICES])
    valid = models.BooleanField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SET)
    #: For undo and redo: the revision of the write undone or redone.
    target_revision = models.PositiveIntegerField(null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="part_validities")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["task", "revision"]
        verbose_name_plural = "part validities"
        constraints = [models.UniqueConstraint(fields=["task", "revision"], name="unique_part_validity_revision")]

    def __str__(self) -> str:
        return f"task {self.task_id} r{self.revision}: {self.part} {'valid' if self.valid else 'invalid'}"


class TaskLock(models.Model):
    """Who holds a task open for editing, in which editor session (one browser tab) and through which
    websocket; expires ``LOCK_TTL_S`` after its heartbeat."""

    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="lock")
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="task_locks")
    channel_name = models.CharField(max_length=200)
    #: The editor session (a browser tab's random id, or the channel for other clients) the lock belongs to.
    session = models.CharField(max_length=200, blank=True)
    acquired_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"lock on task {self.task_id} by {self.holder_id}"
