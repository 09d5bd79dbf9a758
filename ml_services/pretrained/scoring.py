"""Multi-crop quality scores with the pretrained model as the scorer (H3WB sec. 3.4): arrays in, arrays out.

For every view of a skeleton, the face and each hand are cut out four times around their projection,
the part sitting towards each corner of the crop (the crop turned upright as the part model expects,
the size it was trained on). The part model answers in each crop, and the score is its mean distance
(pixels) from the projection: a skeleton whose projection sits where the photograph shows the part
gets answers close to it wherever the part sits in the crop. A crop in which the model finds no such
part counts as unscorable (NaN), not as a number. The result has the shape of
``ml_services.scoring.ScoreResult``, so jobs, reports and the dashboard read it unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from annotator import keypoints
from ml_services.pretrained import mapping, pipeline
from ml_services.pretrained.crops import CENTRE_OFFSET, Roi, angle_up, roi_around
from ml_services.pretrained.parts import (
    DRAWN_FACE_SCALE,
    DRAWN_FACE_SHIFT_UP,
    FACE_EYES,
    FACE_MOUTH,
    HAND_UP,
    hand_index,
)
from ml_services.scoring import CORNERS, PART_NAMES, PART_WEIGHTINGS, ScoreResult, aggregate, check_views

#: How far each corner crop's centre moves from the part's, along each crop axis, in crop sides.
CORNER_SHIFT = 0.12


def part_region(part: str, points: np.ndarray) -> Roi | None:
    """The upright crop (continuous pixels) the part model expects around a skeleton's ``points`` (J, 2)."""
    pts = points[keypoints.PARTS[part]] + CENTRE_OFFSET
    if not np.isfinite(pts).all():
        return None
    if part == "face":
        eyes = points[[keypoints.index(n) for n in FACE_EYES]].mean(axis=0)
        mouth = points[[keypoints.index(n) for n in FACE_MOUTH]].mean(axis=0)
        return roi_around(pts, angle_up(eyes - mouth), DRAWN_FACE_SCALE, DRAWN_FACE_SHIFT_UP)
    a, b = (points[hand_index(part, n)] for n in HAND_UP)
    return roi_around(pts, angle_up(b - a), pipeline.HAND_SCALE, pipeline.HAND_SHIFT_UP)


def corner_regions(roi: Roi) -> list[Roi]:
    """The four crops of ``roi`` moved so the part sits towards each corner (``CORNERS`` order)."""
    axes = roi.axes()
    out = []
    for sx, sy in CORNERS:
        # The part towards corner (sx, sy) means the crop centre moves the other way.
        d = -(sx * axes[0] + sy * axes[1]) * CORNER_SHIFT * roi.side
        out.append(Roi(roi.cx + d[0], roi.cy + d[1], roi.side, roi.angle))
    return out


def part_displacements(image: np.ndarray, part: str, points: np.ndarray) -> np.ndarray:
    """(4,) mean distance (px) of the part model's answer from the projection in each corner crop; NaN where the
    part cannot be cut (not finite, centre off the image) or the model finds no such part in that crop."""
    out = np.full(len(CORNERS), np.nan)
    roi = part_region(part, points)
    H, W = image.shape[:2]
    if roi is None or not (0 <= roi.cx < W and 0 <= roi.cy < H):
        return out
    target = points[keypoints.PARTS[part]]
    for i, crop in enumerate(corner_regions(roi)):
        if part == "face":
            score, mesh = pipeline.run_face(image, crop)
            answer, minimum = mesh[list(mapping.FACE_MESH_68)], pipeline.MIN_FACE_SCORE
        else:
            score, answer = pipeline.run_hand(image, crop)
            minimum = pipeline.MIN_HAND_SCORE
        if score >= minimum:
            out[i] = float(np.linalg.norm(answer - CENTRE_OFFSET - target, axis=1).mean())
    return out


def score_views_pretrained(
    points_2d: np.ndarray, images: Sequence[np.ndarray], part_weighting: str = "keypoints"
) -> ScoreResult:
    """Score S skeletons from their projections into V views each; parts combined as the trained refiners'
    score combines them (``ml_services.scoring.aggregate``, ``part_weighting``).

    Args:
        points_2d: (S, V, J, 2) projected keypoints, pixels (NaN where unknown).
        images: S * V arrays (H, W, 3) uint8, skeleton-major (image s * V + v is view v of skeleton s).
    """
    if part_weighting not in PART_WEIGHTINGS:
        raise ValueError(f"part_weighting must be one of {', '.join(PART_WEIGHTINGS)}, got {part_weighting!r}")
    points_2d = check_views(points_2d, images, np.float64)
    S, V = points_2d.shape[:2]
    per_crop = np.full((S, V, len(PART_NAMES), len(CORNERS)), np.nan)
    for s in range(S):
        for v in range(V):
            for p, part in enumerate(PART_NAMES):
                per_crop[s, v, p] = part_displacements(images[s * V + v], part, points_2d[s, v])
    return aggregate(per_crop, part_weighting)
