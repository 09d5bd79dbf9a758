"""Multi-view lifting (H3WB step 1): geometry of the support rule and the statistics."""

import numpy as np
import pytest

from annotator import h36m, keypoints
from annotator.geometry import project
from annotator.lifting import lift_multiview, lift_statistics
from tests.h3wb_files import random_skeleton

RIG = h36m.rig("S1")
CAMS = list(RIG.values())


def _observe(X: np.ndarray) -> np.ndarray:
    """(F, J, 3) -> (F, V, J, 2) exact projections."""
    return np.stack([np.stack([project(c, x) for c in CAMS]) for x in X])


def _scene(frames: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = np.stack([random_skeleton(rng) for _ in range(frames)])
    return X, _observe(X), np.ones((frames, len(CAMS), keypoints.NUM_KEYPOINTS))


def test_exact_detections_are_lifted_exactly():
    X, points, scores = _scene()
    lifted, inliers = lift_multiview(RIG, points, scores)
    np.testing.assert_allclose(lifted, X, atol=1e-6)
    assert inliers.all()


def test_missed_keypoints_need_a_non_opposing_pair():
    X, points, scores = _scene(frames=1)
    opposing = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    from annotator.geometry import non_opposing_pairs

    allowed = non_opposing_pairs(CAMS)
    facing = next(p for p in opposing if p not in allowed)
    kept = next(iter(allowed))
    scores[0, :, 5] = 0  # keypoint 5 seen only by a facing pair: not lifted
    scores[0, list(facing), 5] = 1
    scores[0, :, 6] = 0  # keypoint 6 seen by a non-opposing pair: lifted
    scores[0, list(kept), 6] = 1
    scores[0, :, 7] = 0  # keypoint 7 seen by one view: not lifted
    scores[0, 0, 7] = 1
    lifted, _ = lift_multiview(RIG, points, scores)
    assert np.isnan(lifted[0, 5]).all()
    np.testing.assert_allclose(lifted[0, 6], X[0, 6], atol=1e-6)
    assert np.isnan(lifted[0, 7]).all()


def test_a_gross_outlier_view_is_left_out():
    X, points, scores = _scene(frames=1)
    points[0, 2, 9] += [80.0, -60.0]
    lifted, inliers = lift_multiview(RIG, points, scores)
    np.testing.assert_allclose(lifted[0, 9], X[0, 9], atol=1e-6)
    assert not inliers[0, 2, 9] and inliers[0, [0, 1, 3], 9].all()


def test_statistics_count_complete_and_seen_skeletons():
    X, points, scores = _scene(frames=3)
    scores[1, :, 40] = 0  # frame 1: keypoint 40 never seen -> neither complete nor all seen
    scores[2, 1:, 41] = 0  # frame 2: keypoint 41 seen once -> all seen, but not complete
    lifted, _ = lift_multiview(RIG, points, scores)
    stats = lift_statistics(lifted, scores)
    assert stats == {
        "frames": 3,
        "complete": 1,
        "all_seen": 2,
        "lifted_fraction": pytest.approx(1 - 2 / (3 * keypoints.NUM_KEYPOINTS)),
    }


@pytest.mark.parametrize(
    ("points_shape", "scores_shape", "message"),
    [((2, 3, 10, 2), (2, 3, 10), "points must have shape"), ((2, 4, 10, 2), (2, 4, 9), "scores must have shape")],
)
def test_bad_shapes_are_clear_errors(points_shape, scores_shape, message):
    with pytest.raises(ValueError, match=message):
        lift_multiview(RIG, np.zeros(points_shape), np.zeros(scores_shape))


def test_another_layouts_keypoints_are_lifted_and_the_count_is_checked_against_it():
    coco17 = keypoints.layout_get("coco-17")
    X, points, scores = _scene()
    lifted, _ = lift_multiview(RIG, points[:, :, :17], scores[:, :, :17], layout=coco17)
    np.testing.assert_allclose(lifted, X[:, :17], atol=1e-6)
    with pytest.raises(ValueError, match=r"expected 17 keypoints per view \(COCO-17\), got 133"):
        lift_multiview(RIG, points, scores, layout=coco17)
    with pytest.raises(ValueError, match=r"expected 133 keypoints per view \(COCO-WholeBody\), got 17"):
        lift_multiview(RIG, points[:, :, :17], scores[:, :, :17])
