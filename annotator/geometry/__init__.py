"""Pure numpy camera geometry: the calibrated camera, lens distortion, projection, triangulation, epipolar lines.

Everything the tool measures rests on these functions, so they take and return plain arrays,
state their shapes, import nothing from Django and raise ``ValueError`` (never ``assert``) on
input a user request can reach. Modules: ``camera`` (Camera, lens models, projection),
``triangulation`` (DLT and robust multi-view triangulation), ``epipolar`` (two-view geometry);
this package re-exports their public names, so callers import from ``annotator.geometry``.
"""

from annotator.geometry.camera import (
    DISTORTION_MODELS,
    MIN_BASELINE_MM,
    Camera,
    distort_normalized,
    normalize_points,
    project,
    rig_cameras,
    undistort_normalized,
    undistort_points,
)
from annotator.geometry.epipolar import (
    DEFAULT_EPIPOLAR_DEPTHS,
    DEFAULT_MAX_PAIR_ANGLE_DEG,
    EPIPOLAR_MARGIN,
    axes_meeting_point,
    epipolar_curve,
    epipolar_line,
    fundamental_matrix,
    non_opposing_pairs,
    rig_epipolar_depths,
)
from annotator.geometry.triangulation import (
    DEFAULT_THRESHOLD_PX,
    MAX_EXHAUSTIVE_VIEWS,
    MAX_RANSAC_HYPOTHESES,
    reprojection_errors,
    triangulate,
    triangulate_robust,
)

__all__ = [
    "DEFAULT_EPIPOLAR_DEPTHS",
    "DEFAULT_MAX_PAIR_ANGLE_DEG",
    "DEFAULT_THRESHOLD_PX",
    "DISTORTION_MODELS",
    "EPIPOLAR_MARGIN",
    "MAX_EXHAUSTIVE_VIEWS",
    "MAX_RANSAC_HYPOTHESES",
    "MIN_BASELINE_MM",
    "Camera",
    "axes_meeting_point",
    "distort_normalized",
    "epipolar_curve",
    "epipolar_line",
    "fundamental_matrix",
    "non_opposing_pairs",
    "normalize_points",
    "project",
    "reprojection_errors",
    "rig_cameras",
    "rig_epipolar_depths",
    "triangulate",
    "triangulate_robust",
    "undistort_normalized",
    "undistort_points",
]
