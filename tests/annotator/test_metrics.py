"""Tests for annotator.metrics on small cases whose answers are worked out by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from annotator import keypoints, metrics

J = keypoints.NUM_KEYPOINTS
FACE = keypoints.METRIC_PARTS["face"]
BODY = keypoints.METRIC_PARTS["body"]
HAND = keypoints.METRIC_PARTS["hand"]


def random_pose(n: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 500, (n, J, 3))


def rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    a = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K


def videopose3d_p_mpjpe(predicted: np.ndarray, target: np.ndarray) -> float:
    """VideoPose3D's common/loss.py p_mpjpe, the reference PA-MPJPE (complete poses only)."""
    muX = target.mean(axis=1, keepdims=True)
    muY = predicted.mean(axis=1, keepdims=True)
    X0, Y0 = target - muX, predicted - muY
    normX = np.sqrt((X0**2).sum(axis=(1, 2), keepdims=True))
    normY = np.sqrt((Y0**2).sum(axis=(1, 2), keepdims=True))
    X0, Y0 = X0 / normX, Y0 / normY
    U, s, Vt = np.linalg.svd(np.matmul(X0.transpose(0, 2, 1), Y0))
    V = Vt.transpose(0, 2, 1)
    R = np.matmul(V, U.transpose(0, 2, 1))
    sign = np.sign(np.expand_dims(np.linalg.det(R), axis=1))
    V[:, :, -1] *= sign
    s[:, -1] *= sign.flatten()
    R = np.matmul(V, U.transpose(0, 2, 1))
    a = np.expand_dims(np.sum(s, axis=1, keepdims=True), axis=2) * normX / normY
    t = muX - a * np.matmul(muY, R)
    aligned = a * np.matmul(predicted, R) + t
    return float(np.linalg.norm(aligned - target, axis=-1).mean())


def test_keypoint_errors_are_euclidean_and_nan_aware() -> None:
    gt = np.zeros((2, 3, 3))
    pred = gt.copy()
    pred[0, 0] = [3, 4, 0]
    pred[1, 2] = [0, 2, 2 * np.sqrt(2)]  # 2 px in 2D, sqrt(12) mm in 3D
    pred[1, 1] = np.nan
    np.testing.assert_allclose(metrics.keypoint_errors_3d(pred, gt), [[5, 0, 0], [0, np.nan, np.sqrt(12)]])
    np.testing.assert_allclose(metrics.keypoint_errors_2d(pred[..., :2], gt[..., :2]), [[5, 0, 0], [0, np.nan, 2]])
    np.testing.assert_allclose(metrics.keypoint_errors(pred[..., :2], gt[..., :2]), [[5, 0, 0], [0, np.nan, 2]])


def test_part_summary_per_metric_part() -> None:
    errors = np.zeros((2, J))
    errors[:, BODY] = 1.0
    errors[:, FACE] = 2.0
    errors[0, HAND] = 3.0
    errors[1, HAND] = np.nan
    errors[0, HAND[:10]] = np.arange(10)  # hand values 0..9 and 3 (x 32)
    summary = metrics.part_summary(errors)
    assert json.loads(json.dumps(summary)) == summary  # plain JSON types
    assert summary["body"] == {"mean": 1.0, "median": 1.0, "p90": 1.0, "count": 2 * len(BODY)}
    assert summary["face"]["count"] == 2 * len(FACE) and summary["face"]["mean"] == 2.0
    hand = np.r_[np.arange(10), np.full(len(HAND) - 10, 3.0)]
    assert summary["hand"]["count"] == len(HAND)
    assert summary["hand"]["mean"] == pytest.approx(hand.mean())
    assert summary["hand"]["median"] == 3.0
    assert summary["hand"]["p90"] == pytest.approx(np.percentile(hand, 90))
    assert summary["all"]["count"] == 2 * J - len(HAND)
    assert set(summary) == set(keypoints.METRIC_PARTS)


def test_part_summary_of_an_empty_part_is_none() -> None:
    errors = np.zeros(J)
    errors[FACE] = np.nan
    assert metrics.part_summary(errors)["face"] == {"mean": None, "median": None, "p90": None, "count": 0}


def test_h3wb_translation_alone_costs_nothing() -> None:
    gt = random_pose()
    pred = gt + np.array([[[100.0, -20.0, 7.0]], [[0.0, 0.0, 0.0]], [[-3.0, 5.0, 1e4]]])
    for value in metrics.h3wb_mpjpe(pred, gt).values():
        assert value == pytest.approx(0.0, abs=1e-9)


