"""Writes small files in the exact H3WB release format for the tests (no committed data needed).

Skeletons are plausible point clouds around a standing person in Human3.6M world coordinates (z up,
mm); each frame is written as 4 consecutive samples, one per camera, with ``keypoints_3d`` =
``R_cam @ X_world`` (no translation) and ``keypoints_2d`` = the distorted projection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from annotator import h3wb_format, h36m, keypoints
from annotator.geometry import project
from annotator.h3wb_format import ImageRef


@dataclass
class WrittenRelease:
    path: Path
    world: dict[tuple[str, str, int], np.ndarray]  # (subject, action, frame) -> (J, 3) world mm
    data: dict  # the JSON written


def random_skeleton(rng: np.random.Generator) -> np.ndarray:
    """(J, 3) world mm: points spread like a standing person near the origin."""
    centre = np.array([rng.uniform(-500, 500), rng.uniform(-500, 500), 0.0])
    offsets = rng.normal(size=(keypoints.NUM_KEYPOINTS, 3)) * [150.0, 150.0, 0.0]
    offsets[:, 2] = rng.uniform(50, 1750, size=keypoints.NUM_KEYPOINTS)
    return centre + offsets


def release_json(
    frames: list[tuple[str, str, int]], rng: np.random.Generator, *, with_2d: bool = True
) -> tuple[dict, dict[tuple[str, str, int], np.ndarray]]:
    data: dict[str, dict] = {}
    world: dict[tuple[str, str, int], np.ndarray] = {}
    for subject, action, frame_index in frames:
        X = random_skeleton(rng)
        world[(subject, action, frame_index)] = X
        for camera_id, cam in h36m.rig(subject).items():
            x2d = project(cam, X)
            sample = {
                "image_path": h3wb_format.format_image_path(ImageRef(subject, action, camera_id, frame_index)),
                "bbox": h3wb_format.bbox_json(h3wb_format.bbox_of(x2d, cam.size)),
                "keypoints_3d": h3wb_format.points_3d_json(X @ cam.R.T),
            }
            if with_2d:
                sample["keypoints_2d"] = h3wb_format.points_2d_json(x2d)
            data[str(len(data))] = sample
    return data, world


def write_release(path: Path, frames: list[tuple[str, str, int]], seed: int = 0, **kwargs) -> WrittenRelease:
    data, world = release_json(frames, np.random.default_rng(seed), **kwargs)
    path.write_text(json.dumps(data))
    return WrittenRelease(path=path, world=world, data=data)
