"""FBI labels worked out one bone at a time from their definition, independently of ``annotator.fbi``.

The FBI tests must not check the labelling code against itself (simulated labellers answer from that same
code, so swapping forward and backward there would pass them). This module is the hand computation:
move both joints into the camera's frame with ``R @ X + t``, compare their depths, and measure the bone's
angle out of the image plane with scalar trigonometry. Forward means the child joint is nearer the camera.
"""

from __future__ import annotations

import math

import numpy as np


def label_by_hand(X_world: np.ndarray, R, t, parent: int, child: int, unknown_tilt_deg: float) -> str:
    """``"forward"``, ``"backward"`` or ``"unknown"`` for bone ``parent -> child`` of a (J, 3) world skeleton."""
    R, t = np.asarray(R, dtype=float), np.asarray(t, dtype=float)
    p = R @ np.asarray(X_world[parent], dtype=float) + t  # camera frame, mm; z points away from the camera
    c = R @ np.asarray(X_world[child], dtype=float) + t
    dx, dy, dz = (c[i] - p[i] for i in range(3))
    length = math.sqrt(dx * dx + dy * dy + dz * dz)
    tilt = math.degrees(math.asin(min(1.0, abs(dz) / length)))
    if tilt < unknown_tilt_deg:
        return "unknown"
    return "forward" if c[2] < p[2] else "backward"