def test_h3wb_pelvis_is_the_hip_midpoint() -> None:
    gt = random_pose(1)
    pred = gt.copy()
    left, right = keypoints.PELVIS_JOINTS
    pred[0, left] += [6.0, 0, 0]  # pelvis moves by 3 mm; every other joint is 3 mm off relative to it
    result = metrics.h3wb_mpjpe(pred, gt)
    expected_all = (3.0 * (J - 2) + 3.0 + 3.0) / J  # left hip +3 relative, right hip -3 relative
    assert result["all"] == pytest.approx(expected_all)
    assert result["face_nose_aligned"] == pytest.approx(0.0)
    assert result["hand_root_aligned"] == pytest.approx(0.0)


def test_h3wb_face_and_hand_alignment() -> None:
    gt = random_pose(2)
    pred = gt.copy()
    pred[:, keypoints.NOSE] += [3.0, 4.0, 0.0]  # the body nose only
    pred[:, keypoints.LEFT_HAND_ROOT] += [0.0, 0.0, 6.0]  # the left hand root only
    result = metrics.h3wb_mpjpe(pred, gt)
    assert result["body"] == pytest.approx(5.0 / len(BODY))
    assert result["face"] == pytest.approx(0.0)
    assert result["face_nose_aligned"] == pytest.approx(5.0)  # every face landmark is off relative to the nose
    assert result["hand"] == pytest.approx(6.0 / len(HAND))
    n_left = len(keypoints.PARTS["left_hand"])
    assert result["hand_root_aligned"] == pytest.approx(6.0 * (n_left - 1) / n_left / 2)  # right hand is perfect
    assert result["all"] == pytest.approx(11.0 / J)


def test_pafuse_parts_use_their_own_roots() -> None:
    gt = random_pose(2)
    pred = gt.copy()
    pred[:, keypoints.FACE_NOSE_TIP] += [0.0, 3.0, 4.0]
    pred[:, keypoints.RIGHT_HAND_ROOT] += [8.0, 0.0, 0.0]
    pred[:, BODY] += [100.0, 0.0, 0.0]  # the whole body moves: nothing changes in the body frame
    result = metrics.pafuse_part_mpjpe(pred, gt)
    n_face, n_right = len(FACE), len(keypoints.PARTS["right_hand"])
    assert result["body"] == pytest.approx(0.0)
    assert result["face"] == pytest.approx(5.0 * (n_face - 1) / n_face)
    assert result["left_hand"] == pytest.approx(0.0)
    assert result["right_hand"] == pytest.approx(8.0 * (n_right - 1) / n_right)
    assert result["hand"] == pytest.approx(result["right_hand"] / 2)


def test_pa_mpjpe_removes_similarity_transforms() -> None:
    gt = random_pose(4)
    R = rotation([1.0, 2.0, 3.0], 0.7)
    pred = 1.3 * gt @ R.T + [10.0, -40.0, 5.0]
    assert metrics.pa_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(metrics.procrustes_align(pred, gt), gt, atol=1e-9)


def test_pa_mpjpe_matches_videopose3d_and_forbids_reflections() -> None:
    gt = random_pose(5, seed=1)
    pred = gt + np.random.default_rng(2).normal(0, 40, gt.shape)
    pred[1] *= [-1.0, 1.0, 1.0]  # a mirror image cannot be rotated back
    assert metrics.pa_mpjpe(pred, gt) == pytest.approx(videopose3d_p_mpjpe(pred, gt), rel=1e-9)


def test_pa_mpjpe_skips_missing_keypoints() -> None:
    gt = random_pose(2, seed=3)
    pred = 0.8 * gt @ rotation([0, 0, 1], 1.0).T
    pred[0, :5] = np.nan
    gt[1, 7] = np.nan
    aligned = metrics.procrustes_align(pred, gt)
    assert np.isnan(aligned[0, :5]).all() and np.isfinite(aligned[1]).all()
    assert metrics.pa_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-9)


