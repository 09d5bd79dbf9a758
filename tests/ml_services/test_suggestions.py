"""Refinement suggestions: a left hand is refined as the mirror image of a right hand.

The hand network only ever sees right hands: a left hand is cut out mirrored and its keypoints are read
in the mirrored (``FLIP_INDEX``) order. The test flips a rendered view left to right, so the person's right
hand becomes a left hand at the mirrored pixels, and asks for both suggestions with the shipped network:
the left-hand suggestion on the flipped image must be the mirror of the right-hand one on the original,
keypoint by keypoint. Without the mirrored crop (or with the hand's keypoints read in the wrong order) the
network sees a hand it was not trained on and the two answers part by pixels.
"""

from __future__ import annotations

import numpy as np
import pytest

from annotator import geometry, keypoints
from ml_services.checkpoints import default_checkpoint, load_checkpoint
from ml_services.images import load_rgb
from ml_services.suggestions import PART_NETWORKS, refine_part
from tests.ml_services.rig import rig_instants

#: Bilinear crops of a flipped image sample the same pixels mirrored; what is left is float rounding.
MIRROR_TOLERANCE_PX = 0.05


def _mirror(points: np.ndarray, width: int) -> np.ndarray:
    """Pixel coordinates after flipping an image ``width`` pixels wide left to right (pixel centres integer)."""
    return np.column_stack([width - 1 - points[:, 0], points[:, 1]])


def _suggest(model, image: np.ndarray, skeleton_2d: np.ndarray, part: str) -> dict[int, np.ndarray]:
    _, indices, mirror = PART_NETWORKS[part]
    refined = refine_part(model, image, skeleton_2d[indices], mirror)
    return {int(k): p for k, p in zip(indices, refined)}


@pytest.fixture(scope="module")
def view():
    instant = rig_instants()[0]
    cam = instant["cameras"][0]
    return load_rgb(instant["images"][0]), geometry.project(cam, instant["world"])


class LeftHandMirroringTests:
    def test_a_left_hand_is_refined_as_the_mirrored_right_hand(self, view):
        image, skeleton = view
        width = image.shape[1]
        model = load_checkpoint(default_checkpoint("hand"), "hand")
        # Start half a knuckle off the truth so the network has something to move.
        start = skeleton + np.random.default_rng(0).normal(0.0, 3.0, skeleton.shape)
        flipped_image = np.ascontiguousarray(image[:, ::-1])
        # In the flipped image every keypoint sits at its mirrored pixel and swaps sides (left <-> right).
        flipped = np.empty_like(start)
        flipped[keypoints.FLIP_INDEX] = _mirror(start, width)

        right = _suggest(model, image, start, "right_hand")
        left = _suggest(model, flipped_image, flipped, "left_hand")
        moved = max(np.linalg.norm(right[k] - start[k]) for k in right)
        assert moved > 10 * MIRROR_TOLERANCE_PX, "the network must move the points for the test to mean anything"
        for k, point in right.items():
            twin = int(keypoints.FLIP_INDEX[k])
            np.testing.assert_allclose(left[twin], _mirror(point[None], width)[0], atol=MIRROR_TOLERANCE_PX,
                                       err_msg=keypoints.NAMES[k])  # fmt: skip
