"""One part (the face or a hand) from the pretrained model, looked for where the annotator's skeleton draws it.

The editor's suggestions start from what the annotator sees: the part's drawn 2D. The part model runs in the
crop those points define (turned upright as the model expects: eyes level, fingers up), then once more in
the crop its own first answer defines. Where the drawn points are too far off for the part model to find the
part, the whole-body pass runs inside the box of the whole drawn skeleton and its answer for the part is used.
Arrays in, arrays out; coordinates are the project's pixel centres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotator import keypoints
from ml_services.pretrained import mapping, pipeline
from ml_services.pretrained.crops import CENTRE_OFFSET, angle_up, roi_around

#: The drawn 68-point face spans brows to chin; the mesh the model was cut for reaches the hairline.
DRAWN_FACE_SCALE = 1.7
DRAWN_FACE_SHIFT_UP = 0.08
#: Layout names that turn a drawn part upright: from the mouth up to the eyes (whichever side each eye is on);
#: from the wrist to the middle finger's knuckle.
FACE_EYES = tuple(f"face-{k}" for k in range(36, 48))
FACE_MOUTH = tuple(f"face-{k}" for k in range(48, 68))
HAND_UP = ("hand_root", "middle_finger1")


@dataclass(frozen=True)
class PartAnswer:
    """The part's keypoints (K, 2) in layout order (pixel centres), the model's presence score and which crop."""

    points: np.ndarray
    score: float
    crop: str


def _name(part: str, name: str) -> int:
    return keypoints.index(f"{part.split('_')[0]}_{name}" if part.endswith("hand") else name)


def part_from_points(image: np.ndarray, part: str, drawn: np.ndarray) -> PartAnswer | None:
    """The pretrained model's ``part`` (``face``, ``left_hand``, ``right_hand``) near the drawn skeleton.

    Args:
        image: (H, W, 3) uint8 RGB. drawn: (J, 2) every keypoint as drawn, pixel centres (NaN where unknown).
    Returns:
        the answer, or None when the part model finds no such part near the drawing.
    """
    if part not in keypoints.VALIDITY_PARTS:
        raise ValueError(f"the pretrained model suggests the face and the hands, not {part!r}")
    drawn = np.asarray(drawn, dtype=np.float64)
    if drawn.shape != (keypoints.NUM_KEYPOINTS, 2):
        raise ValueError(f"drawn must be ({keypoints.NUM_KEYPOINTS}, 2), got {drawn.shape}")
    members = keypoints.PARTS[part]
    pts = drawn[members] + CENTRE_OFFSET  # continuous pixels
    if part == "face":
        eyes = drawn[[keypoints.index(n) for n in FACE_EYES]].mean(axis=0)
        mouth = drawn[[keypoints.index(n) for n in FACE_MOUTH]].mean(axis=0)
        roi = roi_around(pts, angle_up(eyes - mouth), DRAWN_FACE_SCALE, DRAWN_FACE_SHIFT_UP)
        found = pipeline._find_part(pipeline.run_face, image, [("drawn", roi)] if roi else [], pipeline.MIN_FACE_SCORE,
                                    pipeline.FACE_EYE_CORNERS, pipeline.FACE_SCALE, 0.0, horizontal=True)  # fmt: skip
        to_layout = list(mapping.FACE_MESH_68)
    else:
        a, b = (drawn[_name(part, n)] for n in HAND_UP)
        roi = roi_around(pts, angle_up(b - a), pipeline.HAND_SCALE, pipeline.HAND_SHIFT_UP)
        found = pipeline._find_part(pipeline.run_hand, image, [("drawn", roi)] if roi else [], pipeline.MIN_HAND_SCORE,
                                    pipeline.HAND_UPRIGHT, pipeline.HAND_SCALE, pipeline.HAND_SHIFT_UP)  # fmt: skip
        to_layout = list(range(len(members)))
    if found is not None and found[3] is not None:
        return PartAnswer(found[1][to_layout] - CENTRE_OFFSET, float(found[0]), "around the drawn " +
                          part.replace("_", " "))  # fmt: skip
    finite = drawn[np.isfinite(drawn).all(axis=1)]
    if len(finite) < 2:
        return None
    (x0, y0), (x1, y1) = finite.min(axis=0), finite.max(axis=0)
    H, W = image.shape[:2]
    box = (max(x0, -0.5), max(y0, -0.5), min(x1, W - 0.5), min(y1, H - 0.5))
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return None
    body = pipeline.detect(image, box).keypoints[members]
    if not (body[:, 2] > 0).all():
        return None
    return PartAnswer(body[:, :2], float(body[:, 2].min()), "whole-body pass in the drawn skeleton's box")
