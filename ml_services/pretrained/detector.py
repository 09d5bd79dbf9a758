"""Decoding MediaPipe's person detector (``pose_detection.tflite``): SSD anchors, boxes, alignment keypoints.

The network sees the image letterboxed into a 224 x 224 square (values in [-1, 1]) and answers, per
anchor, a box and four keypoints relative to the anchor centre (in input pixels) and a score logit.
Keypoint 0 is the middle of the hips and keypoint 1 a point on the circle that encloses the whole body
(MediaPipe's pose detection model card); the person's region is the square centred on keypoint 0 with
side 2 |kp1 - kp0|, turned so kp0 -> kp1 points up. Anchor layout (SSD with fixed anchor size: strides
8, 16, 32, 32, 32 and two anchors per cell and layer) gives 2254 anchors.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from ml_services.pretrained.crops import Roi, angle_up

INPUT_SIZE = 224
STRIDES: tuple[int, ...] = (8, 16, 32, 32, 32)
ANCHORS_PER_LAYER = 2
NUM_KEYPOINTS = 4
#: Logits are clipped to this before the sigmoid (as MediaPipe does).
SCORE_CLIP = 100.0


@cache
def anchors() -> np.ndarray:
    """(2254, 2) anchor centres in [0, 1]: layers of the same stride share cells, cells in row-major order."""
    out = []
    layer = 0
    while layer < len(STRIDES):
        stride = STRIDES[layer]
        same = 1
        while layer + same < len(STRIDES) and STRIDES[layer + same] == stride:
            same += 1
        n = int(np.ceil(INPUT_SIZE / stride))
        y, x = np.meshgrid((np.arange(n) + 0.5) / n, (np.arange(n) + 0.5) / n, indexing="ij")
        cells = np.stack([x.ravel(), y.ravel()], -1)  # (n*n, 2)
        out.append(np.repeat(cells, ANCHORS_PER_LAYER * same, axis=0))
        layer += same
    return np.concatenate(out)


def whole_image(width: int, height: int) -> Roi:
    """The square region the detector sees for a whole image: the image letterboxed (centred, black bars)."""
    return Roi(width / 2, height / 2, float(max(width, height)), 0.0)


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, area: Roi, min_score: float) -> tuple[float, Roi | None]:
    """The best detection's score and its person region in continuous image pixels (None below ``min_score``).

    Args:
        raw_boxes: (2254, 12) network output (x, y, w, h, then 4 keypoints x, y; input pixels from the anchor).
        raw_scores: (2254,) or (2254, 1) logits.
        area: the image region the detector's input was cut from.
    """
    raw_boxes = np.asarray(raw_boxes, dtype=np.float64).reshape(len(anchors()), 4 + 2 * NUM_KEYPOINTS)
    logits = np.clip(np.asarray(raw_scores, dtype=np.float64).reshape(-1), -SCORE_CLIP, SCORE_CLIP)
    scores = 1 / (1 + np.exp(-logits))
    best = int(np.argmax(scores))
    score = float(scores[best])
    if score < min_score:
        return score, None
    kps = raw_boxes[best, 4:].reshape(NUM_KEYPOINTS, 2) + anchors()[best] * INPUT_SIZE  # (4, 2) input pixels
    centre, circle = area.to_image(kps[:2], INPUT_SIZE)  # continuous image pixels
    radius = float(np.hypot(*(circle - centre)))
    if not radius > 0:
        return score, None
    return score, Roi(float(centre[0]), float(centre[1]), 2 * radius, angle_up(circle - centre))
