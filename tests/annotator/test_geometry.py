"""Tests for annotator.geometry: synthetic scenes are projected, then recovered (after kornia's test_triangulation).

Every Human3.6M rig is used with its real lens distortion; hypothesis adds random ring rigs with
both lens models. Tolerances are far below what the tool displays: 1e-6 mm round trips, 1e-6 px
lens inverses.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator import geometry, h36m
from annotator.geometry import Camera

RIGS = {subject: list(h36m.rig(subject).values()) for subject in h36m.SUBJECTS}
S1 = RIGS["S1"]


def room_points(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 3) world mm in a box around the Human3.6M room centre (z up, subject near the origin)."""
    return np.column_stack([rng.uniform(-1500, 1500, (n, 2)), rng.uniform(0, 2000, n)])


def look_at(centre: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(R, t) of a camera at ``centre`` looking at ``target`` with world +z up and image v down."""
    z = (target - centre) / np.linalg.norm(target - centre)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    R = np.stack([x, np.cross(z, x), z])
    return R, -R @ centre


def ring_rig(n_views: int, radius: float, focal: float, dist: np.ndarray, model: str, phase: float = 0.0) -> list:
    """Cameras evenly spaced on a ring 1.5 m above the floor, all looking at the origin."""
    cams = []
    for i in range(n_views):
        a = phase + 2 * np.pi * i / n_views
        R, t = look_at(np.array([radius * np.cos(a), radius * np.sin(a), 1500.0]), np.zeros(3))
        K = [[focal, 0.0, 500.0 + 7 * i], [0.0, focal * 1.01, 480.0 - 5 * i], [0.0, 0.0, 1.0]]
        cams.append(Camera(K=K, R=R, t=t, dist=dist, size=(1000, 960), model=model, name=f"ring{i}"))
    return cams


def svd_dlt(cams: list[Camera], points: np.ndarray) -> np.ndarray:
    """Reference homogeneous DLT on undistorted normalised coordinates (batched SVD), all views visible."""
    xn = np.stack([geometry.normalize_points(cam, points[v]) for v, cam in enumerate(cams)])  # (V, N, 2)
    Rt = np.stack([np.hstack([cam.R, cam.t[:, None]]) for cam in cams])  # (V, 3, 4)
    rows = xn[..., :, None] * Rt[:, None, 2:3, :] - Rt[:, None, :2, :]  # (V, N, 2, 4)
    A = rows.transpose(1, 0, 2, 3).reshape(points.shape[1], -1, 4)
    Xh = np.linalg.svd(A)[2][:, -1]
    return Xh[:, :3] / Xh[:, 3:]


def test_lens_models_match_their_reference_formulas() -> None:
    xn = np.random.default_rng(11).uniform(-0.6, 0.6, (100, 2))
    k1, k2, p1, p2, k3 = dist = np.array([-0.21, 0.25, 1.5e-3, -0.9e-3, -3e-3])
    r2 = (xn**2).sum(axis=1, keepdims=True)
    # VideoPose3D common/camera.py project_to_2d (without its clamp to [-1, 1]).
    radial = 1 + (np.array([k1, k2, k3]) * np.hstack([r2, r2**2, r2**3])).sum(axis=1, keepdims=True)
    tan = (np.array([p1, p2]) * xn).sum(axis=1, keepdims=True)
    h36m_ref = xn * (radial + tan) + np.array([p1, p2]) * r2
    # OpenCV's Brown-Conrady model as written in the cv::projectPoints documentation.
    x, y = xn[:, :1], xn[:, 1:]
    opencv_ref = np.hstack(
        [x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x), y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y]
    )
    for model, ref in (("h36m", h36m_ref), ("opencv", opencv_ref)):
        cam = Camera(K=np.eye(3), R=np.eye(3), t=np.zeros(3), dist=dist, model=model)
        np.testing.assert_allclose(geometry.distort_normalized(cam, xn), ref, rtol=0, atol=1e-15)


@pytest.mark.parametrize("model", geometry.DISTORTION_MODELS)
def test_lens_jacobian_matches_finite_differences(model: str) -> None:
    # Newton's quadratic convergence, hence undistortion speed, depends on this derivative.
    cam = Camera(K=np.eye(3), R=np.eye(3), t=np.zeros(3), dist=[-0.21, 0.25, 1.5e-3, -0.9e-3, -3e-3], model=model)
    x, y = np.random.default_rng(12).uniform(-0.6, 0.6, (2, 50))
    parts = geometry.camera._distort_xy(cam, x, y)[2]
    jxx, jxy, jyx, jyy = geometry.camera._distort_jacobian(cam, x, y, parts)
    h = 1e-6
    distort = geometry.camera._distort_xy
    dx = (np.stack(distort(cam, x + h, y)[:2]) - np.stack(distort(cam, x - h, y)[:2])) / 2 / h
    dy = (np.stack(distort(cam, x, y + h)[:2]) - np.stack(distort(cam, x, y - h)[:2])) / 2 / h
    np.testing.assert_allclose(np.stack([jxx, jyx]), dx, atol=1e-8)
    np.testing.assert_allclose(np.stack([jxy, jyy]), dy, atol=1e-8)


@pytest.mark.parametrize("camera", S1, ids=lambda c: c.name)
def test_undistort_is_exact_over_the_whole_image(camera: Camera) -> None:
    u, v = np.meshgrid(np.arange(0, camera.width + 1, 4.0), np.arange(0, camera.height + 1, 4.0))
    pixels = np.stack([u, v], axis=-1)  # (H/4, W/4, 2) distorted, covering every border and corner
    ideal = geometry.undistort_points(camera, pixels)
    xn = (ideal - camera.K[:2, 2]) / np.diag(camera.K)[:2]
    redistorted = geometry.distort_normalized(camera, xn) * np.diag(camera.K)[:2] + camera.K[:2, 2]
    assert np.isfinite(ideal).all()
    assert np.abs(redistorted - pixels).max() < 1e-6  # requirement: < 0.01 px
    assert np.abs(ideal - pixels).max() > 10  # the lens really is distorted, so the test means something


@pytest.mark.parametrize("subject", sorted(RIGS))
def test_project_triangulate_round_trip_on_every_h36m_rig(subject: str) -> None:
    cams = RIGS[subject]
    X = room_points(np.random.default_rng(0), 2000)
    points = np.stack([geometry.project(cam, X) for cam in cams])
    np.testing.assert_allclose(geometry.triangulate(cams, points), X, rtol=0, atol=1e-6)
    Y, inliers = geometry.triangulate_robust(cams, points)
    np.testing.assert_allclose(Y, X, rtol=0, atol=1e-6)
    assert inliers.all()
    assert np.abs(geometry.reprojection_errors(cams, X, points)).max() < 1e-9


def test_rig_mapping_is_accepted_in_its_order() -> None:
    X = room_points(np.random.default_rng(1), 5)
    points = np.stack([geometry.project(cam, X) for cam in S1])
    np.testing.assert_allclose(geometry.triangulate(h36m.rig("S1"), points), X, atol=1e-6)


def test_noisy_triangulation_is_at_least_as_accurate_as_svd_dlt() -> None:
    rng = np.random.default_rng(2)
    X = room_points(rng, 5000)
    points = np.stack([geometry.project(cam, X) for cam in S1]) + rng.normal(0, 2.0, (4, 5000, 2))
    ours = np.linalg.norm(geometry.triangulate(S1, points) - X, axis=1).mean()
    reference = np.linalg.norm(svd_dlt(S1, points) - X, axis=1).mean()
    assert ours <= reference * 1.001


lens = st.tuples(
    st.floats(-0.1, 0.1), st.floats(-0.02, 0.02), st.floats(-1e-3, 1e-3), st.floats(-1e-3, 1e-3), st.floats(-0.01, 0.01)
)


@settings(max_examples=150, deadline=None)
@given(
    n_views=st.integers(2, 7),
    radius=st.floats(3000, 8000),
    focal=st.floats(600, 2000),
    dist=lens,
    model=st.sampled_from(geometry.DISTORTION_MODELS),
    phase=st.floats(0, 2 * np.pi),
    seed=st.integers(0, 2**32 - 1),
)
def test_round_trip_on_random_ring_rigs(n_views, radius, focal, dist, model, phase, seed) -> None:
    cams = ring_rig(n_views, radius, focal, np.array(dist), model, phase)
    rng = np.random.default_rng(seed)
    # Inside a ball of 0.3 radius around the look-at point: in front of every camera, inside its view.
    direction = rng.normal(size=(50, 3))
    X = direction / np.linalg.norm(direction, axis=1, keepdims=True) * rng.uniform(0, 0.3 * radius, (50, 1))
    points = np.stack([geometry.project(cam, X) for cam in cams])
    assert np.isfinite(points).all()
    np.testing.assert_allclose(geometry.triangulate(cams, points), X, rtol=0, atol=1e-7 * radius)
    Y, inliers = geometry.triangulate_robust(cams, points)
    np.testing.assert_allclose(Y, X, rtol=0, atol=1e-7 * radius)
    assert inliers.all()


@settings(max_examples=150, deadline=None)
@given(dist=lens, model=st.sampled_from(geometry.DISTORTION_MODELS), focal=st.floats(900, 2000), seed=st.integers(0))
def test_undistort_inverts_distort_for_random_lenses(dist, model, focal, seed) -> None:
    # focal >= 900 keeps the image corners (normalised radius <= 0.77) where every lens drawn here is
    # still invertible; wider views fold over, see test_undistort_beyond_the_fold_is_nan.
    cam = ring_rig(1, 4000.0, focal, np.array(dist), model)[0]
    rng = np.random.default_rng(seed)
    pixels = rng.uniform([0, 0], cam.size, (200, 2))
    xn = geometry.normalize_points(cam, pixels)
    back = geometry.distort_normalized(cam, xn) * np.diag(cam.K)[:2] + cam.K[:2, 2]
    np.testing.assert_allclose(back, pixels, rtol=0, atol=1e-6)
    np.testing.assert_allclose(geometry.undistort_normalized(cam, geometry.distort_normalized(cam, xn)), xn, atol=1e-12)


def test_undistort_beyond_the_fold_is_nan() -> None:
    # r_d = r (1 - 0.3 r^2) peaks at r_d = 0.703 (r = 1.054): larger distorted radii have no preimage.
    cam = Camera(K=np.eye(3), R=np.eye(3), t=np.zeros(3), dist=[-0.3, 0, 0, 0, 0])
    xn = geometry.undistort_normalized(cam, np.array([[0.5, 0.0], [0.8, 0.0], [np.nan, 0.0]]))
    assert np.isfinite(xn[0]).all() and np.isnan(xn[1:]).all()
    np.testing.assert_allclose(geometry.distort_normalized(cam, xn[:1]), [[0.5, 0.0]], atol=1e-12)


@pytest.mark.parametrize("far", [1e4, -3e4, 1e5, 1e150, 1e308, -1e308])
def test_a_single_point_far_outside_the_image_is_nan_not_an_error(far: float) -> None:
    """The one-point path (shape (2,), numpy scalars inside) fails softly like the vector path."""
    cams = list(h36m.rig("S1").values())
    for point in ([far, 500.0], [500.0, far], [far, far]):
        normalized = geometry.normalize_points(cams[0], np.array(point))
        assert normalized.shape == (2,)
        assert np.isnan(normalized).all() or np.isfinite(normalized).all()
        curve = geometry.epipolar_curve(cams[0], cams[1], np.array(point))
        assert curve.ndim == 2 and np.isfinite(curve).all()


@pytest.mark.parametrize("n_views", [2, 3, 4, 7])
@pytest.mark.parametrize("n_points", [0, 1, 5])
def test_output_shapes(n_views: int, n_points: int) -> None:
    cams = ring_rig(n_views, 5000.0, 1000.0, np.zeros(5), "opencv")
    X = room_points(np.random.default_rng(3), n_points) - [0, 0, 1000]
    points = np.stack([geometry.project(cam, X) for cam in cams])
    assert geometry.triangulate(cams, points).shape == (n_points, 3)
    Y, inliers = geometry.triangulate_robust(cams, points)
    assert Y.shape == (n_points, 3)
    assert inliers.shape == (n_views, n_points) and inliers.dtype == bool
    assert geometry.reprojection_errors(cams, X, points).shape == (n_views, n_points)
    assert geometry.undistort_points(cams[0], points[0]).shape == (n_points, 2)


def test_visibility_masks_and_nan_observations() -> None:
    X = room_points(np.random.default_rng(4), 6)
    points = np.stack([geometry.project(cam, X) for cam in S1])
    visible = np.ones((4, 6), dtype=bool)
    visible[:, 0] = [True, False, False, False]  # one view: no 3D point
    visible[:, 1] = False  # no view
    visible[:, 2] = [True, False, True, False]  # two views are enough
    visible[2:, 3] = False
    points[~visible] = np.nan  # invisible observations may be NaN
    for Y in (geometry.triangulate(S1, points, visible), geometry.triangulate(S1, points)):
        assert np.isnan(Y[:2]).all()
        np.testing.assert_allclose(Y[2:], X[2:], atol=1e-6)
    Y, inliers = geometry.triangulate_robust(S1, points, visible)
    assert np.isnan(Y[:2]).all() and not inliers[:, :2].any()
    np.testing.assert_allclose(Y[2:], X[2:], atol=1e-6)
    np.testing.assert_array_equal(inliers[:, 2:], visible[:, 2:])


def test_invisible_observations_are_ignored_whatever_their_value() -> None:
    X = room_points(np.random.default_rng(5), 10)
    points = np.stack([geometry.project(cam, X) for cam in S1])
    visible = np.ones((4, 10), dtype=bool)
    visible[1] = False
    points[1] = 1e9  # garbage, but masked out
    np.testing.assert_allclose(geometry.triangulate(S1, points, visible), X, atol=1e-6)


@pytest.mark.parametrize("n_views", [4, 8, 12])  # exhaustive subsets, RANSAC on all pairs, on 64 pairs
def test_robust_triangulation_rejects_a_gross_outlier(n_views: int) -> None:
    cams = S1 if n_views == 4 else ring_rig(n_views, 5000.0, 1100.0, np.array([-0.05, 0.01, 0, 0, 0]), "opencv")
    rng = np.random.default_rng(6)
    X = room_points(rng, 300) - ([0, 0, 0] if n_views == 4 else [0, 0, 1000])
    points = np.stack([geometry.project(cam, X) for cam in cams])
    bad_view = rng.integers(0, n_views, 300)
    points[bad_view, np.arange(300)] += rng.choice([-1, 1], (300, 2)) * rng.uniform(60, 300, (300, 2))
    plain = geometry.triangulate(cams, points)
    assert np.linalg.norm(plain - X, axis=1).min() > 1  # the outlier really hurts the plain DLT
    Y, inliers = geometry.triangulate_robust(cams, points)
    np.testing.assert_allclose(Y, X, atol=1e-6)
    expected = np.ones((n_views, 300), dtype=bool)
    expected[bad_view, np.arange(300)] = False
    np.testing.assert_array_equal(inliers, expected)


def test_robust_prefers_the_best_pair_when_two_views_disagree_with_two_others() -> None:
    X = room_points(np.random.default_rng(7), 1)
    points = np.stack([geometry.project(cam, X) for cam in S1])
    points[2:] += [[[150.0, -90.0]], [[-120.0, 200.0]]]
    Y, inliers = geometry.triangulate_robust(S1, points)
    np.testing.assert_allclose(Y, X, atol=1e-6)
    np.testing.assert_array_equal(inliers[:, 0], [True, True, False, False])


def test_robust_without_agreement_flags_no_inliers_but_returns_a_point() -> None:
    X = room_points(np.random.default_rng(8), 1)
    points = np.stack([geometry.project(cam, X) for cam in S1])
    points += np.array([[0, 0], [300, 0], [0, 300], [-300, -300]], dtype=float)[:, None]
    Y, inliers = geometry.triangulate_robust(S1, points, threshold_px=5.0)
    assert not inliers.any()
    assert np.isfinite(Y).all()


def test_fundamental_matrix_and_epipolar_lines() -> None:
    X = room_points(np.random.default_rng(9), 200)
    for a, b in itertools.permutations(range(4), 2):
        F = geometry.fundamental_matrix(S1[a], S1[b])
        xa = geometry.undistort_points(S1[a], geometry.project(S1[a], X))
        xb = geometry.undistort_points(S1[b], geometry.project(S1[b], X))
        ha, hb = np.c_[xa, np.ones(200)], np.c_[xb, np.ones(200)]
        assert np.abs(np.einsum("ni,ij,nj->n", hb, F, ha)).max() < 1e-9
        lines = geometry.epipolar_line(F, xa)
        np.testing.assert_allclose(np.linalg.norm(lines[:, :2], axis=1), 1.0)
        assert np.abs(np.einsum("ni,ni->n", lines, hb)).max() < 1e-6  # pixel distance to the line


def segment_distance(p: np.ndarray, polyline: np.ndarray) -> float:
    a, b = polyline[:-1], polyline[1:]
    t = np.clip(np.einsum("si,si->s", p - a, b - a) / np.einsum("si,si->s", b - a, b - a), 0, 1)
    return float(np.linalg.norm(a + t[:, None] * (b - a) - p, axis=1).min())


@pytest.mark.parametrize("subject", ["S1", "S9"])
def test_epipolar_curve_passes_through_the_true_projection(subject: str) -> None:
    cams = RIGS[subject]
    X = room_points(np.random.default_rng(10), 40)
    for a, b in itertools.permutations(range(4), 2):
        xa, xb = geometry.project(cams[a], X), geometry.project(cams[b], X)
        for i in range(len(X)):
            curve = geometry.epipolar_curve(cams[a], cams[b], xa[i])
            assert curve.ndim == 2 and curve.shape[1] == 2 and np.isfinite(curve).all()
            assert segment_distance(xb[i], curve) < 0.5


def test_epipolar_curve_keeps_only_points_in_front_of_the_other_camera() -> None:
    # Camera b stands 3 m ahead of camera a, 0.5 m to the side, looking the same way: the ray
    # through a's principal point is behind b for depths below 3 m.
    K = [[1000.0, 0.0, 500.0], [0.0, 1000.0, 500.0], [0.0, 0.0, 1.0]]
    cams = []
    for x, y in [(0.0, -5000.0), (500.0, -2000.0)]:
        R, t = look_at(np.array([x, y, 1000.0]), np.array([x, 0.0, 1000.0]))
        cams.append(Camera(K=K, R=R, t=t, dist=[-0.05, 0.01, 0, 0, 0]))
    depths = np.array([1000.0, 2000.0, 4000.0, 6000.0, 8000.0])
    curve = geometry.epipolar_curve(cams[0], cams[1], np.array([500.0, 500.0]), depths=depths)
    assert curve.shape == (3, 2) and np.isfinite(curve).all()
    X = np.column_stack([np.zeros(3), depths[2:] - 5000.0, np.full(3, 1000.0)])
    np.testing.assert_allclose(curve, geometry.project(cams[1], X), atol=1e-9)


def test_non_opposing_pairs_on_h36m() -> None:
    for cams in RIGS.values():
        # The wall pairs (45 and 125 degrees) stay; the facing diagonals (155 degrees) go.
        assert geometry.non_opposing_pairs(cams) == [(0, 1), (0, 2), (1, 3), (2, 3)]
        assert geometry.non_opposing_pairs(cams, max_angle_deg=90) == [(0, 2), (1, 3)]


def test_project_gives_nan_behind_the_camera() -> None:
    cam = S1[0]
    behind = cam.center - 1000 * cam.R[2]
    assert np.isnan(geometry.project(cam, behind)).all()


def coincident_rig() -> list[Camera]:
    cam = S1[0]
    return [cam, Camera(K=cam.K, R=S1[1].R, t=-S1[1].R @ cam.center, dist=cam.dist, size=cam.size)]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: geometry.triangulate(S1[:1], np.zeros((1, 3, 2))), "at least two cameras"),
        (lambda: geometry.triangulate([S1[0], "cam"], np.zeros((2, 3, 2))), r"cameras\[1\] must be a Camera"),
        (lambda: geometry.triangulate(coincident_rig(), np.zeros((2, 3, 2))), "coincident centres"),
        (lambda: geometry.triangulate(S1, np.zeros((3, 5, 2))), r"points must have shape \(V, N, 2\) with V=4"),
        (lambda: geometry.triangulate(S1, np.zeros((4, 5, 3))), "points must have shape"),
        (lambda: geometry.triangulate(S1, np.full((4, 5, 2), np.inf)), "finite or NaN"),
        (lambda: geometry.triangulate(S1, np.zeros((4, 5, 2)), np.ones((4, 5))), "boolean"),
        (lambda: geometry.triangulate(S1, np.zeros((4, 5, 2)), np.ones((4, 4), bool)), r"visible must have shape"),
        (lambda: geometry.triangulate(S1, np.full((4, 5, 2), np.nan), np.ones((4, 5), bool)), "finite where visible"),
        (lambda: geometry.triangulate_robust(S1, np.zeros((4, 5, 2)), threshold_px=0), "threshold_px"),
        (lambda: geometry.reprojection_errors(S1, np.zeros((5, 2)), np.zeros((4, 5, 2))), r"X must have shape"),
        (lambda: geometry.reprojection_errors(S1, np.zeros((5, 3)), np.zeros((4, 6, 2))), "points must have shape"),
        (lambda: geometry.fundamental_matrix(*coincident_rig()), "coincident centres"),
        (lambda: geometry.epipolar_line(np.eye(3), np.zeros((4, 3))), r"x must have shape \(\.\.\., 2\)"),
        (lambda: geometry.epipolar_curve(S1[0], S1[1], np.zeros(3)), r"x_a must have shape \(2,\)"),
        (lambda: geometry.epipolar_curve(S1[0], S1[1], np.zeros(2), depths=[-1.0]), "depths must be"),
        (lambda: geometry.non_opposing_pairs(S1, max_angle_deg=0), "max_angle_deg"),
        (lambda: geometry.undistort_points(S1[0], np.zeros(3)), "x must have shape"),
    ],
)
def test_bad_input_raises_value_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_weights_of_ones_equal_the_unweighted_result() -> None:
    rng = np.random.default_rng(11)
    X = room_points(rng, 50)
    points = np.stack([geometry.project(cam, X) for cam in S1]) + rng.normal(0, 2.0, (len(S1), 50, 2))
    np.testing.assert_allclose(
        geometry.triangulate(S1, points, weights=np.ones((len(S1), 50))), geometry.triangulate(S1, points), atol=1e-9
    )


def test_a_near_zero_weight_view_has_negligible_influence() -> None:
    rng = np.random.default_rng(12)
    X = room_points(rng, 20)
    points = np.stack([geometry.project(cam, X) for cam in S1])
    points[0] += 80.0  # view 0 is badly off
    weights = np.ones((len(S1), 20))
    weights[0] = 1e-9
    without = geometry.triangulate(S1[1:], points[1:])
    np.testing.assert_allclose(geometry.triangulate(S1, points, weights=weights), without, atol=1e-3)
    np.testing.assert_allclose(without, X, atol=1e-6)


def test_a_zero_weight_counts_as_not_visible() -> None:
    X = room_points(np.random.default_rng(13), 3)
    points = np.stack([geometry.project(cam, X) for cam in S1])
    weights = np.zeros((len(S1), 3))
    weights[0] = 1.0
    assert np.isnan(geometry.triangulate(S1, points, weights=weights)).all()


@pytest.mark.parametrize(
    "weights, message",
    [(np.ones((4, 2)), r"weights must have shape \(4, 3\)"), (-np.ones((4, 3)), "non-negative"),
     (np.full((4, 3), np.nan), "finite")],
)  # fmt: skip
def test_bad_weights_raise(weights, message) -> None:
    points = np.stack([geometry.project(cam, room_points(np.random.default_rng(0), 3)) for cam in S1])
    with pytest.raises(ValueError, match=message):
        geometry.triangulate(S1, points, weights=weights)
