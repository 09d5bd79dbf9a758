"""The person detector's decoding: anchors, letterbox, and the region a detection's keypoints define."""

from __future__ import annotations

import numpy as np

from ml_services.pretrained import detector
from ml_services.pretrained.crops import Roi


class AnchorTests:
    def test_layout_of_the_2254_anchors(self):
        a = detector.anchors()
        assert a.shape == (2254, 2)
        assert np.allclose(a[0], [0.5 / 28, 0.5 / 28]) and np.allclose(a[1], a[0])  # two per cell
        assert np.allclose(a[2], [1.5 / 28, 0.5 / 28])
        assert np.allclose(a[2 * 28 * 28], [0.5 / 14, 0.5 / 14])
        assert np.allclose(a[-6:], [[6.5 / 7, 6.5 / 7]] * 6)  # the three stride-32 layers share cells


class DecodeTests:
    def test_best_detection_gives_an_upright_region_around_the_hips(self):
        boxes = np.zeros((2254, 12))
        logits = np.full(2254, -10.0)
        best = 2 * (28 * 10 + 14)  # cell (x 14, y 10) of the first layer: anchor (14.5/28, 10.5/28)
        logits[best] = 3.0
        # kp0 (hips) at the anchor; kp1 (body circle) 40 input pixels above it.
        boxes[best, 4:8] = [0.0, 0.0, 0.0, -40.0]
        area = detector.whole_image(448, 224)  # a 2:1 image, letterboxed: 2 image px per input px, bars of 56
        assert (area.cx, area.cy, area.side) == (224, 112, 448)
        score, roi = detector.decode(boxes, logits, area, 0.5)
        assert score == np.float64(1 / (1 + np.exp(-3.0)))
        hips = ((14.5 / 28) * 224 * 2, ((10.5 / 28) * 224 - 56) * 2)
        assert isinstance(roi, Roi) and np.allclose((roi.cx, roi.cy), hips)
        assert np.isclose(roi.side, 2 * 80.0) and np.isclose(roi.angle, 0.0)

    def test_nobody_above_the_threshold(self):
        area = detector.whole_image(10, 10)
        score, roi = detector.decode(np.zeros((2254, 12)), np.full((2254, 1), -5.0), area, 0.5)
        assert roi is None and score < 0.01
