"""One part (the face or a hand) from the pretrained model, looked for where the annotator's skeleton draws it.

The editor's suggestions start from what the annotator sees: the part's drawn 2D. The part model runs in the
crop those points define (turned upright as the model expects: eyes level, fingers up), then once more in
the crop its own first answer defines. Where the drawn points are too far off for the part model to find the
part, the whole-body pass runs inside the box of the whole drawn skeleton and its answer for the part is used
(for a hand: whichever of its hands lies nearer the drawn one). An answer whose centre is further from the
drawn part than the part's size is not this part: no suggestion rather than a jump to another hand.
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


def hand_index(part: str, name: str) -> int:
    """Layout index of hand point ``name`` (``hand_root``, ``middle_finger1``, ...) of ``part`` (a hand)."""
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
        found = pipeline.find_part(pipeline.run_face, image, [("drawn", roi)] if roi else [], pipeline.MIN_FACE_SCORE,
                                    pipeline.FACE_EYE_CORNERS, pipeline.FACE_SCALE, 0.0, horizontal=True)  # fmt: skip
        to_layout = list(mapping.FACE_MESH_68)
    else:
        a, b = (drawn[hand_index(part, n)] for n in HAND_UP)
        roi = roi_around(pts, angle_up(b - a), pipeline.HAND_SCALE, pipeline.HAND_SHIFT_UP)
        found = pipeline.find_part(pipeline.run_hand, image, [("drawn", roi)] if roi else [], pipeline.MIN_HAND_SCORE,
                                    pipeline.HAND_UPRIGHT, pipeline.HAND_SCALE, pipeline.HAND_SHIFT_UP)  # fmt: skip
        to_layout = list(range(len(members)))
    if found is not None and found[3] is not None:
        points = found[1][to_layout] - CENTRE_OFFSET
        centre, reach = _centre_and_reach(drawn[members])
        if np.hypot(*(points.mean(axis=0) - centre)) <= reach:
            return PartAnswer(points, float(found[0]), "around the drawn " + part.replace("_", " "))
    finite = drawn[np.isfinite(drawn).all(axis=1)]
    if len(finite) < 2:
        return None
    (x0, y0), (x1, y1) = finite.min(axis=0), finite.max(axis=0)
    H, W = image.shape[:2]
    box = (max(x0, -0.5), max(y0, -0.5), min(x1, W - 0.5), min(y1, H - 0.5))
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return None
    body = pipeline.detect(image, box).keypoints
    # A hand is taken by where it is, not by the side the body model gave it: the drawn left hand may be the
    # model's right hand (a mislabelled skeleton, a person seen from behind).
    parts = [members] if part == "face" else [keypoints.PARTS["left_hand"], keypoints.PARTS["right_hand"]]
    found = [body[idx] for idx in parts if (body[idx, 2] > 0).all()]
    centre, reach = _centre_and_reach(drawn[members])
    near = [f for f in found if np.hypot(*(f[:, :2].mean(axis=0) - centre)) <= reach]
    if not near:
        return None
    best = min(near, key=lambda f: float(np.hypot(*(f[:, :2] - drawn[members]).T).mean()))
    return PartAnswer(best[:, :2], float(best[:, 2].min()), "whole-body pass in the drawn skeleton's box")


#: An answer counts as this part when its centre lies within this many drawn part sizes of the drawn centre.
NEAR_PART_SIZES = 1.0
#: ... or within this many pixels, for parts drawn very small.
NEAR_MIN_PX = 12.0


def _centre_and_reach(points: np.ndarray) -> tuple[np.ndarray, float]:
    """The centre of the drawn part's box and how far from it an answer may lie and still be this part."""
    lo, hi = np.nanmin(points, axis=0), np.nanmax(points, axis=0)
    return (lo + hi) / 2, max(NEAR_PART_SIZES * float((hi - lo).max()), NEAR_MIN_PX)
