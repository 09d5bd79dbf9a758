"""Multi-view triangulation: linear DLT for every point at once, and robust view selection.

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

import numpy as np

from annotator.geometry.camera import (
    Camera,
    _pixels_to_distorted_xy,
    _undistort_xy,
    project,
    rig_cameras,
)

#: Default inlier threshold of ``triangulate_robust`` in pixels: about five times the noise of careful
#: clicks (2 px), far below the size of a swapped or mislabelled keypoint.
DEFAULT_THRESHOLD_PX = 10.0
#: Views with all subsets are tried up to this many cameras (57 subsets for 6); beyond, RANSAC.
MAX_EXHAUSTIVE_VIEWS = 6
#: Most 2-view hypotheses RANSAC tries (all pairs when there are fewer; else drawn once, fixed seed).
MAX_RANSAC_HYPOTHESES = 64

# Points per block in the batched solvers: small enough for the temporaries to stay in cache.
_CHUNK = 16384
# A normal matrix whose determinant is this small relative to its diagonal product is singular
# (parallel rays, point on the baseline).
_SINGULAR = 1e-12
# Upper-triangle entries of a symmetric 4x4 matrix, in the order the solvers use.
_TRIU = np.triu_indices(4)


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
    rig = _Rig(rig_cameras(cameras))
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
    and the fallback fit (3, n): the subset with the lowest mean reprojection error (NaN where that
    is not needed: a point with a consistent subset, or seen in fewer than two views).

    Sizes are tried from all views down to two, and a point leaves the search at the first size that
    has a consistent subset for it (the largest wins, ties by lowest mean error, as in an ascending
    search): most points agree in all or all but one view, so on 6 cameras most of the 57 subsets
    are fitted for a few points only.
    """
    V, n = x.shape
    blocks = rig.view_blocks(x, y, vis.astype(np.float64))  # (V, 10, n)
    best_mask = np.zeros((V, n), dtype=bool)
    fallback_X = np.full((3, n), np.nan)
    active = np.flatnonzero(vis.sum(axis=0) >= 2)  # points still without a consistent subset
    fallback_err = np.full(len(active), np.inf)
    for size in range(V, 1, -1):
        if not len(active):
            break
        xa, ya, va, ba = x[:, active], y[:, active], vis[:, active], blocks[:, :, active]
        found = np.zeros(len(active), dtype=bool)
        found_err = np.full(len(active), np.inf)
        for subset in itertools.combinations(range(V), size):
            idx = list(subset)
            X = _solve(ba[idx].sum(axis=0))
            usable = va[idx].all(axis=0) & np.isfinite(X[0])
            res = np.stack([rig.residual_px(v, X, xa[v], ya[v]) for v in idx])
            err = np.where(usable, res.mean(axis=0), np.inf)
            better = (res.max(axis=0) < threshold_px) & usable & (err < found_err)
            found |= better
            found_err[better] = err[better]
            cols = active[better]
            best_mask[:, cols] = False
            best_mask[np.ix_(idx, cols)] = True
            closer = err < fallback_err
            fallback_err[closer] = err[closer]
            fallback_X[:, active[closer]] = X[:, closer]
        active, fallback_err = active[~found], fallback_err[~found]
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
    rig = _Rig(rig_cameras(cameras))
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
    cams = rig_cameras(cameras)
    X = np.asarray(X, dtype=np.float64)
    points = np.asarray(points, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 3:
        raise ValueError(f"X must have shape (N, 3), got {X.shape}")
    if points.shape != (len(cams), X.shape[0], 2):
        raise ValueError(f"points must have shape {(len(cams), X.shape[0], 2)} (V, N, 2), got {points.shape}")
    return np.stack([np.linalg.norm(project(cam, X) - points[v], axis=-1) for v, cam in enumerate(cams)])


# --- two-view geometry ----------------------------------------------------------------------------
