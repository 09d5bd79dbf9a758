"""Cross-check studies: a reproducible random sample of a dataset's frames or images, handed to annotators.

A Study says what was sampled (dataset, subjects, how many items, seed, mode) and who corrects it
(annotators, how many per item); a StudyItem is one sampled frame (mode ``frame``: every view) or
one image (mode ``image``: a single view, ``view`` set). The tasks that do the work point back at
their study (``Task.study``). Honeypots are items whose ground truth is known, mixed into the study
to measure the annotators themselves. Fields and constraints only; writes live in
``annotator.services.studies``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotator import names
from annotator.models.datasets import Dataset, Frame, View


class Study(models.Model):
    """A cross-check of a dataset: sample items, have annotators correct them, compare before and after."""

    class Mode(models.TextChoices):
        FRAME = "frame", "frame (all views of an instant)"
        IMAGE = "image", "image (a single view)"

    name = models.SlugField(
        max_length=names.MAX_NAME_LENGTH, unique=True, help_text=f"{names.NAME_RULE} (used in URLs)"
    )
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="studies")
    subjects = models.JSONField(default=list, help_text="subject names sampled from")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.IMAGE)
    n_items = models.PositiveIntegerField(help_text="items sampled, honeypots not included")
    n_honeypots = models.PositiveIntegerField(default=0)
    seed = models.PositiveIntegerField(default=0)
    per_item = models.PositiveSmallIntegerField(default=1, help_text="annotators per item")
    annotators = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="studies")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="created_studies"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "studies"
        constraints = [
            models.CheckConstraint(condition=Q(n_items__gte=1), name="study_has_items"),
            models.CheckConstraint(condition=Q(per_item__gte=1), name="study_per_item_positive"),
            names.slug_constraint("study"),
        ]

    def __str__(self) -> str:
        return f"study {self.name} ({self.mode}, {self.n_items} items)"


class StudyItem(models.Model):
    """One sampled frame (``view`` null) or image (``view`` set) of a study."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="items")
    frame = models.ForeignKey(Frame, on_delete=models.PROTECT, related_name="study_items")
    view = models.ForeignKey(View, null=True, blank=True, on_delete=models.PROTECT, related_name="study_items")
    is_honeypot = models.BooleanField(default=False)

    class Meta:
        ordering = ["study", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "frame", "view"], name="unique_study_item"),
            models.UniqueConstraint(
                fields=["study", "frame"], condition=Q(view__isnull=True), name="unique_study_item_frame"
            ),
        ]

    def __str__(self) -> str:
        what = f"view {self.view_id}" if self.view_id else "all views"
        return f"{self.study_id}: frame {self.frame_id}, {what}{' (honeypot)' if self.is_honeypot else ''}"


class StudySimulation(models.Model):
    """One run of simulated annotators over a study's open tasks: which annotator model, with which parameters.

    Append-only: a study completed in several runs keeps each. The report shows them as the assumptions its
    figures rest on (a study done by people has none).
    """

    class Annotator(models.TextChoices):
        PERCEIVING = "perceiving", "perceiving (sees the image like a person; COCO-WholeBody spread)"
        PRETRAINED = "pretrained", "pretrained model (its own prediction on the image)"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="simulations")
    annotator = models.CharField(max_length=20, choices=Annotator.choices)
    params = models.JSONField(default=dict, help_text="the annotator model's parameters, as run")
    seed = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, help_text="tasks, moves, keypoints left unseen or occluded, ...")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="study_simulations"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "id"]

    def __str__(self) -> str:
        return f"simulation {self.pk} of study {self.study_id} ({self.annotator})"