def test_benchmark_table_is_complete_and_json_ready() -> None:
    gt = random_pose(3, seed=4)
    pred = gt + np.random.default_rng(5).normal(0, 30, gt.shape)
    table = metrics.benchmark_table(pred, gt)
    assert json.loads(json.dumps(table)) == table
    expected = {"all", "body", "face", "hand", "face_nose_aligned", "hand_root_aligned", "pa_mpjpe"}
    expected |= {f"pafuse_{k}" for k in ("body", "face", "left_hand", "right_hand", "hand", "all")}
    assert set(table) == expected
    assert table["pa_mpjpe"] < table["all"]


def test_missing_everything_gives_none() -> None:
    gt = random_pose(1)
    pred = np.full_like(gt, np.nan)
    table = metrics.benchmark_table(pred, gt)
    assert all(v is None for v in table.values())


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: metrics.keypoint_errors(np.zeros((3, 2)), np.zeros((3, 3))), "same shape"),
        (lambda: metrics.keypoint_errors(np.zeros((3, 4)), np.zeros((3, 4))), r"\(\.\.\., J, 2\) or \(\.\.\., J, 3\)"),
        (lambda: metrics.keypoint_errors_2d(np.zeros((3, 3)), np.zeros((3, 3))), r"\(\.\.\., J, 2\)"),
        (lambda: metrics.keypoint_errors_3d(np.full((3, 3), np.inf), np.zeros((3, 3))), "finite or NaN"),
        (lambda: metrics.part_summary(np.zeros(J - 1)), f"errors must have shape \\(\\.\\.\\., {J}\\)"),
        (lambda: metrics.h3wb_mpjpe(np.zeros((2, J - 1, 3)), np.zeros((2, J - 1, 3))), f"must have {J} keypoints"),
        (lambda: metrics.h3wb_mpjpe(np.zeros((J, 3)), np.zeros((J, 3))), r"\(N, \d+, 3\)"),
        (lambda: metrics.pafuse_part_mpjpe(np.zeros((1, J, 2)), np.zeros((1, J, 2))), r"\(\.\.\., J, 3\)"),
        (lambda: metrics.pa_mpjpe(np.zeros((4, 3)), np.zeros((4, 3))), r"\(N, J, 3\)"),
        (lambda: metrics.benchmark_table(np.zeros((1, J, 3)), np.zeros((2, J, 3))), "same shape"),
    ],
)
def test_bad_input_raises_value_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_pafuse_parts_equal_pafuse_code(tmp_path) -> None:
    """PAFUSE's body counts the pelvis it adds (24 joints): compared with a transcription of PAFUSE's code."""
    import torch

    from tests.h3wb_release import npz_metadata
    from tests.transcriptions import pafuse

    rng = np.random.default_rng(5)
    gt = rng.normal(scale=300.0, size=(6, keypoints.NUM_KEYPOINTS, 3))
    pred = gt + rng.normal(scale=25.0, size=gt.shape)

    class Parts:  # PAFUSE's dataset object, as far as its part errors read it
        root_indices = {"body": 0, "face": 54, "left_hand": 92, "right_hand": 113}
        metadata = npz_metadata([])
        compute_part_joint_indices = pafuse.Human3WBData.compute_part_joint_indices

    parts = Parts()
    parts.compute_part_joint_indices()

    def with_root(x):  # add_root_joint on one (N, 133, 3) array
        data = {"S": {"A": {"global_3d": x}}}
        return torch.from_numpy(pafuse.Human3WBData.add_root_joint(data)["S"]["A"]["global_3d"])

    theirs = pafuse.part_errors(with_root(pred), with_root(gt), parts)
    ours = metrics.pafuse_part_mpjpe(pred, gt)
    for our_key, their_key in [("body", "body"), ("face", "face"), ("left_hand", "left_hand"),
                               ("right_hand", "right_hand"), ("hand", "hands"), ("all", "all")]:  # fmt: skip
        assert ours[our_key] == pytest.approx(theirs[their_key], rel=1e-9), our_key
    # The defect: the mean over 23 body joints without the pelvis is 24/23 of PAFUSE's number.
    errors = np.linalg.norm((pred - gt) - (pred - gt)[:, list(keypoints.PELVIS_JOINTS)].mean(1, keepdims=True), axis=-1)
    assert errors[:, keypoints.METRIC_PARTS["body"]].mean() == pytest.approx(theirs["body"] * 24 / 23, rel=1e-9)


