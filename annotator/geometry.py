"""Pure numpy camera geometry: the calibrated camera, lens distortion and projection.

Everything the tool measures rests on these functions, so they take and return plain arrays,
state their shapes, import nothing from Django and raise ``ValueError`` (never ``assert``) on
input a user request can reach.

Conventions: world coordinates in millimetres; ``X_cam = R @ X_world + t``; the camera looks
along +Z with image u to the right and v down; pixel coordinates of a pixel's centre are integers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Lens models. ``opencv``: OpenCV's Brown-Conrady model. ``h36m``: the Human3.6M calibration's
#: own tangential form (VideoPose3D ``project_to_2d``), which is *not* OpenCV's:
#: ``x_d = x (radial + p1 x + p2 y) + p1 r^2``. Both keep coefficients in the order k1 k2 p1 p2 k3.
DISTORTION_MODELS: tuple[str, ...] = ("opencv", "h36m")


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
        return X @ self.R.T + self.t

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


def distort_normalized(camera: Camera, xn: np.ndarray) -> np.ndarray:
    """Apply the camera's lens distortion to ideal normalised coordinates.

    Args:
        xn: (..., 2) ideal normalised image coordinates (X/Z, Y/Z).
    Returns:
        (..., 2) distorted normalised coordinates.
    """
    k1, k2, p1, p2, k3 = camera.dist
    x, y = xn[..., 0], xn[..., 1]
    r2 = x * x + y * y
    radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
    if camera.model == "h36m":
        tan = p1 * x + p2 * y
        xd = x * (radial + tan) + p1 * r2
        yd = y * (radial + tan) + p2 * r2
    else:
        xy = x * y
        xd = x * radial + 2.0 * p1 * xy + p2 * (r2 + 2.0 * x * x)
        yd = y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * xy
    return np.stack([xd, yd], axis=-1)


def project(camera: Camera, X: np.ndarray) -> np.ndarray:
    """Project world points into the image, lens distortion applied.

    Args:
        X: (..., 3) world coordinates, mm.
    Returns:
        (..., 2) distorted pixel coordinates. Points on or behind the camera plane (Z <= 0) have
        no image and come back as NaN.
    """
    Xc = camera.world_to_camera(X)
    z = Xc[..., 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        xn = np.where(z > 0, Xc[..., :2] / z, np.nan)
    xd = distort_normalized(camera, xn)
    K = camera.K
    u = K[0, 0] * xd[..., 0] + K[0, 1] * xd[..., 1] + K[0, 2]
    v = K[1, 1] * xd[..., 1] + K[1, 2]
    return np.stack([u, v], axis=-1)
