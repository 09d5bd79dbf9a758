"""The calibrated camera, its lens models and projection (pure numpy, no Django).

Conventions: world coordinates in millimetres; ``X_cam = R @ X_world + t``; the camera looks
along +Z with image u to the right and v down; pixel coordinates of a pixel's centre are integers.
"Distorted pixels" are what an image shows; "ideal pixels" are where an undistorted pinhole camera
with the same K would put the point; "normalised" coordinates are ideal ones with K removed
(X/Z, Y/Z).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

#: Lens models. ``opencv``: OpenCV's Brown-Conrady model. ``h36m``: the Human3.6M calibration's
#: own tangential form (VideoPose3D ``project_to_2d``), which is *not* OpenCV's:
#: ``x_d = x (radial + p1 x + p2 y) + p1 r^2``. Both keep coefficients in the order k1 k2 p1 p2 k3.
DISTORTION_MODELS: tuple[str, ...] = ("opencv", "h36m")

#: Camera centres closer than this (mm) make a rig degenerate: the two views see along the same rays.
MIN_BASELINE_MM = 1.0

# Newton iterations of the lens inverse: the residual tolerance in normalised units (~1e-9 px) and
# the residual above which a point counts as outside the invertible part of the lens model.
_UNDISTORT_MAX_ITER = 20
_UNDISTORT_TOL = 1e-12
_UNDISTORT_FAIL = 1e-9


def _as_array(name: str, value, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.array(value, dtype=np.float64)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr.tolist()}")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Camera:
    """A calibrated pinhole camera with lens distortion.

    Args:
        K: (3, 3) intrinsics, pixels.
        R: (3, 3) world-to-camera rotation (orthonormal, det +1).
        t: (3,) world-to-camera translation, mm.
        dist: (5,) distortion coefficients k1 k2 p1 p2 k3.
        size: (width, height) of the image in pixels.
        model: one of ``DISTORTION_MODELS``.
        name: free-form identifier (e.g. the Human3.6M camera id).
    """

    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    dist: np.ndarray = field(default_factory=lambda: np.zeros(5))
    size: tuple[int, int] = (1000, 1000)
    model: str = "opencv"
    name: str = ""

    def __post_init__(self) -> None:
        K = _as_array("K", self.K, (3, 3))
        R = _as_array("R", self.R, (3, 3))
        t = _as_array("t", self.t, (3,))
        dist = _as_array("dist", self.dist, (5,))
        if K[0, 0] <= 0 or K[1, 1] <= 0 or K[2, 2] != 1 or K[1, 0] or K[2, 0] or K[2, 1]:
            raise ValueError(f"K must be upper triangular with positive focal lengths and K[2,2]=1, got {K.tolist()}")
        if not np.allclose(R @ R.T, np.eye(3), atol=1e-6) or np.linalg.det(R) < 0:
            raise ValueError("R must be a rotation matrix (orthonormal with determinant +1)")
        if self.model not in DISTORTION_MODELS:
            raise ValueError(f"unknown distortion model {self.model!r}; expected one of {DISTORTION_MODELS}")
        width, height = (int(v) for v in self.size)
        if width <= 0 or height <= 0 or (width, height) != tuple(self.size):
            raise ValueError(f"size must be two positive integers (width, height), got {self.size}")
        object.__setattr__(self, "K", K)
        object.__setattr__(self, "R", R)
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "dist", dist)
        object.__setattr__(self, "size", (width, height))

    @property
    def P(self) -> np.ndarray:
        """(3, 4) projection matrix K [R | t] of the undistorted pinhole camera."""
        return self.K @ np.hstack([self.R, self.t[:, None]])

    @property
    def center(self) -> np.ndarray:
        """(3,) camera centre in world mm."""
        return -self.R.T @ self.t

    @property
    def width(self) -> int:
        return self.size[0]

    @property
    def height(self) -> int:
        return self.size[1]

    def world_to_camera(self, X: np.ndarray) -> np.ndarray:
        """(..., 3) world mm -> (..., 3) camera-space mm."""
        X = np.asarray(X, dtype=np.float64)
        if X.shape[-1:] != (3,):
            raise ValueError(f"X must have shape (..., 3), got {X.shape}")
        # einsum, not matmul: see _Rig.normal_matrix on OpenBLAS's thread pool.
        return np.einsum("...j,ij->...i", X, self.R) + self.t

    def to_dict(self) -> dict:
        """Plain JSON data (for the browser, exports and the database)."""
        return {
            "K": self.K.tolist(),
            "R": self.R.tolist(),
            "t": self.t.tolist(),
            "dist": self.dist.tolist(),
            "size": list(self.size),
            "model": self.model,
            "name": self.name,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Camera:
        return cls(
            K=data["K"],
            R=data["R"],
            t=data["t"],
            dist=data["dist"],
            size=tuple(data["size"]),
            model=data.get("model", "opencv"),
            name=data.get("name", ""),
        )


# --- lens distortion ------------------------------------------------------------------------------


def _distort_xy(camera: Camera, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Distort normalised (x, y); also return the intermediates ``_distort_jacobian`` reuses."""
    k1, k2, p1, p2, k3 = camera.dist
    xx, yy, xy = x * x, y * y, x * y
    r2 = xx + yy
    radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
    if camera.model == "h36m":
        scale = radial + (p1 * x + p2 * y)
        xd = x * scale + p1 * r2
        yd = y * scale + p2 * r2
    else:
        scale = radial
        xd = x * radial + 2.0 * p1 * xy + p2 * (r2 + 2.0 * xx)
        yd = y * radial + p1 * (r2 + 2.0 * yy) + 2.0 * p2 * xy
    return xd, yd, (xx, yy, xy, r2, scale)