class BestByScoreTests:
    def test_keeps_the_lowest_two_thirds_of_the_finite_scores_best_first(self):
        scores = np.array([5.0, np.nan, 1.0, 3.0, 2.0, 4.0, 0.5])
        assert metrics.best_by_score(scores, 2 / 3).tolist() == [6, 2, 4, 3]  # 6 finite -> 4 kept
        assert metrics.best_by_score(np.array([np.nan, 7.0]), 0.1).tolist() == [1]  # at least one
        assert metrics.best_by_score(np.array([np.nan]), 0.5).size == 0
        with pytest.raises(ValueError, match="keep_fraction"):
            metrics.best_by_score(scores, 0.0)


# --- other layouts: parts and anchors come from the layout, absent anchors say they do not apply -------------

COCO17 = keypoints.layout_get("coco-17")
H36M17 = keypoints.layout_get("h36m-17")


def test_coco17_pelvis_aligned_by_hand() -> None:
    gt = np.zeros((1, 17, 3))
    pred = gt.copy()
    pred[0, COCO17.index("left_hip")] += [6.0, 0.0, 0.0]  # pelvis moves 3 mm: every joint is 3 mm off relative to it
    table = metrics.benchmark_table(pred, gt, COCO17)
    assert table["all"] == pytest.approx(3.0) and table["body"] == pytest.approx(3.0)
    # PAFUSE adds the hip midpoint as a joint of error 0: 17 joints of 3 mm over 18.
    assert table["pafuse_body"] == pytest.approx(51.0 / 18) and table["pafuse_all"] == pytest.approx(51.0 / 18)
    assert json.loads(json.dumps(table)) == table


def test_coco17_nose_error_by_hand() -> None:
    gt = np.random.default_rng(7).normal(0, 300, (2, 17, 3))
    pred = gt + [10.0, -5.0, 2.0]  # a translation costs nothing
    pred[:, COCO17.anchors.nose] += [3.0, 4.0, 0.0]
    result = metrics.h3wb_mpjpe(pred, gt, COCO17)
    assert result["all"] == pytest.approx(5.0 / 17) and result["body"] == pytest.approx(5.0 / 17)


def test_face_and_hand_numbers_do_not_apply_to_a_body_only_layout() -> None:
    gt = np.random.default_rng(8).normal(0, 300, (1, 17, 3))
    for layout in (COCO17, H36M17):
        table = metrics.benchmark_table(gt + 1.0, gt, layout)
        missing = {"face", "hand", "face_nose_aligned", "hand_root_aligned", "pafuse_face", "pafuse_left_hand",
                   "pafuse_right_hand", "pafuse_hand"}  # fmt: skip
        assert {k for k, v in table.items() if v is None} == missing
        assert set(table["not_applicable"]) == missing
        assert table["not_applicable"]["face"] == f"{layout.title} has no face keypoints"
        assert "hand root" in table["not_applicable"]["hand_root_aligned"]
    assert "not_applicable" not in metrics.benchmark_table(np.zeros((1, J, 3)), np.zeros((1, J, 3)))
    assert metrics.not_applicable() == {}


def test_h36m17_aligns_on_its_root_joint_by_hand() -> None:
    gt = np.zeros((1, 17, 3))
    pred = gt.copy()
    pred[0, H36M17.index("root")] += [0.0, 0.0, 12.0]  # every other joint is 12 mm off relative to the root
    table = metrics.benchmark_table(pred, gt, H36M17)
    assert table["all"] == pytest.approx(12.0 * 16 / 17) and table["body"] == pytest.approx(12.0 * 16 / 17)
    # The root is a keypoint of Human3.6M: PAFUSE's body adds no joint for it.
    assert table["pafuse_body"] == pytest.approx(12.0 * 16 / 17)


def test_part_summary_of_other_layouts() -> None:
    errors = np.arange(34, dtype=float).reshape(2, 17)
    errors[1, 0] = np.nan
    for layout in (COCO17, H36M17):
        summary = metrics.part_summary(errors, layout)
        assert set(summary) == {"all", "body"}
        assert summary["all"]["count"] == 33 and summary["all"]["mean"] == pytest.approx((561 - 17) / 33)
    with pytest.raises(ValueError, match=r"\(\.\.\., 17\) \(COCO-17\)"):
        metrics.part_summary(np.zeros((2, J)), COCO17)
    with pytest.raises(ValueError, match="must have 17 keypoints"):
        metrics.h3wb_mpjpe(np.zeros((1, J, 3)), np.zeros((1, J, 3)), H36M17)
