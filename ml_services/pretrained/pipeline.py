"""The whole-body pass of MediaPipe's networks on one person: body, then face and hands cut from the body.

1. The person's region: from ``box`` when given, else from the person detector on the letterboxed
   image (``detector.py``); without a detection, the whole image.
2. Pose landmarks (33 points and two alignment points) in that region, then once more in the region
   the alignment points define (upright, centred on the hips), as MediaPipe does from frame to frame.
3. Face: a crop turned upright from the body's eyes and mouth; hands: crops at each wrist, turned so
   the fingers point up (from the body's wrist, index and little-finger points). Each part model runs
   once more in the crop its own first answer defines (tighter and better centred).
4. Second pass: where the first crop misses the face or a hand (its presence score below the
   threshold), the part model runs again on wider crops around the head, or around the wrist along the
   forearm. ``WholeBodyResult.passes`` says which crop found each part.

Arrays in, arrays out; coordinates here are continuous (``crops.Roi``); ``detect`` returns the
project's pixel-centre coordinates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ml_services.pretrained import detector, mapping
from ml_services.pretrained.crops import CENTRE_OFFSET, Roi, angle_up, cut, roi_around
from ml_services.pretrained.runtime import network

PERSON_NET = "pose_detection.tflite"
POSE_NET = "pose_landmark_full.tflite"
FACE_NET = "face_landmark.tflite"
HAND_NET = "hand_landmark_full.tflite"

#: Presence thresholds (MediaPipe's defaults): below them the part counts as not found.
MIN_PERSON_SCORE = 0.5
#: A weaker detection is still tried, beside the whole image; the body model's own score decides.
MIN_PERSON_TRY = 0.1
MIN_POSE_SCORE = 0.5
MIN_FACE_SCORE = 0.5
MIN_HAND_SCORE = 0.5
#: A person region is this much wider than the circle around the body (MediaPipe: 1.25).
BODY_SCALE = 1.25
#: A face region is this much wider than the face mesh (MediaPipe: 1.5); a hand region than the hand (2.0),
#: shifted up (towards the fingers) by a tenth of its side.
FACE_SCALE = 1.5
HAND_SCALE = 2.0
HAND_SHIFT_UP = 0.1
#: Pose landmarks 33 and 34: the middle of the hips and a point on the circle around the body.
POSE_ALIGN = (33, 34)
POSE_OUTPUTS = 39
#: Face mesh points whose line is turned horizontal (the outer eye corners, right then left).
FACE_EYE_CORNERS = (33, 263)
#: Hand points that turn a hand upright: the wrist and the middle finger's knuckle.
HAND_UPRIGHT = (0, 9)
HANDS: tuple[str, ...] = ("left_hand", "right_hand")
#: A part model: (image, crop) -> (presence score, points in continuous image pixels).
PartRun = Callable[[np.ndarray, Roi], tuple[float, np.ndarray]]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(x, -100, 100)))


@dataclass
class WholeBodyResult:
    """``keypoints`` (J, 3) x, y (pixel centres) and score; the regions used and which crop found each part."""

    keypoints: np.ndarray
    person_score: float
    rois: dict[str, Roi] = field(default_factory=dict)
    passes: dict[str, str | None] = field(default_factory=dict)


def _input(image: np.ndarray, roi: Roi, size: int, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    return (cut(image, roi, size) * (hi - lo) + lo)[None]


def detect_person(image: np.ndarray, area: Roi | None = None) -> tuple[float, Roi | None]:
    """The person detector's best score and the person's region (None when nobody scores above ``MIN_PERSON_TRY``),
    looking at ``area`` (default: the whole image, letterboxed)."""
    net = network(PERSON_NET)
    area = area or detector.whole_image(image.shape[1], image.shape[0])
    out = net.run(_input(image, area, net.input_size, -1.0, 1.0))
    boxes = next(v for v in out.values() if v.shape[-1] == 4 + 2 * detector.NUM_KEYPOINTS)
    scores = next(v for v in out.values() if v.shape[-1] == 1)
    score, roi = detector.decode(boxes[0], scores[0], area, MIN_PERSON_TRY)
    return score, (roi.scaled(BODY_SCALE) if roi is not None else None)


def run_pose(image: np.ndarray, roi: Roi) -> tuple[float, np.ndarray]:
    """(pose score, (39, 3) x, y continuous image pixels and visibility in [0, 1]) in ``roi``."""
    net = network(POSE_NET)
    out = net.run(_input(image, roi, net.input_size))
    flat = next(v for v in out.values() if v.size == POSE_OUTPUTS * 5).reshape(POSE_OUTPUTS, 5)
    flag = float(next(v for v in out.values() if v.size == 1).ravel()[0])
    xy = roi.to_image(flat[:, :2], net.input_size)
    visibility = _sigmoid(flat[:, 3]) * _sigmoid(flat[:, 4])  # visible and present
    return flag, np.concatenate([xy, visibility[:, None]], axis=1)


def run_face(image: np.ndarray, roi: Roi) -> tuple[float, np.ndarray]:
    """(face score, (468, 2) mesh in continuous image pixels) in ``roi``."""
    net = network(FACE_NET)
    out = net.run(_input(image, roi, net.input_size))
    mesh = next(v for v in out.values() if v.size == mapping.FACE_MESH_POINTS * 3).reshape(-1, 3)
    flag = float(_sigmoid(next(v for v in out.values() if v.size == 1).ravel()[0]))
    return flag, roi.to_image(mesh[:, :2], net.input_size)


def run_hand(image: np.ndarray, roi: Roi) -> tuple[float, np.ndarray]:
    """(hand presence score, (21, 2) points in continuous image pixels) in ``roi``."""
    net = network(HAND_NET)
    out = net.run(_input(image, roi, net.input_size))
    points = out["Identity"].reshape(mapping.HAND_POINTS, 3)
    flag = float(out["Identity_1"].ravel()[0])
    return flag, roi.to_image(points[:, :2], net.input_size)


def _pose_region(pose: np.ndarray) -> Roi | None:
    centre, circle = pose[POSE_ALIGN[0], :2], pose[POSE_ALIGN[1], :2]
    radius = float(np.hypot(*(circle - centre)))
    if not np.isfinite(radius) or radius <= 0:
        return None
    return Roi(float(centre[0]), float(centre[1]), 2 * radius, angle_up(circle - centre)).scaled(BODY_SCALE)


def _body(image: np.ndarray, region: Roi) -> tuple[float, np.ndarray, Roi]:
    """Pose landmarks in ``region`` and once more in the region their alignment points define; the better."""
    score, pose = run_pose(image, region)
    again = _pose_region(pose) if score >= MIN_POSE_SCORE else None
    if again is not None:
        score2, pose2 = run_pose(image, again)
        if score2 >= score:
            return score2, pose2, again
    return score, pose, region


#: A head is about this fraction of the body region's side (a 1.25-times circle around a standing body).
HEAD_OF_BODY = 0.2


def face_regions(pose: np.ndarray, body: Roi | None = None) -> list[tuple[str, Roi]]:
    """Crops to look for the face in, from the body's face points: upright from the mouth to the eyes; then
    wider ones around the head (and one sized from the whole body, for when the face points are squeezed)."""
    P = mapping.POSE
    face = pose[[P[n] for n in mapping.POSE_NAMES[: P["mouth_right"] + 1]], :2]  # nose .. mouth, (11, 2)
    eyes = (pose[P["left_eye"], :2] + pose[P["right_eye"], :2]) / 2
    mouth = (pose[P["mouth_left"], :2] + pose[P["mouth_right"], :2]) / 2
    up = eyes - mouth
    reach = float(np.hypot(*up))
    if not np.isfinite(reach) or reach <= 0:
        return []
    first = roi_around(face, angle_up(up), 1.6)
    if first is None:
        return []
    first = Roi(first.cx, first.cy, max(first.side, 4.0 * reach), first.angle)
    centre = (eyes + mouth) / 2
    out = [("body", first), ("head", Roi(float(centre[0]), float(centre[1]), first.side * 1.8, first.angle))]
    if body is not None:
        out.append(("head from body", Roi(float(centre[0]), float(centre[1]), body.side * HEAD_OF_BODY, first.angle)))
    return out


def hand_regions(pose: np.ndarray, side: str) -> list[tuple[str, Roi]]:
    """Crops to look for one hand in (``side`` is ``left`` or ``right``, the person's own), fingers up."""
    P = mapping.POSE
    wrist, elbow = pose[P[f"{side}_wrist"], :2], pose[P[f"{side}_elbow"], :2]
    tip = (pose[P[f"{side}_index"], :2] + pose[P[f"{side}_pinky"], :2]) / 2
    out: list[tuple[str, Roi]] = []
    reach = float(np.hypot(*(tip - wrist)))
    if np.isfinite(reach) and reach > 0:
        centre = wrist + 0.75 * (tip - wrist)
        out.append(("body", Roi(float(centre[0]), float(centre[1]), 4.0 * reach, angle_up(tip - wrist))))
    forearm = wrist - elbow
    length = float(np.hypot(*forearm))
    if np.isfinite(length) and length > 0:
        for scale in (1.2, 1.8):
            centre = wrist + 0.35 * forearm
            out.append((f"wrist x{scale}", Roi(float(centre[0]), float(centre[1]), scale * length, angle_up(forearm))))
    return out


def _refined(
    run: PartRun,
    image: np.ndarray,
    found: np.ndarray,
    upright: tuple[int, int],
    scale: float,
    shift: float,
    horizontal: bool = False,
) -> tuple[float, np.ndarray, Roi] | None:
    """Run a part model again in the crop its first answer defines."""
    a, b = found[upright[0]], found[upright[1]]
    angle = float(np.arctan2(b[1] - a[1], b[0] - a[0])) if horizontal else angle_up(b - a)
    roi = roi_around(found, angle, scale, shift)
    if roi is None:
        return None
    score, points = run(image, roi)
    return score, points, roi


def find_part(
    run: PartRun,
    image: np.ndarray,
    regions: list[tuple[str, Roi]],
    minimum: float,
    upright: tuple[int, int],
    scale: float,
    shift: float,
    horizontal: bool = False,
) -> tuple[float, np.ndarray, Roi, str | None] | None:
    """Look for a part in ``regions`` in turn with ``run`` (a part model: image, crop -> score, points).

    The first crop in which the part scores ``minimum`` wins, and the model runs once more in the crop its answer
    defines (turned by the points ``upright``, ``scale`` times their extent, ``shift`` up). Returns (score,
    points, crop, region name), with name None (and the best-scoring try) when no crop found it; None without
    regions."""
    best = None
    for name, roi in regions:
        score, points = run(image, roi)
        if score >= minimum:
            again = _refined(run, image, points, upright, scale, shift, horizontal)
            if again is not None and again[0] >= minimum:
                return again[0], again[1], again[2], name
            return score, points, roi, name
        if best is None or score > best[0]:
            best = (score, points, roi, None)
    return best


def detect(image: np.ndarray, box: tuple[float, float, float, float] | None = None) -> WholeBodyResult:
    """The whole-body keypoints of the person in ``image`` (inside ``box`` when given); see the module doc."""
    H, W = image.shape[:2]
    result = WholeBodyResult(keypoints=mapping.empty(), person_score=0.0)
    if box is not None:
        # The detector looks inside the box (for the body's alignment); the box itself is the fallback.
        x0, y0, x1, y1 = (float(v) + CENTRE_OFFSET for v in box)
        area = Roi((x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * BODY_SCALE, 0.0)
        result.person_score, found = detect_person(image, area)
        candidates = ([found] if found is not None else []) + [area]
    else:
        result.person_score, found = detect_person(image)
        candidates = [found] if found is not None else []
        if result.person_score < MIN_PERSON_SCORE:
            candidates.append(detector.whole_image(W, H))
    score, pose, region = -1.0, None, candidates[0]
    for start in candidates:
        s, p, r = _body(image, start)
        if s > score:
            score, pose, region = s, p, r
    result.rois["body"] = region
    if score < MIN_POSE_SCORE:
        result.passes = {"body": None, "face": None, **{h: None for h in HANDS}}
        return result
    result.passes["body"] = "detector" if box is None else "box"
    pose33 = pose[: len(mapping.POSE_NAMES)]

    face = None
    found = find_part(run_face, image, face_regions(pose33, region), MIN_FACE_SCORE, FACE_EYE_CORNERS, FACE_SCALE, 0.0,
                       horizontal=True)  # fmt: skip
    if found is not None and found[3] is not None:
        face = (found[1] - CENTRE_OFFSET, found[0])
        result.rois["face"] = found[2]
    result.passes["face"] = found[3] if found is not None else None

    hands: dict[str, tuple[np.ndarray, float] | None] = {}
    for part in HANDS:
        side = part.split("_")[0]
        found = find_part(run_hand, image, hand_regions(pose33, side), MIN_HAND_SCORE, HAND_UPRIGHT, HAND_SCALE,
                           HAND_SHIFT_UP)  # fmt: skip
        hands[part] = None
        if found is not None and found[3] is not None:
            hands[part] = (found[1] - CENTRE_OFFSET, found[0])
            result.rois[part] = found[2]
        result.passes[part] = found[3] if found is not None else None

    body = pose33.copy()
    body[:, :2] -= CENTRE_OFFSET
    result.keypoints = mapping.to_wholebody(pose=body, face=face, hands=hands, width=W, height=H)
    return result
