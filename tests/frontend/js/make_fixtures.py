"""Writes geometry.json, the fixture that checks the browser's geometry.js against annotator.geometry.

Run ``python -m tests.frontend.js.make_fixtures`` after changing the Python camera model; the test in
tests/frontend/test_js.py fails when the committed numbers no longer match what this script computes.
That test compares by value within the browser's precision, never as text: the last bits of a float
differ from one CPU to another (OpenBLAS picks its kernels at run time).

The fixture holds Human3.6M S1's four cameras with their own lens model (``h36m``) and the same cameras
with the OpenCV model and exaggerated tangential terms (so both models' tangential formulas are
exercised), world points in front of them, and the Python answers: projections, undistorted
normalised coordinates of the projected pixels, and epipolar curves.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from annotator import geometry, h36m

PATH = Path(__file__).resolve().parent / "geometry.json"
#: World points per camera set: a person-sized cloud around the rig's centre, mm.
N_POINTS = 24


def _cameras() -> dict[str, list[geometry.Camera]]:
    native = list(h36m.rig("S1").values())
    opencv = []
    for cam in native:
        d = cam.to_dict()
        d["model"] = "opencv"
        d["dist"] = [d["dist"][0], d["dist"][1], 0.004, -0.003, d["dist"][4]]
        opencv.append(geometry.Camera.from_dict(d))
    return {"h36m": native, "opencv": opencv}


def _points(a: np.ndarray) -> list:
    """(N, 2) -> JSON rows, a row with NaN (no image) as null (JSON has no NaN)."""
    return [row.tolist() if np.isfinite(row).all() else None for row in a]


def build() -> dict:
    rng = np.random.default_rng(7)
    X = np.column_stack(
        [rng.uniform(-900, 900, N_POINTS), rng.uniform(-900, 900, N_POINTS), rng.uniform(0, 1900, N_POINTS)]
    )
    out: dict = {"points": X.tolist(), "depths": geometry.DEFAULT_EPIPOLAR_DEPTHS.tolist(), "models": {}}
    for model, cams in _cameras().items():
        entry: dict = {"cameras": [c.to_dict() for c in cams], "projections": [], "normalized": [], "epipolar": []}
        for cam in cams:
            x = geometry.project(cam, X)
            entry["projections"].append(_points(x))
            entry["normalized"].append(_points(geometry.normalize_points(cam, x)))
        for a, b in ((0, 1), (1, 2), (2, 3), (3, 0)):
            for i in range(3):
                pixel = geometry.project(cams[a], X[i])
                curve = geometry.epipolar_curve(cams[a], cams[b], pixel)
                entry["epipolar"].append({"a": a, "b": b, "point": i, "pixel": pixel.tolist(), "curve": curve.tolist()})
        out["models"][model] = entry
    return out


def render() -> str:
    return json.dumps(build(), separators=(",", ":"), allow_nan=False) + "\n"


if __name__ == "__main__":
    PATH.write_text(render())
    print(f"wrote {PATH}")
