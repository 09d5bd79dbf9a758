"""Two-view geometry for the editor and for lifting: fundamental matrices, epipolar curves, usable pairs.

Nothing here assumes a rig: the sample depths of epipolar curves follow the rig's own scale
(``rig_epipolar_depths``: a mouse cage, a studio, a stadium), and the pairs usable for 2-view lifting
are decided by the angle between optical axes (``non_opposing_pairs``), which holds on a ring of any
size as on the four Human3.6M cameras.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from annotator.geometry.camera import Camera, _as_array, _check_points, _distort_xy, normalize_points, rig_cameras

#: Default largest angle between two optical axes for 2-view lifting. On every Human3.6M rig the
#: pairs along a wall are 43-50 or 123-129 degrees apart and the diagonal (facing) pairs 153-156.
DEFAULT_MAX_PAIR_ANGLE_DEG = 140.0
#: Default sample depths (mm, along camera a's axis) of ``epipolar_curve``: a person 2-9 m away,
#: plus a metre either side, spaced geometrically so the image spacing stays roughly even.
DEFAULT_EPIPOLAR_DEPTHS: np.ndarray = np.geomspace(1000.0, 10000.0, 64)
#: ``rig_epipolar_depths``: the curve runs from this fraction of the nearest camera's distance to the point
#: its optical axes meet at to this multiple of the farthest one (Human3.6M: about 0.9 to 12 m).
NEAR_FRACTION, FAR_MULTIPLE = 0.2, 2.0
#: Without such a point (parallel axes, or one behind a camera), from this multiple of the shortest
#: baseline to this multiple of the longest: the working range of a stereo pair.
NEAR_BASELINES, FAR_BASELINES = 1.0, 50.0
#: The normal matrix of the axes' meeting point counts as singular beyond this condition number.
_MAX_AXES_CONDITION = 1e6
#: ``epipolar_curve`` keeps samples whose ideal projection lies within the image grown by this
#: fraction of its size on each side: outside, polynomial lens models fold back and mean nothing.
EPIPOLAR_MARGIN = 0.25


def fundamental_matrix(cam_a: Camera, cam_b: Camera) -> np.ndarray:
    """(3, 3) F with x_b^T F x_a = 0 for corresponding *ideal* (undistorted) pixels [u, v, 1]."""
    rig_cameras([cam_a, cam_b])
    R = cam_b.R @ cam_a.R.T
    t = cam_b.t - R @ cam_a.t
    tx = np.array([[0.0, -t[2], t[1]], [t[2], 0.0, -t[0]], [-t[1], t[0], 0.0]])
    F = np.linalg.inv(cam_b.K).T @ tx @ R @ np.linalg.inv(cam_a.K)
    return F / np.linalg.norm(F)


def epipolar_line(F: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Epipolar lines in view b of ideal pixels x in view a.

    Args:
        F: (3, 3) from ``fundamental_matrix(cam_a, cam_b)``.
        x: (..., 2) ideal pixels in view a (``undistort_points`` of what the user clicked).
    Returns:
        (..., 3) lines (a, b, c) scaled so a^2 + b^2 = 1: a u + b v + c is the signed pixel
        distance of (u, v) from the line.
    """
    F = _as_array("F", F, (3, 3))
    x = _check_points("x", x, 2)
    h = np.concatenate([x, np.ones(x.shape[:-1] + (1,))], axis=-1)
    line = h @ F.T
    return line / np.linalg.norm(line[..., :2], axis=-1, keepdims=True)


def epipolar_curve(
    cam_a: Camera, cam_b: Camera, x_a: np.ndarray, depths: np.ndarray = DEFAULT_EPIPOLAR_DEPTHS
) -> np.ndarray:
    """The epipolar line of a distorted pixel as the distorted polyline view b actually shows.

    Args:
        x_a: (2,) distorted pixel in view a.
        depths: (S,) depths along camera a's optical axis, mm (default ``DEFAULT_EPIPOLAR_DEPTHS``).
    Returns:
        (S', 2) distorted pixels in view b, S' <= S, in depth order: only samples in front of
        camera b whose ideal projection lies within the image grown by ``EPIPOLAR_MARGIN``, so
        every point is finite (empty when x_a cannot be undistorted or the ray misses view b).
    """
    rig_cameras([cam_a, cam_b])
    x_a = _as_array("x_a", x_a, (2,))
    depths = np.asarray(depths, dtype=np.float64)
    if depths.ndim != 1 or not np.isfinite(depths).all() or (depths <= 0).any():
        raise ValueError(f"depths must be a 1-D array of positive finite mm, got shape {depths.shape}")
    ray = np.append(normalize_points(cam_a, x_a), 1.0)  # camera-a direction with unit depth
    X = (depths[:, None] * ray - cam_a.t) @ cam_a.R  # (S, 3) world = R^T (d ray - t)
    Xc = cam_b.world_to_camera(X)
    with np.errstate(divide="ignore", invalid="ignore"):
        xn = Xc[:, :2] / Xc[:, 2:3]
    ideal = xn @ cam_b.K[:2, :2].T + cam_b.K[:2, 2]
    w, h = cam_b.size
    keep = (Xc[:, 2] > 0) & np.isfinite(ideal).all(axis=1)
    keep &= (ideal[:, 0] >= -EPIPOLAR_MARGIN * w) & (ideal[:, 0] <= (1 + EPIPOLAR_MARGIN) * w)
    keep &= (ideal[:, 1] >= -EPIPOLAR_MARGIN * h) & (ideal[:, 1] <= (1 + EPIPOLAR_MARGIN) * h)
    xd, yd, _ = _distort_xy(cam_b, xn[keep, 0], xn[keep, 1])
    K = cam_b.K
    return np.stack([K[0, 0] * xd + K[0, 1] * yd + K[0, 2], K[1, 1] * yd + K[1, 2]], axis=-1)


