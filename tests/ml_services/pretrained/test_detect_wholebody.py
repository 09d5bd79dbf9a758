"""``detect_wholebody(image, box=None) -> (133, 3)`` on real photographs, on the synthetic rig, and on bad input.

The photographs ship inside the pinned scikit-image wheel (``tests/ml_services/pretrained/photos.py``). Neither
shows a bare hand: the astronaut's glove is cut by the frame and the cameraman wears black gloves; MediaPipe's
own Holistic pipeline finds no hand in either, and neither may this one (nothing invented). Hands are checked on
the synthetic rig, whose people show them.
"""

from __future__ import annotations

import numpy as np
import pytest

from annotator import keypoints
from ml_services.pretrained import detect_wholebody, pipeline
from ml_services.pretrained.crops import Roi
from tests.ml_services import rig
from tests.ml_services.pretrained import photos

FACE = keypoints.PARTS["face"]
HANDS = np.concatenate([keypoints.PARTS["left_hand"], keypoints.PARTS["right_hand"]])


def check_contract(out: np.ndarray) -> None:
    assert out.shape == (keypoints.NUM_KEYPOINTS, 3) and out.dtype == np.float64
    assert ((out[:, 2] >= 0) & (out[:, 2] <= 1)).all()
    assert np.array_equal(np.isnan(out[:, 0]), out[:, 2] == 0) and np.array_equal(np.isnan(out[:, 1]), out[:, 2] == 0)


class PhotographTests:
    def test_astronaut_face_points_fall_inside_her_face_and_no_hand_is_invented(self):
        out = detect_wholebody(photos.photo("astronaut.png"))
        check_contract(out)
        assert (out[FACE, 2] > 0.9).all() and photos.inside(out[FACE, :2], photos.ASTRONAUT_FACE).all()
        head = [keypoints.index(n) for n in ("nose", "left_eye", "right_eye")]
        assert photos.inside(out[head, :2], photos.ASTRONAUT_FACE).all()
        # Her left eye is on the image's right (she faces the camera): the person's own side.
        assert out[keypoints.index("left_eye"), 0] > out[keypoints.index("right_eye"), 0]
        assert out[keypoints.index("face-36"), 0] < out[keypoints.index("face-45"), 0]  # right eye's outer corner
        assert (out[HANDS, 2] == 0).all()
        # Her legs are below the frame: not predicted inside the image, so missing.
        assert (out[[keypoints.index("left_ankle"), keypoints.index("right_ankle")], 2] == 0).all()

    def test_cameraman_face_with_and_without_a_person_box(self):
        image = photos.photo("camera.png")
        for box in (None, (0, 60, 340, 511)):
            out = detect_wholebody(image, box)
            check_contract(out)
            assert (out[FACE, 2] > 0.5).all() and photos.inside(out[FACE, :2], photos.CAMERA_FACE).all(), box

    def test_an_empty_scene_gives_nothing(self):
        out = detect_wholebody(np.full((240, 320, 3), 128, np.uint8))
        check_contract(out)
        assert (out[:, 2] == 0).all()


class RigTests:
    def test_visible_hands_are_found_on_a_hand(self):
        """On rig views where a hand's ground truth is inside the image, found hand points lie on one of the hands."""
        found = 0
        for instant in rig.rig_instants()[:2]:
            for camera, path in zip(instant["cameras"], instant["images"], strict=True):
                from annotator import geometry
                from ml_services.images import load_rgb

                truth = geometry.project(camera, instant["world"])  # (J, 2)
                out = detect_wholebody(load_rgb(path))
                check_contract(out)
                boxes = []
                for part in ("left_hand", "right_hand"):
                    pts = truth[keypoints.PARTS[part]]
                    margin = 0.5 * (pts.max(0) - pts.min(0)).max()
                    boxes.append((*(pts.min(0) - margin + 0.5), *(pts.max(0) + margin + 0.5)))
                for part in ("left_hand", "right_hand"):
                    pts = out[keypoints.PARTS[part]]
                    if pts[0, 2] > 0:
                        found += 1
                        on = photos.inside(pts[:, :2], boxes[0]) | photos.inside(pts[:, :2], boxes[1])
                        assert on.mean() >= 0.8, (path, part)
        assert found >= 4


class SecondPassTests:
    def test_a_part_missed_in_the_first_crop_is_looked_for_in_the_next(self):
        first, second = Roi(10.0, 10.0, 20.0), Roi(50.0, 50.0, 40.0)
        calls = []

        def run(image, roi):
            calls.append(roi)
            score = 0.9 if roi.cx > 30 else 0.1
            return score, np.array([[roi.cx - 5, roi.cy + 5], [roi.cx + 5, roi.cy - 5], [roi.cx, roi.cy]])

        score, points, roi, name = pipeline.find_part(run, None, [("body", first), ("wrist", second)], 0.5, (0, 1),
                                                        2.0, 0.0)  # fmt: skip
        assert name == "wrist" and score == 0.9 and calls[:2] == [first, second]
        assert len(calls) == 3  # refined once in the crop its own answer defines
        _, _, _, name = pipeline.find_part(run, None, [("body", first)], 0.5, (0, 1), 2.0, 0.0)
        assert name is None  # not found anywhere: reported missing

    def test_regions_come_from_the_body(self):
        pose = np.zeros((33, 3))
        P = pipeline.mapping.POSE
        pose[P["left_elbow"], :2] = (100, 100)
        pose[P["left_wrist"], :2] = (100, 160)  # forearm pointing down
        pose[P["left_index"], :2] = (95, 180)
        pose[P["left_pinky"], :2] = (105, 180)
        names = [n for n, _ in pipeline.hand_regions(pose, "left")]
        rois = dict(pipeline.hand_regions(pose, "left"))
        assert names[0] == "body" and len(names) == 3
        # Fingers point down in the image, so the crop is turned half a turn to put them up.
        assert abs(abs(rois["body"].angle) - np.pi) < 1e-9 and rois["body"].cy > 160


class BadInputTests:
    @pytest.mark.parametrize(
        "image, message",
        [
            (np.zeros((20, 20), np.uint8), r"\(H, W, 3\) uint8"),
            (np.zeros((20, 20, 4), np.uint8), r"\(H, W, 3\) uint8"),
            (np.zeros((20, 20, 3), np.float32), r"\(H, W, 3\) uint8"),
            ([[0, 0, 0]], r"\(H, W, 3\) uint8"),
            (np.zeros((0, 20, 3), np.uint8), "at least"),
        ],
    )
    def test_images(self, image, message):
        with pytest.raises(ValueError, match=message):
            detect_wholebody(image)

    @pytest.mark.parametrize(
        "box, message",
        [
            ((10, 10, 5, 50), "empty"),
            ((10, 10, 12, 13), "too small to hold a person: an empty crop"),
            ((10, 10, 50), "four finite numbers"),
            ((10, np.nan, 50, 50), "four finite numbers"),
            ((500, 500, 600, 600), "outside the 64 x 48 image"),
        ],
    )
    def test_boxes(self, box, message):
        with pytest.raises(ValueError, match=message):
            detect_wholebody(np.zeros((48, 64, 3), np.uint8), box)
