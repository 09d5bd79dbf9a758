"""MediaPipe's landmarks on the COCO-WholeBody layout: which output point becomes which keypoint.

* Body: the 17 COCO body keypoints are 17 of MediaPipe Pose's 33 landmarks (same anatomical points,
  the person's own left and right in both); feet: heels direct, big toes from ``foot_index`` (the tip
  of the foot); the small toes have no MediaPipe counterpart and stay missing.
* Face: the 68 iBUG/300-W landmarks (``face-0`` .. ``face-67``) are read off the 468-point face mesh by
  ``FACE_MESH_68``, the list ``data/face_mesh_68.json`` documents region by region (jaw, brows, nose, eyes,
  lips; checked on a photograph: docs/images/pretrained_astronaut.jpg).
* Hands: MediaPipe Hands' 21 points are in COCO-WholeBody's order already (wrist/root, then thumb,
  index, middle, ring, little finger, each from the knuckle to the tip); the hand cut at the person's
  left wrist fills ``left_hand``.

A keypoint the model does not predict, or predicts outside the image, gets score 0 and NaN coordinates:
nothing is invented. Layout names come from ``annotator.keypoints``; nothing here spells out an index range.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from annotator import keypoints

#: MediaPipe Pose landmark indices (pose_landmark_full, the 33 documented landmarks).
POSE_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip
POSE = {name: i for i, name in enumerate(POSE_NAMES)}

#: COCO-WholeBody keypoint name -> MediaPipe Pose landmark name (body 17 and four of the six feet points).
BODY_FROM_POSE: dict[str, str] = {
    **{name: name for name in keypoints.NAMES[keypoints.PART_SLICES["body"]]},
    "left_heel": "left_heel",
    "right_heel": "right_heel",
    "left_big_toe": "left_foot_index",
    "right_big_toe": "right_foot_index",
}

#: The documented list (``data/face_mesh_68.json``): region by region, which mesh point each face keypoint is.
FACE_REGIONS: tuple[dict, ...] = tuple(
    json.loads((Path(__file__).resolve().parent / "data" / "face_mesh_68.json").read_text())["regions"]
)
#: face-k of COCO-WholeBody (iBUG 68 order) is mesh point FACE_MESH_68[k] of MediaPipe's 468-point face mesh.
FACE_MESH_68: tuple[int, ...] = tuple(m for region in FACE_REGIONS for m in region["mesh"])
FACE_MESH_POINTS = 468
HAND_POINTS = 21

_covered = [k for region in FACE_REGIONS for k in range(region["face"][0], region["face"][1] + 1)]
_distinct = len(set(FACE_MESH_68)) == len(FACE_MESH_68) == len(_covered)
if (
    _covered != list(range(len(keypoints.PARTS["face"])))
    or not _distinct
    or not all(0 <= m < FACE_MESH_POINTS for m in FACE_MESH_68)
):
    raise ImportError("data/face_mesh_68.json must name one distinct mesh point per face keypoint, region by region")
if HAND_POINTS != len(keypoints.PARTS["left_hand"]) or HAND_POINTS != len(keypoints.PARTS["right_hand"]):
    raise ImportError("MediaPipe hands have 21 points; the layout's hands do not")

#: Layout indices filled from the pose, and the pose landmarks they come from.
BODY_TARGETS = np.array([keypoints.index(name) for name in BODY_FROM_POSE], dtype=np.intp)
BODY_SOURCES = np.array([POSE[name] for name in BODY_FROM_POSE.values()], dtype=np.intp)
#: The keypoints no MediaPipe model predicts (the small toes).
NOT_PREDICTED = np.setdiff1d(np.concatenate([keypoints.PARTS["body"], keypoints.PARTS["feet"]]), BODY_TARGETS).astype(
    np.intp
)


def empty() -> np.ndarray:
    """(J, 3) all missing: NaN coordinates, score 0."""
    out = np.full((keypoints.NUM_KEYPOINTS, 3), np.nan)
    out[:, 2] = 0.0
    return out


def to_wholebody(
    *,
    pose: np.ndarray | None,
    face: tuple[np.ndarray, float] | None,
    hands: dict[str, tuple[np.ndarray, float] | None],
    width: int,
    height: int,
) -> np.ndarray:
    """The (J, 3) x, y, score array of one person.

    Args:
        pose: (33, 3) x, y (pixels) and visibility in [0, 1] of each pose landmark, or None.
        face: ((468, 2) mesh pixels, face score in [0, 1]) or None when no face was found.
        hands: ``{"left_hand": ((21, 2) pixels, score), "right_hand": ...}`` by the person's own side; None
            (or absent) where no hand was found.
        width, height: the image size; points outside it are missing.
    """
    out = empty()
    if pose is not None:
        pose = np.asarray(pose, dtype=np.float64)
        if pose.shape != (len(POSE_NAMES), 3):
            raise ValueError(f"pose must be ({len(POSE_NAMES)}, 3), got {pose.shape}")
        out[BODY_TARGETS] = pose[BODY_SOURCES]
    if face is not None:
        mesh, score = face
        mesh = np.asarray(mesh, dtype=np.float64)
        if mesh.shape != (FACE_MESH_POINTS, 2):
            raise ValueError(f"face mesh must be ({FACE_MESH_POINTS}, 2), got {mesh.shape}")
        idx = keypoints.PARTS["face"]
        out[idx, :2] = mesh[list(FACE_MESH_68)]
        out[idx, 2] = score
    for part, found in hands.items():
        if part not in ("left_hand", "right_hand"):
            raise ValueError(f"unknown hand {part!r}")
        if found is None:
            continue
        points, score = found
        points = np.asarray(points, dtype=np.float64)
        if points.shape != (HAND_POINTS, 2):
            raise ValueError(f"{part} must be ({HAND_POINTS}, 2), got {points.shape}")
        out[keypoints.PARTS[part], :2] = points
        out[keypoints.PARTS[part], 2] = score
    out[:, 2] = np.clip(np.nan_to_num(out[:, 2]), 0.0, 1.0)
    x, y = out[:, 0], out[:, 1]
    inside = np.isfinite(x) & np.isfinite(y) & (x >= -0.5) & (x < width - 0.5) & (y >= -0.5) & (y < height - 0.5)
    missing = ~inside | (out[:, 2] <= 0)
    out[missing] = (np.nan, np.nan, 0.0)
    return out
