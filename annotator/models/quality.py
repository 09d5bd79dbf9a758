"""Multi-crop quality scores of skeletons (H3WB sec. 3.4): one row per skeleton and refiner checkpoint.

Lower is better: the score is the mean 2D displacement (pixels) the face and hand refiners apply to
the skeleton's projection over corner crops, parts and views. Fields and constraints only.
"""

from __future__ import annotations

from django.db import models


class QualityScore(models.Model):
    """A skeleton's multi-crop consistency score under one pair of refiner checkpoints."""

    skeleton = models.ForeignKey("annotator.Skeleton3D", on_delete=models.CASCADE, related_name="quality_scores")
    model_name = models.CharField(max_length=100)
    checkpoint = models.CharField(max_length=64, help_text="hash of the refiner checkpoints used")
    score = models.FloatField(null=True, help_text="mean displacement in pixels; null when no part was scorable")
    per_view = models.JSONField(default=dict, help_text="camera name -> score")
    per_part = models.JSONField(default=dict, help_text="part name -> score")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["score", "skeleton"]
        constraints = [
            models.UniqueConstraint(fields=["skeleton", "checkpoint"], name="unique_quality_score_checkpoint")
        ]
        indexes = [models.Index(fields=["checkpoint", "score"], name="quality_checkpoint_score")]

    def __str__(self) -> str:
        return f"{self.skeleton_id}: {self.score} ({self.model_name})"
