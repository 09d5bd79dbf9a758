"""The geometry on rigs other than Human3.6M's: the synthetic 6-camera ring, 2-camera rigs (at 90 degrees,
facing, a parallel stereo pair), a 12-camera ring and a mouse-cage rig a tenth of the size. Epipolar curves
reach the true point, robust triangulation rejects outliers, and the non-opposing pairs follow the rule."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from annotator import geometry, h36m, keypoints, lifting
from annotator.geometry import Camera
from fixtures.synthetic import rigs

RING6 = rigs.ring(6)


def pair(angle_deg: float, radius: float = 4000.0) -> list[Camera]:
    """Two cameras on the ring ``angle_deg`` apart around the origin."""
    out = []
    for i, a in enumerate((0.0, np.radians(angle_deg))):
        eye = np.array([radius * np.cos(a), radius * np.sin(a), 1500.0])
        forward = (np.array(rigs.RING_TARGET_MM) - eye) / np.linalg.norm(np.array(rigs.RING_TARGET_MM) - eye)
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        R = np.stack([right, np.cross(forward, right), forward])
        out.append(Camera(K=[[1000.0, 0, 480], [0, 1000.0, 360], [0, 0, 1]], R=R, t=-R @ eye, size=(960, 720),
                          dist=list(rigs.RING_DISTORTION), name=f"P{i}"))  # fmt: skip
    return out


def stereo(baseline_mm: float = 120.0) -> list[Camera]:
    """A parallel stereo pair looking along +y, ``baseline_mm`` apart."""
    R = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # x right, y down (= -z), z forward (= +y)
    return [Camera(K=[[900.0, 0, 480], [0, 900.0, 360], [0, 0, 1]], R=R, t=-R @ np.array([x, -3000.0, 1000.0]),
                   size=(960, 720), name=f"S{i}") for i, x in enumerate((0.0, baseline_mm))]  # fmt: skip


def scaled(cameras: list[Camera], factor: float) -> list[Camera]:
    """The same rig ``factor`` times the size (a mouse cage: 0.1)."""
    return [dataclasses.replace(c, t=c.t * factor) for c in cameras]


RIGS = {
    "ring6": RING6,
    "ring12": rigs.ring(12),
    "pair90": pair(90.0),
    "facing": pair(180.0),
    "stereo": stereo(),
    "mouse": scaled(RING6, 0.1),
}


def volume(rig: str, n: int, seed: int = 0) -> np.ndarray:
    """(n, 3) points a person (or a mouse) occupies in front of ``rig``."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(-700, 700, (n, 2)), rng.uniform(100, 1800, n)])
    if rig == "stereo":
        X[:, 1] += 1000.0  # 2 to 5 m in front of the pair
    if rig == "mouse":
        X *= 0.1
    return X


@pytest.mark.parametrize("name", list(RIGS))
def test_epipolar_curves_with_the_rig_depths_reach_the_true_point(name):
    cams = RIGS[name]
    depths = geometry.rig_epipolar_depths(cams)
    X = volume(name, 20)
    for a, b in itertools.permutations(range(len(cams)), 2):
        xa, xb = geometry.project(cams[a], X), geometry.project(cams[b], X)
        for i in range(len(X)):
            if not (np.isfinite(xa[i]).all() and np.isfinite(xb[i]).all()):
                continue
            curve = geometry.epipolar_curve(cams[a], cams[b], xa[i], depths)
            assert len(curve) >= 2, f"{name}: no curve from camera {a} into {b}"
            gap = _distance_to_polyline(xb[i], curve)
            assert gap < 0.5, f"{name}: camera {a} -> {b}: the true point is {gap:.2f} px off the curve"


def _distance_to_polyline(p: np.ndarray, line: np.ndarray) -> float:
    a, b = line[:-1], line[1:]
    t = np.clip(((p - a) * (b - a)).sum(1) / np.maximum(((b - a) ** 2).sum(1), 1e-12), 0, 1)
    return float(np.linalg.norm(a + t[:, None] * (b - a) - p, axis=1).min())


