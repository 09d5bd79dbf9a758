"""Writing multi-crop quality scores: one row per skeleton and checkpoint, upserted so a rerun is harmless."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db import transaction

from annotator.exceptions import ApplicationError
from annotator.models import QualityScore, Skeleton3D


@dataclass(frozen=True)
class ScoreRow:
    """One skeleton's score (pixels, NaN when nothing was scorable) with its per-view and per-part means."""

    skeleton_id: int
    score: float
    per_view: dict[str, float | None]
    per_part: dict[str, float | None]


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


@transaction.atomic
def quality_scores_write(*, rows: list[ScoreRow], model_name: str, checkpoint: str) -> int:
    """Store ``rows`` under ``checkpoint`` (replacing that checkpoint's earlier scores of the same skeletons)."""
    if not checkpoint or not model_name:
        raise ApplicationError("quality scores need a model name and a checkpoint hash")
    ids = {r.skeleton_id for r in rows}
    found = set(Skeleton3D.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if ids - found:
        raise ApplicationError(f"skeletons {sorted(ids - found)[:5]} do not exist")
    objs = [
        QualityScore(
            skeleton_id=r.skeleton_id,
            model_name=model_name,
            checkpoint=checkpoint,
            score=_finite(r.score),
            per_view={k: _finite(v) for k, v in r.per_view.items()},
            per_part={k: _finite(v) for k, v in r.per_part.items()},
        )
        for r in rows
    ]
    QualityScore.objects.bulk_create(
        objs,
        update_conflicts=True,
        unique_fields=["skeleton", "checkpoint"],
        update_fields=["model_name", "score", "per_view", "per_part"],
    )
    return len(objs)
