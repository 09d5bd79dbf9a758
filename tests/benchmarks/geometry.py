"""Throughput and accuracy of triangulation, ours against aniposelib, on one shared data set.

Not a timed test: run ``python -m tests.benchmarks.geometry`` (aniposelib comes from
requirements-bench.txt; without it only our figures are printed). The scene is a rig looking at
frames of a human-sized cloud of whole-body keypoints; every observation gets 2 px Gaussian noise and
10% are replaced by gross outliers drawn uniformly over the image. ``--rig h36m`` is the Human3.6M S1
rig (4 views), ``--rig ring6`` the synthetic rig's 6-camera ring (OpenCV lens model, every view subset
tried by the robust triangulation), ``--rig all`` (the default) both, one after the other.

aniposelib implements OpenCV's lens model, not Human3.6M's, so it is handed the same observations
already undistorted by ``geometry.undistort_points`` and cameras with zero distortion; its timings
therefore exclude the lens inversion that ours include.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from annotator import geometry, h36m, keypoints
from fixtures.synthetic import rigs

SUBJECT = "S1"
RIGS = ("h36m", "ring6")
NOISE_PX = 2.0
OUTLIER_FRACTION = 0.10
# aniposelib's triangulate_ransac is a Python loop over points and subsets (~100 points/s).
RANSAC_SUBSET = 2000


def rig_cameras(rig: str) -> list[geometry.Camera]:
    """The cameras of ``rig``: Human3.6M's for S1, or the synthetic rig's ring of six."""
    return list(h36m.rig(SUBJECT).values()) if rig == "h36m" else rigs.cameras(rig, SUBJECT)


def make_scene(frames: int, seed: int = 0, rig: str = "h36m") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground truth (N, 3) world mm, clean and corrupted observations (V, N, 2) distorted pixels."""
    rng = np.random.default_rng(seed)
    cams = rig_cameras(rig)
    # One body-shaped template: keypoints spread over a 1.8 m tall, shoulder-wide column; each frame
    # places it on the floor near the room centre, turned about the vertical, with per-point jitter.
    J = keypoints.NUM_KEYPOINTS
    template = np.column_stack([rng.normal(0, 180, J), rng.normal(0, 100, J), rng.uniform(50, 1800, J)])
    angle = rng.uniform(0, 2 * np.pi, frames)
    c, s = np.cos(angle), np.sin(angle)
    rot = np.zeros((frames, 3, 3))
    rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1], rot[:, 2, 2] = c, -s, s, c, 1
    root = np.column_stack([rng.uniform(-1200, 1200, (frames, 2)), np.zeros(frames)])
    X = np.einsum("fij,kj->fki", rot, template) + root[:, None] + rng.normal(0, 30, (frames, J, 3))
    X = X.reshape(-1, 3)
    clean = np.stack([geometry.project(cam, X) for cam in cams])
    noisy = clean + rng.normal(0, NOISE_PX, clean.shape)
    outlier = rng.random(noisy.shape[:2]) < OUTLIER_FRACTION
    size = np.array([cam.size for cam in cams], dtype=np.float64)[:, None, :]  # (V, 1, 2)
    noisy = np.where(outlier[..., None], rng.random(noisy.shape) * size, noisy)
    return X, clean, noisy


def anipose_group(cams: list[geometry.Camera]):
    """aniposelib CameraGroup of the same cameras with zero distortion, or None if not installed."""
    try:
        import cv2
        from aniposelib.cameras import Camera, CameraGroup
    except ImportError:
        return None
    return CameraGroup(
        [
            Camera(
                matrix=cam.K,
                dist=np.zeros(5),
                size=cam.size,
                rvec=cv2.Rodrigues(cam.R)[0].ravel(),
                tvec=cam.t,
                name=cam.name,
            )
            for cam in cams
        ]
    )