def test_depths_follow_the_rig_s_scale():
    h = geometry.rig_epipolar_depths(h36m.rig("S1"))
    assert 800 < h[0] < 1000 and 11000 < h[-1] < 12500  # the 1-10 m of before, from the rig itself
    ring, mouse = geometry.rig_epipolar_depths(RING6), geometry.rig_epipolar_depths(RIGS["mouse"])
    np.testing.assert_allclose(mouse, ring * 0.1)
    # The fixed 1-10 m range of before starts behind a mouse cage: its curve never reaches the point (the class of
    # bug the rig depths remove); the rig's own depths do.
    cams = RIGS["mouse"]
    X = volume("mouse", 1)
    xa, xb = geometry.project(cams[0], X)[0], geometry.project(cams[1], X)[0]
    assert _distance_to_polyline(xb, geometry.epipolar_curve(cams[0], cams[1], xa)) > 100.0
    assert _distance_to_polyline(xb, geometry.epipolar_curve(cams[0], cams[1], xa, mouse)) < 0.5
    assert geometry.axes_meeting_point(RIGS["stereo"]) is None  # parallel axes: the baselines decide
    s = geometry.rig_epipolar_depths(RIGS["stereo"])
    assert s[0] == pytest.approx(120.0) and s[-1] == pytest.approx(6000.0)
    assert np.all(np.diff(s) > 0)


@pytest.mark.parametrize("name", ["ring6", "ring12", "pair90", "facing", "mouse"])
def test_robust_triangulation_rejects_outliers_on_any_rig(name):
    cams = RIGS[name]
    X = volume(name, 400, seed=1)
    points = np.stack([geometry.project(c, X) for c in cams])  # (V, N, 2)
    rng = np.random.default_rng(2)
    if len(cams) > 2:
        # One view per point gets a gross error (a swapped or misclicked keypoint), 60-200 px away.
        bad = rng.integers(0, len(cams), len(X))
        shift = rng.uniform(60, 200, len(X))[:, None] * np.array([[0.6, 0.8]])
        points[bad, np.arange(len(X))] += shift
    out, inliers = geometry.triangulate_robust(cams, points)
    scale = 0.1 if name == "mouse" else 1.0
    assert np.nanmax(np.linalg.norm(out - X, axis=1)) < 1e-6 * max(scale, 1.0) + 1e-6
    expected = len(cams) - (1 if len(cams) > 2 else 0)
    assert (inliers.sum(axis=0) == expected).all()


def test_non_opposing_pairs_on_other_rigs():
    pairs = geometry.non_opposing_pairs(RING6)
    opposite = {(0, 3), (1, 4), (2, 5)}
    assert set(pairs) == set(itertools.combinations(range(6), 2)) - opposite
    assert geometry.non_opposing_pairs(RIGS["pair90"]) == [(0, 1)]
    assert geometry.non_opposing_pairs(RIGS["facing"]) == []  # two facing cameras: no pair to trust alone
    assert geometry.non_opposing_pairs(RIGS["stereo"]) == [(0, 1)]
    # On Human3.6M: the four pairs along the walls, not the two diagonals (unchanged).
    assert len(geometry.non_opposing_pairs(h36m.rig("S1"))) == 4


def test_lifting_on_the_ring_needs_a_non_opposing_pair():
    X = volume("ring6", keypoints.NUM_KEYPOINTS, seed=3)
    points = np.stack([geometry.project(c, X) for c in RING6])[None]  # (1, 6, J, 2)
    scores = np.ones(points.shape[:3])
    lifted, _ = lifting.lift_multiview(RING6, points, scores)
    np.testing.assert_allclose(lifted[0], X, atol=1e-6)
    # Seen by two facing cameras only (A and D): not lifted, as H3WB decides.
    scores[:, [1, 2, 4, 5]] = 0.0
    lifted, _ = lifting.lift_multiview(RING6, points, scores)
    assert np.isnan(lifted).all()
