"""Which 2D convention a dataset's keypoints follow, and which camera took a sample that does not say.

H3WB's 2D is the pinhole projection ``K (R X + T) / z`` without lens distortion (the authors'
answers in wholebody3d issues #5 and #16), while the Human3.6M images are distorted: a point drawn
from the 2D lands up to ~10 px off the image near the borders. ``convention_residuals`` measures
the imported 2D against both projections of the imported 3D, so the importer can store which
convention each dataset follows (and exports write 2D in the dataset's own one).

``identify_cameras`` gives back the subject and camera of samples that carry 2D and 3D but no
image path (``2Dto3D_*.json``): the 3D is ``R X`` of one camera, so only the right camera's
translation and intrinsics put its projection onto the 2D. Pure numpy; no Django.
"""

from __future__ import annotations

import numpy as np

from annotator import geometry, h36m

PINHOLE, DISTORTED = "pinhole", "distorted"
#: Body joints are enough to tell cameras apart, and 6x cheaper than all 133.
_ID_JOINTS = slice(0, 23)
#: A sample whose best camera leaves more than this mean residual (px) is not placed.
MAX_IDENTIFY_RESIDUAL_PX = 5.0
_CHUNK = 4096


def pinhole(camera: geometry.Camera, X: np.ndarray) -> np.ndarray:
    """(..., J, 3) world mm -> (..., J, 2) pixels of the undistorted pinhole camera ``K (R X + t) / z``."""
    Xc = np.asarray(X, dtype=np.float64) @ camera.R.T + camera.t
    with np.errstate(invalid="ignore", divide="ignore"):
        xn = Xc[..., :2] / Xc[..., 2:3]
    return xn @ camera.K[:2, :2].T + camera.K[:2, 2]


def convention_residuals(cameras: list[geometry.Camera], world: np.ndarray, points_2d: np.ndarray) -> dict:
    """Mean residual (px) of imported 2D against the pinhole and the distorted projection of the 3D.

    Args:
        cameras: the camera of every sample, length S.
        world: (S, J, 3) world mm (the 3D the 2D goes with).
        points_2d: (S, J, 2) px, NaN where missing.
    Returns:
        ``{"pinhole": px, "distorted": px, "points": n}``; the residuals are None when no point is finite.
    """
    sums = {PINHOLE: 0.0, DISTORTED: 0.0}
    count = 0
    by_camera: dict[int, list[int]] = {}
    for n, cam in enumerate(cameras):
        by_camera.setdefault(id(cam), []).append(n)
    for rows in by_camera.values():
        cam = cameras[rows[0]]
        X, x = world[rows], points_2d[rows]
        for name, projected in ((PINHOLE, pinhole(cam, X)), (DISTORTED, geometry.project(cam, X))):
            err = np.linalg.norm(projected - x, axis=-1)
            finite = np.isfinite(err)
            sums[name] += float(err[finite].sum())
            if name == PINHOLE:
                count += int(finite.sum())
    return {
        PINHOLE: sums[PINHOLE] / count if count else None,
        DISTORTED: sums[DISTORTED] / count if count else None,
        "points": count,
    }


def identify_cameras(points_3d: np.ndarray, points_2d: np.ndarray,
                     subjects: tuple[str, ...] = h36m.SUBJECTS) -> tuple[list[str], list[str], np.ndarray]:  # fmt: skip
    """The Human3.6M subject and camera of every sample, from its own 2D and 3D.

    Args:
        points_3d: (S, J, 3) ``R_cam X_world`` mm (H3WB's convention, no translation).
        points_2d: (S, J, 2) px of the same samples.
    Returns:
        subjects (S,), camera ids (S,), and the best mean residual (S,) px (either 2D convention).
    """
    candidates = [(s, c, h36m.camera(s, c)) for s in subjects for c in h36m.CAMERA_IDS]
    S = len(points_3d)
    best = np.full(S, np.inf)
    choice = np.zeros(S, dtype=np.intp)
    for lo in range(0, S, _CHUNK):
        X = points_3d[lo : lo + _CHUNK, _ID_JOINTS]
        x = points_2d[lo : lo + _CHUNK, _ID_JOINTS]
        for k, (_, _, cam) in enumerate(candidates):
            Xc = X + cam.t  # camera coordinates if this is the camera
            with np.errstate(invalid="ignore", divide="ignore"):
                xn = Xc[..., :2] / Xc[..., 2:3]
                ideal = xn @ cam.K[:2, :2].T + cam.K[:2, 2]
                distorted = geometry.distort_normalized(cam, xn.reshape(-1, 2)).reshape(xn.shape)
                distorted = distorted @ cam.K[:2, :2].T + cam.K[:2, 2]
            for projected in (ideal, distorted):
                err = np.nanmean(np.linalg.norm(projected - x, axis=-1), axis=-1)  # (chunk,)
                err = np.where(np.isfinite(err), err, np.inf)
                better = err < best[lo : lo + _CHUNK]
                best[lo : lo + _CHUNK][better] = err[better]
                choice[lo : lo + _CHUNK][better] = k
    return [candidates[k][0] for k in choice], [candidates[k][1] for k in choice], best