def axes_meeting_point(cameras: Sequence[Camera] | Mapping[str, Camera]) -> np.ndarray | None:
    """(3,) world mm: the point nearest every camera's optical axis (least squares), where a rig looks.

    None when the axes are (nearly) parallel or the point lies behind a camera.
    """
    cams = rig_cameras(cameras)
    A = np.zeros((3, 3))
    b = np.zeros(3)
    for cam in cams:
        axis = cam.R[2]  # optical axis, world, unit
        M = np.eye(3) - np.outer(axis, axis)  # projects onto the plane normal to the axis
        A += M
        b += M @ cam.center
    if np.linalg.cond(A) > _MAX_AXES_CONDITION:
        return None
    point = np.linalg.solve(A, b)
    if any((point - cam.center) @ cam.R[2] <= 0 for cam in cams):
        return None
    return point


def rig_epipolar_depths(cameras: Sequence[Camera] | Mapping[str, Camera], samples: int = 64) -> np.ndarray:
    """Sample depths (mm, along the dragging camera's axis) of epipolar curves that cover this rig's volume.

    From ``NEAR_FRACTION`` of the nearest camera's distance to where the axes meet
    (``axes_meeting_point``) to ``FAR_MULTIPLE`` of the farthest, geometrically spaced; for parallel
    axes (a stereo pair), from ``NEAR_BASELINES`` of the shortest to ``FAR_BASELINES`` of the longest
    baseline.

    Returns:
        (samples,) increasing positive depths.
    """
    cams = rig_cameras(cameras)
    if not isinstance(samples, int) or samples < 2:
        raise ValueError(f"samples must be an integer of at least 2, got {samples!r}")
    point = axes_meeting_point(cams)
    if point is not None:
        depth = np.array([(point - cam.center) @ cam.R[2] for cam in cams])
        near, far = NEAR_FRACTION * depth.min(), FAR_MULTIPLE * depth.max()
    else:
        centres = np.stack([cam.center for cam in cams])
        gaps = [np.linalg.norm(centres[i] - centres[j]) for i, j in itertools.combinations(range(len(cams)), 2)]
        near, far = NEAR_BASELINES * min(gaps), FAR_BASELINES * max(gaps)
    return np.geomspace(near, far, samples)


def non_opposing_pairs(
    cameras: Sequence[Camera] | Mapping[str, Camera], max_angle_deg: float = DEFAULT_MAX_PAIR_ANGLE_DEG
) -> list[tuple[int, int]]:
    """View pairs usable for 2-view lifting: optical axes less than ``max_angle_deg`` apart.

    Facing cameras see opposite sides of the body, so a keypoint visible in one is often hidden
    or left/right-confused in the other. The default (140 degrees) keeps, on every Human3.6M rig,
    the four pairs along the room's walls and drops the two diagonal pairs that face each other; on a
    ring of 6 cameras it keeps the neighbours (60 degrees) and the next but one (120) and drops the
    three facing pairs (180). A rig of two facing cameras has no such pair.

    Returns:
        (i, j) index pairs with i < j, in lexicographic order.
    """
    cams = rig_cameras(cameras)
    if not 0 < max_angle_deg <= 180:
        raise ValueError(f"max_angle_deg must be in (0, 180], got {max_angle_deg}")
    axes = np.stack([cam.R[2] for cam in cams])  # optical axes in world coordinates
    limit = np.cos(np.radians(max_angle_deg))
    return [(i, j) for i, j in itertools.combinations(range(len(cams)), 2) if axes[i] @ axes[j] > limit]
