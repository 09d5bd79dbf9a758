"""The Human3.6M camera calibration, shipped with the project, as ``geometry.Camera`` objects.

The numbers are VideoPose3D's (identical in H3WB's and PAFUSE's code), copied into
``annotator/data/h36m_cameras.json``. Their conventions differ from OpenCV's and are converted
here, once: the quaternion is camera-to-world and the translation is the camera centre, so
``R = R(q)^T`` and ``t = -R(q)^T C``; the tangential coefficients keep VideoPose3D's order and the
camera uses the ``h36m`` lens model, which is what reproduces VideoPose3D's ``project_to_2d``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np

from annotator.geometry import Camera

_DATA_FILE = Path(__file__).resolve().parent / "data" / "h36m_cameras.json"
_RAW = json.loads(_DATA_FILE.read_text())

CAMERA_IDS: tuple[str, ...] = tuple(_RAW["camera_ids"])
SUBJECTS: tuple[str, ...] = tuple(_RAW["subjects"])
#: Human3.6M video frame rate; H3WB samples its frames from 50 Hz video.
FPS = 50


def quaternion_to_matrix(q: np.ndarray) -> np.ndarray:
    """(4,) quaternion [w, x, y, z] -> (3, 3) rotation matrix R(q), with R(q) v = qrot(q, v) for unit q.

    The stored quaternions are unit only to about 1e-8. They are normalised here so that R is an
    exact rotation (R^T is its inverse, which the importer and the camera centre rely on); this
    moves projections by less than 1e-4 px relative to VideoPose3D's unnormalised ``qrot``.
    """
    w, x, y, z = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
    u_cross = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + 2.0 * w * u_cross + 2.0 * u_cross @ u_cross


@cache
def camera(subject: str, camera_id: str) -> Camera:
    """The calibrated camera ``camera_id`` of ``subject`` (extrinsics differ between subjects)."""
    if subject not in SUBJECTS:
        raise ValueError(f"no Human3.6M calibration for subject {subject!r}; known: {', '.join(SUBJECTS)}")
    if camera_id not in CAMERA_IDS:
        raise ValueError(f"unknown Human3.6M camera {camera_id!r}; known: {', '.join(CAMERA_IDS)}")
    intr = _RAW["intrinsics"][camera_id]
    extr = _RAW["extrinsics"][subject][camera_id]
    R_c2w = quaternion_to_matrix(extr["orientation"])
    C = np.asarray(extr["translation"], dtype=np.float64)
    fx, fy = intr["focal_length"]
    cx, cy = intr["center"]
    k1, k2, k3 = intr["radial_distortion"]
    p1, p2 = intr["tangential_distortion"]
    return Camera(
        K=[[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]],
        R=R_c2w.T,
        t=-R_c2w.T @ C,
        dist=[k1, k2, p1, p2, k3],
        size=(intr["res_w"], intr["res_h"]),
        model="h36m",
        name=camera_id,
    )


def rig(subject: str) -> dict[str, Camera]:
    """All four cameras of ``subject``, keyed by camera id, in ``CAMERA_IDS`` order."""
    return {cid: camera(subject, cid) for cid in CAMERA_IDS}