def timed(fn, *args) -> tuple[np.ndarray, float]:
    fn(*args)  # warm-up (aniposelib jit-compiles with jax on first use)
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def row(name: str, X_true: np.ndarray, X: np.ndarray, seconds: float) -> dict:
    err = np.linalg.norm(X - X_true, axis=1)
    return {
        "name": name,
        "points": len(X_true),
        "rate": len(X_true) / seconds,
        "mean": float(np.nanmean(err)),
        "median": float(np.nanmedian(err)),
        "nan": int(np.isnan(err).sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=7500, help="frames of whole-body keypoints")
    parser.add_argument("--rig", choices=(*RIGS, "all"), default="all", help="the cameras (default: each rig)")
    args = parser.parse_args()
    for rig in RIGS if args.rig == "all" else (args.rig,):
        bench(rig, args.frames)
        print()


def bench(rig: str, frames: int) -> None:
    cams = rig_cameras(rig)
    X, clean, obs = make_scene(frames, rig=rig)
    # The same noise without the outliers, to compare plain triangulation where the mean is not
    # dominated by the few points whose outliers nothing can explain.
    noisy = clean + np.random.default_rng(2).normal(0, NOISE_PX, clean.shape)
    N = len(X)
    sub = np.random.default_rng(1).choice(N, min(RANSAC_SUBSET, N), replace=False)
    where = f"Human3.6M {SUBJECT} rig" if rig == "h36m" else f"{rig} rig (synthetic ring, OpenCV lens model)"
    print(
        f"{where}, {len(cams)} views, {frames} frames x {keypoints.NUM_KEYPOINTS} keypoints "
        f"= {N} points; noise {NOISE_PX} px, {OUTLIER_FRACTION:.0%} gross outliers uniform in the image"
    )
    rows = []
    Y, dt = timed(geometry.triangulate, cams, obs)
    rows.append(row("ours triangulate", X, Y, dt))
    Y, dt = timed(geometry.triangulate, cams, noisy)
    rows.append(row("ours triangulate (noise only, no outliers)", X, Y, dt))
    (Y, _), dt = timed(geometry.triangulate_robust, cams, obs)
    rows.append(row("ours triangulate_robust", X, Y, dt))
    (Y, _), dt = timed(geometry.triangulate_robust, cams, obs[:, sub])
    rows.append(row(f"ours triangulate_robust ({len(sub)} subset)", X[sub], Y, dt))

    group = anipose_group(cams)
    if group is None:
        print("aniposelib is not installed (pip install -r requirements-bench.txt): reporting our figures only")
    else:
        print("aniposelib gets the same observations UNDISTORTED by geometry.undistort_points, zero distortion")
        ideal = np.stack([geometry.undistort_points(cam, obs[v]) for v, cam in enumerate(cams)])
        Y, dt = timed(group.triangulate, ideal)
        rows.append(row("aniposelib triangulate", X, Y, dt))
        ideal_noisy = np.stack([geometry.undistort_points(cam, noisy[v]) for v, cam in enumerate(cams)])
        Y, dt = timed(group.triangulate, ideal_noisy)
        rows.append(row("aniposelib triangulate (noise only, no outliers)", X, Y, dt))
        sub_ideal = np.ascontiguousarray(ideal[:, sub])
        group.triangulate_ransac(sub_ideal[:, :20])  # warm-up on a few points only: it is slow
        start = time.perf_counter()
        Y = group.triangulate_ransac(sub_ideal)[0]
        rows.append(row(f"aniposelib triangulate_ransac ({len(sub)} subset)", X[sub], Y, time.perf_counter() - start))

    print(f"\n{'method':<52}{'points':>9}{'points/s':>13}{'mean mm':>10}{'median mm':>11}{'NaN':>5}")
    for r in rows:
        print(f"{r['name']:<52}{r['points']:>9}{r['rate']:>13,.0f}{r['mean']:>10.2f}{r['median']:>11.2f}{r['nan']:>5}")
    if group is not None:
        by = {r["name"]: r for r in rows}
        pairs = [
            ("ours triangulate", "aniposelib triangulate"),
            ("ours triangulate (noise only, no outliers)", "aniposelib triangulate (noise only, no outliers)"),
            (f"ours triangulate_robust ({len(sub)} subset)", f"aniposelib triangulate_ransac ({len(sub)} subset)"),
        ]
        print("\nratios ours / aniposelib (speed: higher is better; error: lower is better)")
        for ours, theirs in pairs:
            a, b = by[ours], by[theirs]
            print(f"  {ours} vs {theirs}: speed x{a['rate'] / b['rate']:,.1f}, mean error x{a['mean'] / b['mean']:.3f}")
        robust = by["ours triangulate_robust"]
        print(
            f"  ours triangulate_robust (all {robust['points']} points) vs aniposelib triangulate_ransac: "
            f"speed x{robust['rate'] / by[pairs[-1][1]]['rate']:,.0f}"
        )


if __name__ == "__main__":
    main()
