"""Pure numpy camera geometry: the calibrated camera, lens distortion, projection and triangulation.

Everything the tool measures rests on these functions, so they take and return plain arrays,
state their shapes, import nothing from Django and raise ``ValueError`` (never ``assert``) on
input a user request can reach.

Conventions: world coordinates in millimetres; ``X_cam = R @ X_world + t``; the camera looks
along +Z with image u to the right and v down; pixel coordinates of a pixel's centre are integers.
"Distorted pixels" are what an image shows; "ideal pixels" are where an undistorted pinhole camera
with the same K would put the point; "normalised" coordinates are ideal ones with K removed
(X/Z, Y/Z).

Triangulation (Hartley & Zisserman, *Multiple View Geometry*, 2nd ed., sec. 12.2) works on
normalised coordinates in a world frame centred and scaled on the rig (Hartley normalisation), and
solves the DLT normal equations in closed form for every point at once: ``A^T A`` is a sum of
per-view 4x4 blocks, each a fixed combination of four constant matrices weighted by
``[x^2 + y^2, x, y, 1]``, so building it for N points is one small tensor contraction and no
eigen-solver or Python loop over points is needed.
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
#: Default inlier threshold of ``triangulate_robust`` in pixels: about five times the noise of careful
#: clicks (2 px), far below the size of a swapped or mislabelled keypoint.
DEFAULT_THRESHOLD_PX = 10.0
#: Default largest angle between two optical axes for 2-view lifting. On every Human3.6M rig the
#: pairs along a wall are 43-50 or 123-129 degrees apart and the diagonal (facing) pairs 153-156.
DEFAULT_MAX_PAIR_ANGLE_DEG = 140.0
#: Default sample depths (mm, along camera a's axis) of ``epipolar_curve``: a person 2-9 m away,
#: plus a metre either side, spaced geometrically so the image spacing stays roughly even.
DEFAULT_EPIPOLAR_DEPTHS: np.ndarray = np.geomspace(1000.0, 10000.0, 64)
#: ``epipolar_curve`` keeps samples whose ideal projection lies within the image grown by this
#: fraction of its size on each side: outside, polynomial lens models fold back and mean nothing.
EPIPOLAR_MARGIN = 0.25
#: Views with all subsets are tried up to this many cameras (57 subsets for 6); beyond, RANSAC.
MAX_EXHAUSTIVE_VIEWS = 6
#: Most 2-view hypotheses RANSAC tries (all pairs when there are fewer; else drawn once, fixed seed).
MAX_RANSAC_HYPOTHESES = 64

# Newton iterations of the lens inverse: the residual tolerance in normalised units (~1e-9 px) and
# the residual above which a point counts as outside the invertible part of the lens model.
_UNDISTORT_MAX_ITER = 20
_UNDISTORT_TOL = 1e-12
_UNDISTORT_FAIL = 1e-9
# Points per block in the batched solvers: small enough for the temporaries to stay in cache.
_CHUNK = 16384
# A normal matrix whose determinant is this small relative to its diagonal product is singular
# (parallel rays, point on the baseline).
_SINGULAR = 1e-12
# Upper-triangle entries of a symmetric 4x4 matrix, in the order the solvers use.
_TRIU = np.triu_indices(4)


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
    if failed.any():
        x[failed] = np.nan
        y[failed] = np.nan
    return x, y


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


# --- rigs and observations ------------------------------------------------------------------------


def _camera_list(cameras: Sequence[Camera] | Mapping[str, Camera]) -> list[Camera]:
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


class _Rig:
    """Per-rig constants of the batched solvers, in the Hartley-normalised world frame.

    World points are ``X = scale * X' + origin`` with the origin at the centroid of the camera
    centres and the scale their RMS distance from it, so the unknowns of the normal equations are
    O(1) and the 3x3 solve is well conditioned.
    """

    def __init__(self, cameras: list[Camera]) -> None:
        self.cameras = cameras
        centres = np.stack([cam.center for cam in cameras])
        self.origin = centres.mean(axis=0)
        self.scale = float(np.sqrt(((centres - self.origin) ** 2).sum(axis=1).mean()))
        # (V, 3, 4) [R | t] acting on normalised world points [X'; 1], giving camera-space mm.
        self.P = np.stack([np.hstack([cam.R * self.scale, (cam.R @ self.origin + cam.t)[:, None]]) for cam in cameras])
        p0, p1, p2 = self.P[:, 0], self.P[:, 1], self.P[:, 2]

        def outer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return a[:, :, None] * b[:, None, :]

        # A^T A of view v = (x^2 + y^2) B0 + x B1 + y B2 + B3, from the rows x p2 - p0 and y p2 - p1.
        blocks = np.stack(
            [
                outer(p2, p2),
                -(outer(p2, p0) + outer(p0, p2)),
                -(outer(p2, p1) + outer(p1, p2)),
                outer(p0, p0) + outer(p1, p1),
            ]
        )
        self.basis = blocks[:, :, _TRIU[0], _TRIU[1]].transpose(1, 0, 2)  # (V, 4, 10)
        self.focal = np.array([np.sqrt(cam.K[0, 0] * cam.K[1, 1]) for cam in cameras])  # (V,)

    def normal_matrix(self, x: np.ndarray, y: np.ndarray, w2: np.ndarray) -> np.ndarray:
        """Upper triangle of sum_v w2_v A_v^T A_v: x, y, w2 (V, n) -> (10, n)."""
        coef = np.stack([(x * x + y * y) * w2, x * w2, y * w2, w2], axis=1)  # (V, 4, n)
        # einsum rather than matmul: a BLAS call per block wakes OpenBLAS's thread pool, whose spinning
        # workers then slow every elementwise operation that follows (10x on two cores).
        return np.einsum("vck,vcn->kn", self.basis, coef)

    def view_blocks(self, x: np.ndarray, y: np.ndarray, w2: np.ndarray) -> np.ndarray:
        """Per-view upper triangles w2_v A_v^T A_v: (V, n) each -> (V, 10, n)."""
        coef = np.stack([(x * x + y * y) * w2, x * w2, y * w2, w2], axis=1)  # (V, 4, n)
        return np.einsum("vck,vcn->vkn", self.basis, coef)

    def camera_coords(self, v: int, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Normalised world (3, n) -> camera-space mm of view v, as three (n,) arrays."""
        P = self.P[v]
        return tuple(P[i, 0] * X[0] + P[i, 1] * X[1] + P[i, 2] * X[2] + P[i, 3] for i in range(3))

    def residual_px(self, v: int, X: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Ideal-pixel distance between X' (3, n) reprojected into view v and observed normalised (x, y)."""
        xc, yc, zc = self.camera_coords(v, X)
        with np.errstate(divide="ignore", invalid="ignore"):
            dx = xc / zc - x
            dy = yc / zc - y
        K = self.cameras[v].K
        res = np.hypot(K[0, 0] * dx + K[0, 1] * dy, K[1, 1] * dy)
        return np.where(zc > 0, res, np.inf)  # behind the camera: explains nothing

    def depth_weights(self, X: np.ndarray) -> np.ndarray:
        """(V, n) squared row weights (f / depth)^2 turning algebraic into pixel residuals."""
        depth = np.stack([self.camera_coords(v, X)[2] for v in range(len(self.cameras))])
        depth = np.maximum(np.abs(depth), 1e-3 * self.scale)
        return (self.focal[:, None] / depth) ** 2

    def to_world(self, X: np.ndarray) -> np.ndarray:
        """Normalised world (3, n) -> world mm (n, 3)."""
        return X.T * self.scale + self.origin


def _solve(Q: np.ndarray) -> np.ndarray:
    """Closed-form solution of the DLT normal equations with W = 1: Q (10, n) -> X' (3, n), NaN if singular."""
    q00, q01, q02, q03, q11, q12, q13, q22, q23, _ = Q
    c00 = q11 * q22 - q12 * q12
    c01 = q02 * q12 - q01 * q22
    c02 = q01 * q12 - q02 * q11
    c11 = q00 * q22 - q02 * q02
    c12 = q01 * q02 - q00 * q12
    c22 = q00 * q11 - q01 * q01
    det = q00 * c00 + q01 * c01 + q02 * c02
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(det > _SINGULAR * q00 * q11 * q22, -1.0 / det, np.nan)
        return np.stack(
            [
                (c00 * q03 + c01 * q13 + c02 * q23) * inv,
                (c01 * q03 + c11 * q13 + c12 * q23) * inv,
                (c02 * q03 + c12 * q13 + c22 * q23) * inv,
            ]
        )


def _observations(rig: _Rig, points: np.ndarray, visible: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Check (V, N, 2) pixels and the (V, N) mask; return them as float64 and bool arrays."""
    points = np.asarray(points, dtype=np.float64)
    V = len(rig.cameras)
    if points.ndim != 3 or points.shape[0] != V or points.shape[2] != 2:
        raise ValueError(f"points must have shape (V, N, 2) with V={V} cameras, got {points.shape}")
    finite = np.isfinite(points).all(axis=-1)
    if visible is None:
        if np.isinf(points).any():
            raise ValueError("points must be finite or NaN (NaN marks a missing observation)")
        return points, finite
    visible = np.asarray(visible)
    if visible.dtype != np.bool_:
        raise ValueError(f"visible must be a boolean array, got dtype {visible.dtype}")
    if visible.shape != points.shape[:2]:
        raise ValueError(f"visible must have shape {points.shape[:2]} (V, N), got {visible.shape}")
    if (visible & ~finite).any():
        raise ValueError("points must be finite where visible is True")
    return points, visible


def _normalised(rig: _Rig, points: np.ndarray, visible: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(V, n, 2) pixels and (V, n) mask -> ideal normalised x, y (V, n), 0 where unused, and the mask."""
    x = np.empty(visible.shape)
    y = np.empty(visible.shape)
    for v, cam in enumerate(rig.cameras):
        # Unused observations become the principal point, so they neither poison nor slow Newton.
        pv = np.where(visible[v, :, None], points[v], cam.K[:2, 2])
        x[v], y[v] = _undistort_xy(cam, *_pixels_to_distorted_xy(cam, pv))
    # An observation the lens model cannot invert (far outside the image) carries no information.
    visible = visible & np.isfinite(x) & np.isfinite(y)
    x[~visible] = 0.0
    y[~visible] = 0.0
    return x, y, visible


def _chunks(n: int):
    return (slice(i, min(i + _CHUNK, n)) for i in range(0, n, _CHUNK))


def _refit(rig: _Rig, x: np.ndarray, y: np.ndarray, mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Weighted DLT on the views in mask (V, n): algebraic fit, then one reweighting by f/depth.

    ``weights`` (V, n), when given, multiply every view's squared residual in both fits.
    """
    w2 = mask.astype(np.float64)
    if weights is not None:
        w2 = w2 * weights
    X = _solve(rig.normal_matrix(x, y, w2))
    # Hartley-Sturm reweighting: dividing each view's rows by its depth (times f) turns the algebraic
    # residual into a pixel residual, which brings the linear solution close to the least-squares one.
    w2 = w2 * rig.depth_weights(np.nan_to_num(X))
    X = _solve(rig.normal_matrix(x, y, w2))
    X[:, mask.sum(axis=0) < 2] = np.nan
    return X


def _weights(weights, visible: np.ndarray) -> np.ndarray | None:
    """Check (V, N) non-negative finite view weights; None passes through."""
    if weights is None:
        return None
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != visible.shape:
        raise ValueError(f"weights must have shape {visible.shape} (V, N), got {weights.shape}")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError("weights must be finite and non-negative")
    return weights


def triangulate(
    cameras: Sequence[Camera] | Mapping[str, Camera],
    points: np.ndarray,
    visible: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Triangulate points seen by several cameras (linear DLT, Hartley & Zisserman sec. 12.2).

    Observations are undistorted and normalised, the world frame is Hartley-normalised on the rig,
    and the DLT normal equations are solved in closed form with W = 1 (the same algebraic residual
    as the SVD solution, exact for noise-free data), then once more with every view's rows
    weighted by focal length / depth so the minimised residual approximates pixel error.

    Args:
        cameras: V >= 2 cameras (a sequence, or a mapping such as ``h36m.rig()``).
        points: (V, N, 2) distorted pixel coordinates.
        visible: (V, N) bool; None means "every observation that is not NaN". Invisible
            observations may be NaN; visible ones must be finite.
        weights: (V, N) non-negative finite weights, or None for all ones. Each multiplies its
            view's squared residual in the normal equations (on top of the f/depth reweighting),
            so a view of weight w pulls on the point like w copies of itself; weights of ones give
            exactly the unweighted result, and a view of weight 0 counts as not visible.
    Returns:
        (N, 3) world points, mm. NaN where fewer than two views are visible (callers rely on
        this) or where the rays are degenerate (parallel, point on a baseline).
    """
    rig = _Rig(_camera_list(cameras))
    points, visible = _observations(rig, points, visible)
    weights = _weights(weights, visible)
    if weights is not None:
        visible = visible & (weights > 0)
    out = np.empty((points.shape[1], 3))
    for s in _chunks(points.shape[1]):
        w = None if weights is None else weights[:, s]
        out[s] = rig.to_world(_refit(rig, *_normalised(rig, points[:, s], visible[:, s]), w))
    return out


def _robust_exhaustive(
    rig: _Rig, x: np.ndarray, y: np.ndarray, vis: np.ndarray, threshold_px: float
) -> tuple[np.ndarray, np.ndarray]:
    """Largest view subset whose own fit reprojects within the threshold in all its views.

    x, y, vis: (V, n). Returns the chosen subsets (V, n) bool (all False where none is consistent)
    and the fallback fit (3, n): the subset with the lowest mean reprojection error.
    """
    V, n = x.shape
    blocks = rig.view_blocks(x, y, vis.astype(np.float64))  # (V, 10, n)
    best_size = np.zeros(n, dtype=np.intp)
    best_err = np.full(n, np.inf)
    best_mask = np.zeros((V, n), dtype=bool)
    fallback_err = np.full(n, np.inf)
    fallback_X = np.full((3, n), np.nan)
    for size in range(2, V + 1):
        for subset in itertools.combinations(range(V), size):
            idx = list(subset)
            X = _solve(blocks[idx].sum(axis=0))
            usable = vis[idx].all(axis=0) & np.isfinite(X[0])
            res = np.stack([rig.residual_px(v, X, x[v], y[v]) for v in idx])
            err = np.where(usable, res.mean(axis=0), np.inf)
            better = (res.max(axis=0) < threshold_px) & usable
            better &= (size > best_size) | (err < best_err)
            best_size[better] = size
            best_err[better] = err[better]
            best_mask[:, better] = False
            best_mask[np.ix_(idx, np.flatnonzero(better))] = True
            closer = err < fallback_err
            fallback_err[closer] = err[closer]
            fallback_X[:, closer] = X[:, closer]
    return best_mask, fallback_X


def _robust_ransac(
    rig: _Rig, x: np.ndarray, y: np.ndarray, vis: np.ndarray, threshold_px: float, pairs: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Best 2-view hypothesis by inlier count, then mean inlier residual; returns as ``_robust_exhaustive``."""
    V, n = x.shape
    blocks = rig.view_blocks(x, y, vis.astype(np.float64))
    best_count = np.zeros(n, dtype=np.intp)
    best_err = np.full(n, np.inf)
    best_mask = np.zeros((V, n), dtype=bool)
    fallback_err = np.full(n, np.inf)
    fallback_X = np.full((3, n), np.nan)
    for i, j in pairs:
        X = _solve(blocks[i] + blocks[j])
        usable = vis[i] & vis[j] & np.isfinite(X[0])
        res = np.stack([rig.residual_px(v, X, x[v], y[v]) for v in range(V)])
        inl = vis & (res < threshold_px) & usable
        count = inl.sum(axis=0)
        with np.errstate(invalid="ignore"):
            err = np.where(inl, res, 0.0).sum(axis=0) / count
        better = (count >= 2) & ((count > best_count) | ((count == best_count) & (err < best_err)))
        best_count[better] = count[better]
        best_err[better] = err[better]
        best_mask[:, better] = inl[:, better]
        own = np.where(usable, (res[i] + res[j]) / 2, np.inf)
        closer = own < fallback_err
        fallback_err[closer] = own[closer]
        fallback_X[:, closer] = X[:, closer]
    return best_mask, fallback_X


def triangulate_robust(
    cameras: Sequence[Camera] | Mapping[str, Camera],
    points: np.ndarray,
    visible: np.ndarray | None = None,
    threshold_px: float = DEFAULT_THRESHOLD_PX,
) -> tuple[np.ndarray, np.ndarray]:
    """Triangulate with outlier rejection: choose per point the views that agree, refit on them.

    With V <= ``MAX_EXHAUSTIVE_VIEWS`` every view subset of size >= 2 is fitted; a subset is
    consistent when its own fit reprojects within ``threshold_px`` in each of its views, and the
    chosen inliers are the consistent subset with the most views, ties broken by the lowest mean
    reprojection error. Beyond that, RANSAC: 2-view hypotheses (all pairs, or
    ``MAX_RANSAC_HYPOTHESES`` drawn with a fixed seed) score the visible views within the
    threshold, and the most inliers, then the lowest mean inlier error, win. The point is then
    refitted on its inliers as in ``triangulate``. Residuals for these decisions are measured in
    ideal pixels, which differ from distorted ones by the local lens magnification (a few percent).

    Args:
        cameras: V >= 2 cameras.
        points: (V, N, 2) distorted pixel coordinates.
        visible: (V, N) bool, as in ``triangulate``.
        threshold_px: inlier threshold in pixels (default ``DEFAULT_THRESHOLD_PX`` = 10).
    Returns:
        X: (N, 3) world mm; NaN where fewer than two views are visible.
        inliers: (V, N) bool, the views X was fitted on. Where no two views agree within the
            threshold, X is the fit of the subset with the lowest mean reprojection error (the two
            closest rays) and ``inliers`` is all False, so ``inliers.sum(0) < 2`` flags such points.
    """
    if not np.isfinite(threshold_px) or threshold_px <= 0:
        raise ValueError(f"threshold_px must be a positive number, got {threshold_px}")
    rig = _Rig(_camera_list(cameras))
    points, visible = _observations(rig, points, visible)
    V, N = visible.shape
    out = np.empty((N, 3))
    inliers = np.zeros((V, N), dtype=bool)
    pairs = list(itertools.combinations(range(V), 2))
    if len(pairs) > MAX_RANSAC_HYPOTHESES:
        # A fixed seed: the same observations always give the same answer.
        chosen = np.random.default_rng(0).choice(len(pairs), MAX_RANSAC_HYPOTHESES, replace=False)
        pairs = [pairs[i] for i in sorted(chosen)]
    for s in _chunks(N):
        xs, ys, vs = _normalised(rig, points[:, s], visible[:, s])
        if V <= MAX_EXHAUSTIVE_VIEWS:
            mask, fallback = _robust_exhaustive(rig, xs, ys, vs, threshold_px)
        else:
            mask, fallback = _robust_ransac(rig, xs, ys, vs, threshold_px, pairs)
        X = _refit(rig, xs, ys, mask)
        agreed = mask.sum(axis=0) >= 2
        X[:, ~agreed] = fallback[:, ~agreed]
        X[:, vs.sum(axis=0) < 2] = np.nan
        out[s] = rig.to_world(X)
        inliers[:, s] = mask
    return out, inliers


def reprojection_errors(
    cameras: Sequence[Camera] | Mapping[str, Camera], X: np.ndarray, points: np.ndarray
) -> np.ndarray:
    """Distance between world points projected into each view and the observed pixels.

    Args:
        X: (N, 3) world mm.
        points: (V, N, 2) distorted pixels.
    Returns:
        (V, N) pixels; NaN where X or the observation is NaN or X is behind the camera.
    """
    cams = _camera_list(cameras)
    X = np.asarray(X, dtype=np.float64)
    points = np.asarray(points, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 3:
        raise ValueError(f"X must have shape (N, 3), got {X.shape}")
    if points.shape != (len(cams), X.shape[0], 2):
        raise ValueError(f"points must have shape {(len(cams), X.shape[0], 2)} (V, N, 2), got {points.shape}")
    return np.stack([np.linalg.norm(project(cam, X) - points[v], axis=-1) for v, cam in enumerate(cams)])


# --- two-view geometry ----------------------------------------------------------------------------


def fundamental_matrix(cam_a: Camera, cam_b: Camera) -> np.ndarray:
    """(3, 3) F with x_b^T F x_a = 0 for corresponding *ideal* (undistorted) pixels [u, v, 1]."""
    _camera_list([cam_a, cam_b])
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
    _camera_list([cam_a, cam_b])
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


def non_opposing_pairs(
    cameras: Sequence[Camera] | Mapping[str, Camera], max_angle_deg: float = DEFAULT_MAX_PAIR_ANGLE_DEG
) -> list[tuple[int, int]]:
    """View pairs usable for 2-view lifting: optical axes less than ``max_angle_deg`` apart.

    Facing cameras see opposite sides of the body, so a keypoint visible in one is often hidden
    or left/right-confused in the other. The default (140 degrees) keeps, on every Human3.6M rig,
    the four pairs along the room's walls and drops the two diagonal pairs that face each other.

    Returns:
        (i, j) index pairs with i < j, in lexicographic order.
    """
    cams = _camera_list(cameras)
    if not 0 < max_angle_deg <= 180:
        raise ValueError(f"max_angle_deg must be in (0, 180], got {max_angle_deg}")
    axes = np.stack([cam.R[2] for cam in cams])  # optical axes in world coordinates
    limit = np.cos(np.radians(max_angle_deg))
    return [(i, j) for i, j in itertools.combinations(range(len(cams)), 2) if axes[i] @ axes[j] > limit]
