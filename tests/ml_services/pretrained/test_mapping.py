"""mapping.to_wholebody: which MediaPipe output becomes which of the 133 keypoints; missing stays missing."""

from __future__ import annotations

import numpy as np
import pytest

from annotator import keypoints
from ml_services.pretrained import mapping

W, H = 640, 480


def pose_points() -> np.ndarray:
    """(33, 3): landmark i at (10 + i, 20 + i), visibility 0.9."""
    i = np.arange(len(mapping.POSE_NAMES), dtype=np.float64)
    return np.stack([10 + i, 20 + i, np.full_like(i, 0.9)], axis=1)


class ToWholebodyTests:
    def test_body_and_feet_come_from_the_named_pose_landmarks(self):
        out = mapping.to_wholebody(pose=pose_points(), face=None, hands={}, width=W, height=H)
        assert out.shape == (keypoints.NUM_KEYPOINTS, 3)
        for name, source in [("nose", "nose"), ("left_shoulder", "left_shoulder"), ("right_ankle", "right_ankle"),
                             ("left_heel", "left_heel"), ("right_big_toe", "right_foot_index")]:  # fmt: skip
            i = mapping.POSE[source]
            assert out[keypoints.index(name)].tolist() == [10 + i, 20 + i, 0.9], name
        # Every COCO body keypoint has a pose counterpart with the same name (the person's own side).
        for name in keypoints.NAMES[keypoints.PART_SLICES["body"]]:
            assert mapping.BODY_FROM_POSE[name] == name

    def test_small_toes_face_and_hands_without_output_are_missing_not_invented(self):
        out = mapping.to_wholebody(pose=pose_points(), face=None, hands={"left_hand": None}, width=W, height=H)
        missing = [keypoints.index("left_small_toe"), keypoints.index("right_small_toe"),
                   *keypoints.PARTS["face"], *keypoints.PARTS["left_hand"], *keypoints.PARTS["right_hand"]]  # fmt: skip
        assert np.isnan(out[missing, :2]).all() and (out[missing, 2] == 0).all()
        assert sorted(mapping.NOT_PREDICTED.tolist()) == sorted(missing[:2])
        nothing = mapping.to_wholebody(pose=None, face=None, hands={}, width=W, height=H)
        assert np.isnan(nothing[:, :2]).all() and (nothing[:, 2] == 0).all()

    def test_face_reads_the_documented_mesh_points(self):
        mesh = np.stack([np.arange(468.0), 400 - np.arange(468.0) * 0.5], axis=1) * 0.5
        out = mapping.to_wholebody(pose=None, face=(mesh, 0.8), hands={}, width=W, height=H)
        face = out[keypoints.PARTS["face"]]
        assert face[:, 0].tolist() == [0.5 * m for m in mapping.FACE_MESH_68]
        assert (face[:, 2] == 0.8).all()
        # Landmarks of the iBUG order that the list documents: chin, nose tip, eye corners, mouth corners.
        for k, m in [(8, 152), (30, 4), (36, 33), (39, 133), (42, 362), (45, 263), (48, 61), (54, 291)]:
            assert mapping.FACE_MESH_68[k] == m
        # Mirror pairs of the layout are mirror pairs of the mesh: left of one is right of the other.
        flip = keypoints.FLIP_INDEX[keypoints.PARTS["face"]] - keypoints.PARTS["face"][0]
        assert mapping.FACE_MESH_68[int(flip[36])] == 263 and mapping.FACE_MESH_68[int(flip[0])] == 389

    def test_hands_keep_the_persons_own_side_and_order(self):
        left = np.stack([100 + np.arange(21.0), np.full(21, 50.0)], axis=1)
        right = np.stack([300 + np.arange(21.0), np.full(21, 60.0)], axis=1)
        out = mapping.to_wholebody(pose=None, face=None, hands={"left_hand": (left, 0.7), "right_hand": (right, 0.6)},
                                   width=W, height=H)  # fmt: skip
        assert np.array_equal(out[keypoints.PARTS["left_hand"], :2], left)
        assert np.array_equal(out[keypoints.PARTS["right_hand"], :2], right)
        assert out[keypoints.index("left_hand_root"), 0] == 100 and out[keypoints.PARTS["left_hand"][-1], 0] == 120
        assert (out[keypoints.PARTS["right_hand"], 2] == 0.6).all()

    def test_points_outside_the_image_or_without_score_are_missing(self):
        pose = pose_points()
        pose[mapping.POSE["left_ankle"], :2] = (W + 5, 100)  # below/right of the frame
        pose[mapping.POSE["nose"], :2] = (-0.6, 100)  # left of pixel 0's left edge
        pose[mapping.POSE["right_ear"], 2] = 0.0
        pose[mapping.POSE["left_ear"], 2] = 1.7  # scores are clipped to [0, 1]
        out = mapping.to_wholebody(pose=pose, face=None, hands={}, width=W, height=H)
        for name in ("left_ankle", "nose", "right_ear"):
            assert np.isnan(out[keypoints.index(name), :2]).all() and out[keypoints.index(name), 2] == 0
        assert out[keypoints.index("left_ear"), 2] == 1.0

    @pytest.mark.parametrize(
        "kwargs, message",
        [
            ({"pose": np.zeros((17, 3))}, "pose must be"),
            ({"face": (np.zeros((68, 2)), 1.0)}, "face mesh must be"),
            ({"hands": {"left_hand": (np.zeros((20, 2)), 1.0)}}, "left_hand must be"),
            ({"hands": {"left_foot": None}}, "unknown hand"),
        ],
    )
    def test_wrong_shapes_are_refused(self, kwargs, message):
        args = {"pose": None, "face": None, "hands": {}, "width": W, "height": H, **kwargs}
        with pytest.raises(ValueError, match=message):
            mapping.to_wholebody(**args)


class FaceListTests:
    def test_the_documented_regions_cover_the_68_face_keypoints_in_order(self):
        covered = [k for r in mapping.FACE_REGIONS for k in range(r["face"][0], r["face"][1] + 1)]
        assert covered == list(range(len(keypoints.PARTS["face"])))
        assert [r["name"] for r in mapping.FACE_REGIONS] == [
            "jaw", "right eyebrow", "left eyebrow", "nose bridge", "lower nose", "right eye", "left eye",
            "outer lips", "inner lips",
        ]  # fmt: skip
        for r in mapping.FACE_REGIONS:
            assert len(r["mesh"]) == r["face"][1] - r["face"][0] + 1 and r["note"]
