"""Automatic FBI labelling throughput: ``python -m tests.benchmarks.fbi [--skeleton-views N]``.

Labels every bone of N skeleton-views (N/4 skeletons x the 4 cameras of a Human3.6M rig) from
their 3D, vectorised, and prints skeleton-views per second. Target: 100,000 in under 10 s on 2 cores.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from annotator import fbi, h36m, keypoints

CHUNK_SKELETONS = 5000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skeleton-views", type=int, default=100_000)
    args = parser.parse_args()
    rig = list(h36m.rig("S1").values())
    R = np.stack([c.R for c in rig])
    t = np.stack([c.t for c in rig])
    n = args.skeleton_views // len(rig)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, keypoints.NUM_KEYPOINTS, 3)) * 250 + [0, 0, 1000]
    bones = keypoints.bones()
    t0 = time.perf_counter()
    counts = np.zeros(3, dtype=np.int64)
    for start in range(0, n, CHUNK_SKELETONS):
        labels, _ = fbi.skeleton_labels(X[start : start + CHUNK_SKELETONS], R, t, bones)
        counts += [(labels == v).sum() for v in (fbi.FORWARD, fbi.BACKWARD, fbi.UNKNOWN)]
    seconds = time.perf_counter() - t0
    views = n * len(rig)
    print(f"{views:,} skeleton-views x {len(bones)} bones = {views * len(bones):,} labels in {seconds:.2f} s")
    print(f"{views / seconds:,.0f} skeleton-views/s  (target: 100,000 in < 10 s)")
    print(f"forward {counts[0]:,}, backward {counts[1]:,}, unknown {counts[2]:,}")


if __name__ == "__main__":
    main()
