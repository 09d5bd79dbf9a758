"""H3WB step 1: whole-body 3D from incomplete per-view 2D detections by multi-view geometry.

Pure numpy. A keypoint is lifted when the robust triangulation finds views that agree on it and
those views include at least one *non-opposing* pair (cameras facing each other see opposite sides
of the body, so a pair of them alone is not trusted, as in H3WB). Everything else stays NaN, for a
completion network or a person to fill in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from annotator import geometry, keypoints

#: Detections below this confidence are treated as missed.
DEFAULT_MIN_SCORE = 0.3


def lift_multiview(
    cameras: Sequence[geometry.Camera] | Mapping[str, geometry.Camera],
    points: np.ndarray,
    scores: np.ndarray,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    threshold_px: float = geometry.DEFAULT_THRESHOLD_PX,
    layout: keypoints.Layout = keypoints.DEFAULT_LAYOUT,
) -> tuple[np.ndarray, np.ndarray]:
    """Lift F frames of one rig from their per-view detections.

    Args:
        cameras: the V cameras of the rig.
        points: (F, V, J, 2) detected pixels (anything where the score is below ``min_score``),
            J the keypoint count of ``layout`` (the dataset's).
        scores: (F, V, J) detector confidences in [0, 1].
    Returns:
        X: (F, J, 3) world mm, NaN where the keypoint could not be lifted.
        inliers: (F, V, J) bool, the views each lifted keypoint was fitted on.
    """
    cams = list(cameras.values()) if isinstance(cameras, Mapping) else list(cameras)
    points = np.asarray(points, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    V = len(cams)
    if points.ndim != 4 or points.shape[1] != V or points.shape[3] != 2:
        raise ValueError(f"points must have shape (F, {V}, J, 2), got {points.shape}")
    if scores.shape != points.shape[:3]:
        raise ValueError(f"scores must have shape {points.shape[:3]}, got {scores.shape}")
    if points.shape[2] != layout.num_keypoints:
        raise ValueError(f"expected {layout.num_keypoints} keypoints per view ({layout.title}), got {points.shape[2]}")
    F, _, J, _ = points.shape
    visible = (scores >= min_score) & np.isfinite(points).all(axis=-1)  # (F, V, J)
    obs = np.where(visible[..., None], points, np.nan).transpose(1, 0, 2, 3).reshape(V, F * J, 2)
    X, inliers = geometry.triangulate_robust(cams, obs, visible.transpose(1, 0, 2).reshape(V, F * J), threshold_px)
    inliers = inliers.reshape(V, F, J).transpose(1, 0, 2)
    pairs = geometry.non_opposing_pairs(cams)
    supported = np.zeros((F, J), dtype=bool)
    for i, j in pairs:
        supported |= inliers[:, i] & inliers[:, j]
    X = X.reshape(F, J, 3)
    X[~supported] = np.nan
    inliers &= supported[:, None, :]
    return X, inliers


def lift_statistics(X: np.ndarray, scores: np.ndarray, *, min_score: float = DEFAULT_MIN_SCORE) -> dict:
    """H3WB's step-1 statistics for lifted skeletons.

    Args:
        X: (F, J, 3) lifted skeletons (NaN = not lifted).
        scores: (F, V, J) detector confidences.
    Returns:
        ``frames``; ``complete``: skeletons with every keypoint lifted; ``all_seen``: skeletons whose
        every keypoint was detected in at least one view; ``lifted_fraction``: share of keypoints lifted.
    """
    lifted = np.isfinite(X).all(axis=-1)  # (F, J)
    seen = (scores >= min_score).any(axis=1)  # (F, J)
    return {
        "frames": int(X.shape[0]),
        "complete": int(lifted.all(axis=1).sum()),
        "all_seen": int(seen.all(axis=1).sum()),
        "lifted_fraction": float(lifted.mean()) if lifted.size else 0.0,
    }
