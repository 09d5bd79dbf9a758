"""FBI labels: hand-computed poses, mirroring, simulated people, agreement and depth-error detection."""

import numpy as np
import pytest

from annotator import h36m, keypoints
from ml_services import fbi

IDENTITY_R = np.eye(3)[None]
ZERO_T = np.zeros((1, 3))


def _pose(**points) -> np.ndarray:
    X = np.zeros((1, keypoints.NUM_KEYPOINTS, 3))
    X[0, :, 2] = 3000.0
    for name, xyz in points.items():
        X[0, keypoints.index(name)] = xyz
    return X


FOREARM = np.array([[keypoints.index("left_elbow"), keypoints.index("left_wrist")]])


@pytest.mark.parametrize(
    ("wrist", "label", "tilt"),
    [
        ((250.0, 0.0, 2750.0), fbi.FORWARD, 45.0),  # 250 mm across, 250 mm towards the camera
        ((250.0, 0.0, 3250.0), fbi.BACKWARD, 45.0),
        ((0.0, 0.0, 2700.0), fbi.FORWARD, 90.0),  # straight at the camera
        ((300.0, 0.0, 3000.0), fbi.UNKNOWN, 0.0),  # in the image plane
        ((300.0, 0.0, 3000.0 + 300 * np.tan(np.radians(5))), fbi.UNKNOWN, 5.0),  # inside the unknown band
    ],
)
def test_labels_on_hand_computed_poses(wrist, label, tilt):
    X = _pose(left_elbow=(0.0, 0.0, 3000.0), left_wrist=wrist)
    labels, tilts = fbi.skeleton_labels(X, IDENTITY_R, ZERO_T, FOREARM)
    assert labels[0, 0, 0] == label
    assert tilts[0, 0, 0] == pytest.approx(tilt, abs=1e-9)


def test_the_unknown_band_is_a_parameter():
    X = _pose(left_elbow=(0.0, 0.0, 3000.0), left_wrist=(300.0, 0.0, 3000.0 - 300 * np.tan(np.radians(5))))
    assert fbi.skeleton_labels(X, IDENTITY_R, ZERO_T, FOREARM, unknown_tilt_deg=2.0)[0][0, 0, 0] == fbi.FORWARD
    with pytest.raises(ValueError, match="unknown_tilt_deg must be within"):
        fbi.skeleton_labels(X, IDENTITY_R, ZERO_T, FOREARM, unknown_tilt_deg=95)


def test_a_mirrored_pose_swaps_left_and_right_bones():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, keypoints.NUM_KEYPOINTS, 3)) * 300 + [0, 0, 4000]
    mirrored = X[:, keypoints.FLIP_INDEX] * [-1, 1, 1]  # flip x in camera space, swap the sides
    bones = keypoints.bones("limbs")
    flipped_bones = keypoints.FLIP_INDEX[bones]
    a, ta = fbi.skeleton_labels(X, IDENTITY_R, ZERO_T, bones)
    b, tb = fbi.skeleton_labels(mirrored, IDENTITY_R, ZERO_T, flipped_bones)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(ta, tb)


def test_labels_are_vectorised_over_frames_and_the_h36m_views():
    rig = h36m.rig("S1")
    R = np.stack([c.R for c in rig.values()])
    t = np.stack([c.t for c in rig.values()])
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5, keypoints.NUM_KEYPOINTS, 3)) * 200 + [0, 0, 1000]
    bones = keypoints.bones()
    labels, tilt = fbi.skeleton_labels(X, R, t, bones)
    assert labels.shape == tilt.shape == (5, 4, len(bones))
    for n, v in ((0, 0), (4, 3)):
        Xc = rig[h36m.CAMERA_IDS[v]].world_to_camera(X[n])
        depth = Xc[bones[:, 1], 2] - Xc[bones[:, 0], 2]
        expected = np.where(tilt[n, v] >= fbi.DEFAULT_UNKNOWN_TILT_DEG, np.where(depth < 0, 1, -1), 0)
        np.testing.assert_array_equal(labels[n, v], expected)


def test_an_injected_forearm_depth_flip_is_caught():
    rng = np.random.default_rng(2)
    truth = _pose(left_elbow=(0.0, 0.0, 3000.0), left_wrist=(150.0, 0.0, 2760.0))
    flipped = truth.copy()
    elbow, wrist = FOREARM[0]
    flipped[0, wrist, 2] = 2 * flipped[0, elbow, 2] - flipped[0, wrist, 2]  # mirror the wrist in depth
    true_labels, tilt = fbi.skeleton_labels(truth, IDENTITY_R, ZERO_T, FOREARM, unknown_tilt_deg=0)
    dataset_labels, dataset_tilt = fbi.skeleton_labels(flipped, IDENTITY_R, ZERO_T, FOREARM)
    people = fbi.simulate_labels(
        np.repeat(true_labels, 200, axis=0), np.repeat(tilt, 200, axis=0), rng, fbi.LabellerModel(skip_rate=(0,) * 4)
    )
    suspects = fbi.probable_depth_errors(
        people, np.repeat(dataset_labels, 200, axis=0), np.repeat(dataset_tilt, 200, 0)
    )
    assert suspects.mean() > 0.85  # everyone but the ~7% who err at this tilt flags it
    clean = fbi.probable_depth_errors(people, np.repeat(true_labels, 200, axis=0), np.repeat(tilt, 200, axis=0))
    assert clean.mean() < 0.15


def test_simulated_people_follow_the_model_per_tilt_bin():
    rng = np.random.default_rng(3)
    n = 40000
    tilt = rng.uniform(0, 90, n)
    truth = np.where(rng.random(n) < 0.5, fbi.FORWARD, fbi.BACKWARD).astype(np.int8)
    model = fbi.LabellerModel()
    human = fbi.simulate_labels(truth, tilt, rng, model)
    rows = fbi.agreement_by_tilt(human, truth, tilt)
    for row, err, skip in zip(rows, model.error_rate, model.skip_rate, strict=True):
        assert row["skip_rate"] == pytest.approx(skip, abs=0.03)
        assert row["error_rate"] == pytest.approx(err, abs=0.03)
    assert rows[-1]["low"] == 30.0 and rows[-1]["error_rate"] < 0.1


@pytest.mark.parametrize(
    ("X", "bones", "message"),
    [
        (np.zeros((1, 5, 2)), FOREARM, "must have shape \\(N, J, 3\\)"),
        (np.zeros((1, 5, 3)), np.array([[0, 9]]), "bone indices must lie in"),
        (np.zeros((1, 5, 3)), np.zeros((0, 2), int), "bones must have shape"),
    ],
)
def test_bad_input(X, bones, message):
    with pytest.raises(ValueError, match=message):
        fbi.skeleton_labels(X, IDENTITY_R, ZERO_T, bones)


def test_bad_labeller_model():
    with pytest.raises(ValueError, match="error_rate needs 4 probabilities"):
        fbi.LabellerModel(error_rate=(0.1, 0.2))
