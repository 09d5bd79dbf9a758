"""Writing a 2D detector's per-view output (``Detection2D``), as the detection job's chunks finish.

One row per (view, detector). A chunk may be run twice (a worker presumed dead finishes after all), so
writing is an upsert: the second write of the same view by the same detector replaces the first, whose
numbers were computed from the same image by the same model. Shapes are checked before anything is written.
"""

from __future__ import annotations

import numpy as np
from django.db import transaction

from annotator import keypoints
from annotator.exceptions import ApplicationError
from annotator.models import Detection2D


@transaction.atomic
def detections_write(*, detector: str, rows: list[tuple[int, np.ndarray, np.ndarray]]) -> int:
    """Store ``rows`` of (view id, (J, 2) points, (J,) scores in [0, 1]) for ``detector``; returns how many."""
    if not detector:
        raise ApplicationError("a detection needs the detector's name")
    J = keypoints.NUM_KEYPOINTS
    for view_id, points, scores in rows:
        points, scores = np.asarray(points, dtype=np.float64), np.asarray(scores, dtype=np.float64)
        if points.shape != (J, 2) or scores.shape != (J,):
            raise ApplicationError(f"detection of view {view_id} must be ({J}, 2) points and ({J},) scores")
        if not (np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()):
            raise ApplicationError(f"detection scores of view {view_id} must lie in [0, 1]")
    existing = {d.view_id: d for d in Detection2D.objects.filter(detector=detector, view_id__in=[r[0] for r in rows])}
    new, changed = [], []
    for view_id, points, scores in rows:
        row = existing.get(view_id) or Detection2D(view_id=view_id, detector=detector)
        row.keypoints_2d, row.scores = np.asarray(points, np.float64), np.asarray(scores, np.float64)
        (changed if row.pk else new).append(row)
    Detection2D.objects.bulk_create(new, batch_size=500)
    Detection2D.objects.bulk_update(changed, ["keypoints_2d", "scores"], batch_size=500)
    return len(rows)
