"""The re-triangulation rule of corrections, as a pure function: where a keypoint goes after annotators' drags.

One rule, two callers: the correction service (``services.annotations``) re-fits one keypoint after each
write, and the cross-check's sensitivity analysis (``annotator.simulation``) replays whole studies in
memory under other annotator assumptions. Both must move points exactly alike, or the sensitivity table
would describe another instrument than the one that produced the study.

The rule (see ``services.annotations`` for why): every view of the frame observes the keypoint, at the
annotator's drop where there is one, else at the projection of the task's base skeleton; dropped views
weigh 1 and the others ``UNCORRECTED_VIEW_WEIGHT``; a keypoint with no drop stays on the base point
exactly. No Django here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from annotator import geometry

#: Weight of a view's uncorrected (projected) observation relative to a corrected one. The dragged
#: view's residual after a single-view correction of d px is about d * 3w / (1 + 3w) with three
#: uncorrected views: 0.1 px for a 30 px drag at 1e-3, while depth along the dragged ray is still
#: decided by the uncorrected views (and the normal equations stay far from singular).
UNCORRECTED_VIEW_WEIGHT = 1e-3


def refit(cameras: Sequence[geometry.Camera], base: np.ndarray, drops: np.ndarray) -> np.ndarray:
    """Re-fit keypoints from the annotators' drops in some views and the base skeleton's projection in the others.

    Args:
        cameras: the V cameras of every view of the frame (corrected or not).
        base: (N, 3) world mm, the base skeleton's points (the dataset skeleton of a task).
        drops: (V, N, 2) distorted px, the latest drop of each point in each view; NaN where there is none.
    Returns:
        (N, 3) world mm: ``base`` where no view has a drop; the weighted triangulation elsewhere (NaN with
        fewer than two cameras, or where the rays are degenerate).
    """
    base = np.asarray(base, dtype=np.float64)
    drops = np.asarray(drops, dtype=np.float64)
    V = len(cameras)
    if base.ndim != 2 or base.shape[1] != 3:
        raise ValueError(f"base must have shape (N, 3), got {base.shape}")
    if drops.shape != (V, len(base), 2):
        raise ValueError(f"drops must have shape ({V}, {len(base)}, 2), got {drops.shape}")
    dropped = np.isfinite(drops).all(axis=-1)  # (V, N)
    corrected = dropped.any(axis=0)  # (N,)
    out = base.copy()
    if not corrected.any():
        return out
    if V < 2:
        out[corrected] = np.nan
        return out
    cols = np.flatnonzero(corrected)
    observed = np.stack([geometry.project(cam, base[cols]) for cam in cameras])  # (V, n, 2)
    observed = np.where(dropped[:, cols, None], drops[:, cols], observed)
    weights = np.where(dropped[:, cols], 1.0, UNCORRECTED_VIEW_WEIGHT)
    visible = np.isfinite(observed).all(axis=-1)
    out[cols] = geometry.triangulate(list(cameras), observed, visible, weights)
    return out
