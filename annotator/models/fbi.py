"""Forward/backward bone labels (FBI, HEMlets PoSh section 5): labels implied by 3D skeletons, and people's answers.

``FBIAutoLabels`` holds the labels a skeleton version implies in one view for one bone subset, computed
in batch by the worker (``annotator.fbi.skeleton_labels``): one row per (skeleton, view, subset) with
the whole label and tilt vectors in two small binary columns, in ``layout.bones(subset)`` order (the dataset's
layout), so
the table grows with skeleton-views, not with bones. ``FBIAnswer`` rows are people's answers on FBI
tasks (``Task.kind == "fbi"``): append-only, the latest row per (task, view, bone) is the answer.
Fields and constraints only; writes live in ``annotator.services.fbi``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotator import keypoints
from annotator.fields import SmallArrayField
from annotator.models.annotation import Task
from annotator.models.datasets import Skeleton3D, View


class FBIAutoLabels(models.Model):
    """The FBI labels (int8, ``annotator.fbi`` constants) and tilts (degrees) of a skeleton's bones in a view."""

    skeleton = models.ForeignKey(Skeleton3D, on_delete=models.CASCADE, related_name="fbi_labels")
    view = models.ForeignKey(View, on_delete=models.CASCADE, related_name="fbi_labels")
    bones_subset = models.CharField(max_length=20, choices=[(s, s) for s in keypoints.ALL_BONE_SUBSETS])
    labels = SmallArrayField(dtype="<i1", help_text="one label per bone of keypoints.bones(bones_subset)")
    tilt = SmallArrayField(dtype="<f4", help_text="degrees out of the image plane, per bone; NaN if unknown")
    unknown_tilt_deg = models.FloatField(help_text="bones tilted less than this are labelled unknown")
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["skeleton", "view", "bones_subset"]
        verbose_name = "FBI auto labels"
        verbose_name_plural = "FBI auto labels"
        constraints = [
            models.UniqueConstraint(fields=["skeleton", "view", "bones_subset"], name="unique_fbi_labels"),
        ]

    def __str__(self) -> str:
        return f"FBI {self.bones_subset} of skeleton {self.skeleton_id} in view {self.view_id}"


class FBIAnswer(models.Model):
    """One person's answer for one bone in one view of an FBI task; append-only (the latest one counts)."""

    class Label(models.TextChoices):
        FORWARD = "forward", "forward (child nearer the camera)"
        BACKWARD = "backward", "backward (child farther)"
        UNKNOWN = "unknown", "unknown (not sure)"
        SKIPPED = "skipped", "skipped"

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="fbi_answers")
    view = models.ForeignKey(View, on_delete=models.PROTECT, related_name="fbi_answers")
    parent = models.SmallIntegerField()
    child = models.SmallIntegerField()
    label = models.CharField(max_length=10, choices=Label.choices)
    seconds = models.FloatField(help_text="time the person took for this answer, measured by the browser")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="fbi_answers")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["task", "id"]
        verbose_name = "FBI answer"
        constraints = [
            models.CheckConstraint(
                condition=Q(child__gte=0)
                & Q(child__lt=keypoints.NUM_KEYPOINTS)
                & Q(parent__gte=0)
                & Q(parent__lt=keypoints.NUM_KEYPOINTS),
                name="fbi_answer_joints_in_range",
            ),
            models.CheckConstraint(condition=Q(seconds__gte=0), name="fbi_answer_seconds_non_negative"),
        ]
        indexes = [models.Index(fields=["task", "view", "child"], name="fbi_answer_task_bone")]

    def __str__(self) -> str:
        layout = self.view.frame.sequence.subject.dataset.layout
        return f"task {self.task_id} view {self.view_id}: {layout.bone_name(self.parent, self.child)} {self.label}"