def _distort_jacobian(camera: Camera, x: np.ndarray, y: np.ndarray, parts: tuple) -> tuple[np.ndarray, ...]:
    """d(xd, yd) / d(x, y) as four arrays (jxx, jxy, jyx, jyy), from ``_distort_xy``'s intermediates."""
    k1, k2, p1, p2, k3 = camera.dist
    xx, yy, xy, r2, scale = parts
    # d radial / d r2, doubled because d r2 / dx = 2x.
    dr = 2.0 * (k1 + r2 * (2.0 * k2 + 3.0 * k3 * r2))
    cross = dr * xy
    if camera.model == "h36m":
        return (
            scale + dr * xx + 3.0 * p1 * x,
            cross + p2 * x + 2.0 * p1 * y,
            cross + p1 * y + 2.0 * p2 * x,
            scale + dr * yy + 3.0 * p2 * y,
        )
    jxy = cross + 2.0 * (p1 * x + p2 * y)
    return scale + dr * xx + 2.0 * p1 * y + 6.0 * p2 * x, jxy, jxy, scale + dr * yy + 6.0 * p1 * y + 2.0 * p2 * x


def _undistort_xy(camera: Camera, xd: np.ndarray, yd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Newton's method on distort(x) = xd, started at xd. The lens models are smooth and close to
    # the identity over the image, so it converges quadratically (3 steps for Human3.6M corners);
    # the loop stops as soon as every residual is below tolerance, before computing a Jacobian.
    if not camera.dist.any():
        return xd.copy(), yd.copy()
    x, y = xd.copy(), yd.copy()
    det = None
    # Far outside the image the polynomial overflows; those points fail below, quietly.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(_UNDISTORT_MAX_ITER):
            fx, fy, parts = _distort_xy(camera, x, y)
            rx, ry = fx - xd, fy - yd
            if not (np.abs(rx) + np.abs(ry) > _UNDISTORT_TOL).any():  # NaN (missing) points do not count
                break
            jxx, jxy, jyx, jyy = _distort_jacobian(camera, x, y, parts)
            det = jxx * jyy - jxy * jyx
            x -= (jyy * rx - jxy * ry) / det
            y -= (jxx * ry - jyx * rx) / det
    # No inverse: not converged (beyond where the polynomial folds over, far outside the image), or
    # converged onto a spurious root past the fold, where the lens would mirror the image (det <= 0).
    failed = ~(np.abs(rx) + np.abs(ry) <= _UNDISTORT_FAIL)
    if det is not None:
        failed |= ~(det > 0)
    # np.where, not item assignment: a single point comes through here as numpy scalars.
    return np.where(failed, np.nan, x), np.where(failed, np.nan, y)


def _check_points(name: str, x: np.ndarray, dim: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 1 or x.shape[-1] != dim:
        raise ValueError(f"{name} must have shape (..., {dim}), got {x.shape}")
    return x


def distort_normalized(camera: Camera, xn: np.ndarray) -> np.ndarray:
    """Apply the camera's lens distortion to ideal normalised coordinates.

    Args:
        xn: (..., 2) ideal normalised image coordinates (X/Z, Y/Z).
    Returns:
        (..., 2) distorted normalised coordinates.
    """
    xn = _check_points("xn", xn, 2)
    xd, yd, _ = _distort_xy(camera, xn[..., 0], xn[..., 1])
    return np.stack([xd, yd], axis=-1)


def undistort_normalized(camera: Camera, xd: np.ndarray) -> np.ndarray:
    """Invert ``distort_normalized``: distorted -> ideal normalised coordinates.

    Args:
        xd: (..., 2) distorted normalised coordinates.
    Returns:
        (..., 2) ideal normalised coordinates, to ~1e-12 (1e-9 px). Points that do not converge,
        i.e. lie where the polynomial lens model folds over far outside the image, and NaN inputs
        come back as NaN.
    """
    xd = _check_points("xd", xd, 2)
    x, y = _undistort_xy(camera, xd[..., 0], xd[..., 1])
    return np.stack([x, y], axis=-1)


def _pixels_to_distorted_xy(camera: Camera, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    K = camera.K
    yd = (x[..., 1] - K[1, 2]) / K[1, 1]
    xd = (x[..., 0] - K[0, 2] - K[0, 1] * yd) / K[0, 0]
    return xd, yd


def normalize_points(camera: Camera, x: np.ndarray) -> np.ndarray:
    """Distorted pixels -> ideal normalised coordinates (K removed, lens inverted).

    Args:
        x: (..., 2) distorted pixel coordinates.
    Returns:
        (..., 2) ideal normalised coordinates (X/Z, Y/Z); NaN as in ``undistort_normalized``.
    """
    x = _check_points("x", x, 2)
    xn, yn = _undistort_xy(camera, *_pixels_to_distorted_xy(camera, x))
    return np.stack([xn, yn], axis=-1)


def undistort_points(camera: Camera, x: np.ndarray) -> np.ndarray:
    """Distorted pixels -> ideal pinhole pixels of the same camera (same K, no lens distortion).

    Args:
        x: (..., 2) distorted pixel coordinates.
    Returns:
        (..., 2) ideal pixel coordinates, accurate to ~1e-9 px over the image; NaN as in
        ``undistort_normalized``.
    """
    xn = normalize_points(camera, x)
    K = camera.K
    u = K[0, 0] * xn[..., 0] + K[0, 1] * xn[..., 1] + K[0, 2]
    v = K[1, 1] * xn[..., 1] + K[1, 2]
    return np.stack([u, v], axis=-1)


def project(camera: Camera, X: np.ndarray) -> np.ndarray:
    """Project world points into the image, lens distortion applied.

    Args:
        X: (..., 3) world coordinates, mm.
    Returns:
        (..., 2) distorted pixel coordinates. Points on or behind the camera plane (Z <= 0) have
        no image and come back as NaN.
    """
    Xc = camera.world_to_camera(X)
    z = Xc[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(z > 0, z, np.nan)
        xd, yd, _ = _distort_xy(camera, Xc[..., 0] / z, Xc[..., 1] / z)
    K = camera.K
    return np.stack([K[0, 0] * xd + K[0, 1] * yd + K[0, 2], K[1, 1] * yd + K[1, 2]], axis=-1)


def rig_cameras(cameras: Sequence[Camera] | Mapping[str, Camera]) -> list[Camera]:
    """The cameras of a rig (a sequence, or a mapping such as ``h36m.rig()`` in its order), checked."""
    cams = list(cameras.values()) if isinstance(cameras, Mapping) else list(cameras)
    if len(cams) < 2:
        raise ValueError(f"need at least two cameras, got {len(cams)}")
    for i, cam in enumerate(cams):
        if not isinstance(cam, Camera):
            raise ValueError(f"cameras[{i}] must be a Camera, got {type(cam).__name__}")
    centres = np.stack([cam.center for cam in cams])
    for i, j in itertools.combinations(range(len(cams)), 2):
        gap = float(np.linalg.norm(centres[i] - centres[j]))
        if gap < MIN_BASELINE_MM:
            raise ValueError(
                f"degenerate rig: cameras {i} and {j} have coincident centres ({gap:.3g} mm apart, "
                f"need at least {MIN_BASELINE_MM} mm)"
            )
    return cams
