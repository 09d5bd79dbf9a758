"""The H3WB npz training layout, as PAFUSE (``common/h3wb_dataset.py``) and mmpose (``H36MWholeBodyDataset``)
read it, so a corrected dataset goes straight into their training pipelines::

    train_data -> subject -> action -> {
        "global_3d": (N, J, 3) world mm,  "frame_id": (N,) int64 (sorted),
        "<camera id>": {"camera_3d": (N, J, 3) R X + T mm, "pose_2d": (N, J, 2) px, "sample_id": (N,) int64}}
    metadata -> {"left_side", "right_side": mirror index lists (pairwise), "body", "left_foot", "right_foot",
                 "face", "left_hand", "right_hand": 0-based index lists,
                 "<subject>": {"<camera id>": {"K": (1,3,3) f32 K/1000, "R": (1,3,3) f32, "T": (1,1,3) f32 m,
                                               "Distortion": (1,5) f32 [k1, k2, p2, p1, k3]}}}
    bbox -> (subject, action, camera id, frame id) -> {"x_min", "y_min", "x_max", "y_max"} (mmpose's variant)

Every frame of an action must have a view from every camera that action uses (the loaders index the
cameras' arrays by the same frame); ``pose_2d`` is in the dataset's 2D convention with missing keypoints at
(0, 0) (H3WB's marker), ``sample_id`` are the H3WB keys of the export. The calibration conventions (K in
thousandths of a pixel, T in metres, the tangential pair swapped) are those observed in the official file
(docs/reference/h3wb_format.md section 3). The arrays are gathered in memory and written by ``close``: an
npz's pickled dict cannot be streamed (about 5.5 kB per sample).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TextIO

import numpy as np

from annotator import geometry, keypoints
from annotator.exceptions import ApplicationError
from annotator.exporters.samples import ExportSample
from annotator.h3wb_format import MISSING_2D

FORMAT = "h3wb-npz"
SAMPLE_MEMBER = "train_data"


class IncompleteFrameError(ApplicationError):
    """A frame lacks a camera's view that the npz layout needs; the message names it."""


def metadata_parts() -> dict[str, list[int]]:
    """The index lists of ``metadata``: mirror pairs and the six parts (PAFUSE adds 1 to them for its root)."""
    body = keypoints.PARTS["body"]
    feet = keypoints.PARTS["feet"]
    half = len(feet) // 2
    return {
        "left_side": [int(a) for a, _ in keypoints.FLIP_PAIRS],
        "right_side": [int(b) for _, b in keypoints.FLIP_PAIRS],
        "body": [int(i) for i in body],
        "left_foot": [int(i) for i in feet[:half]],
        "right_foot": [int(i) for i in feet[half:]],
        "face": [int(i) for i in keypoints.PARTS["face"]],
        "left_hand": [int(i) for i in keypoints.PARTS["left_hand"]],
        "right_hand": [int(i) for i in keypoints.PARTS["right_hand"]],
    }


def calibration(camera: geometry.Camera) -> dict[str, np.ndarray]:
    """One camera in the npz ``metadata`` conventions."""
    k1, k2, p1, p2, k3 = camera.dist
    return {
        "K": (camera.K / 1000.0).astype(np.float32)[None],
        "R": camera.R.astype(np.float32)[None],
        "T": (camera.t / 1000.0).astype(np.float32).reshape(1, 1, 3),
        "Distortion": np.asarray([[k1, k2, p2, p1, k3]], dtype=np.float32),
    }


def render(sample: ExportSample) -> tuple:
    """What the npz needs of one sample; pure, so it can run in a worker process."""
    xy = np.where(np.isfinite(sample.points_2d), sample.points_2d, MISSING_2D)
    points_3d = np.asarray(sample.points_3d, dtype=np.float64)
    box = tuple(int(v) for v in sample.bbox)
    return (sample.subject, sample.action, sample.camera.name, int(sample.frame_index), int(sample.key),
            points_3d, xy, box, sample.camera)  # fmt: skip


class H3WBNpzWriter:
    """Collects rendered samples and writes the npz into the export's file at ``close``."""

    render = staticmethod(render)

    def __init__(self, fh: TextIO, header: dict, directory: Path) -> None:
        self.fh = fh
        self.rows: dict[tuple[str, str], dict[int, dict[str, tuple]]] = defaultdict(lambda: defaultdict(dict))
        self.cameras: dict[tuple[str, str], geometry.Camera] = {}

    def write(self, rendered: tuple) -> None:
        subject, action, camera_id, frame, key, points_3d, points_2d, box, camera = rendered
        self.rows[(subject, action)][frame][camera_id] = (key, points_3d, points_2d, box)
        self.cameras[(subject, camera_id)] = camera

    def close(self) -> None:
        data: dict = defaultdict(dict)
        boxes: dict = {}
        for (subject, action), frames in self.rows.items():
            order = sorted(frames)
            camera_ids = sorted({c for views in frames.values() for c in views})
            for frame in order:
                missing = [c for c in camera_ids if c not in frames[frame]]
                if missing:
                    raise IncompleteFrameError(
                        f"{subject} / {action} / frame {frame} has no view from camera {missing[0]}, which other "
                        "frames of the action have: the npz layout needs every camera in every frame",
                        extra={"subject": subject, "action": action, "frame": frame, "camera": missing[0]},
                    )
            first = self.cameras[(subject, camera_ids[0])]
            block: dict = {
                # Every view holds the same world skeleton rotated into its camera: any one gives it back.
                "global_3d": np.stack([frames[f][camera_ids[0]][1] @ first.R for f in order]),
                "frame_id": np.asarray(order, dtype=np.int64),
            }
            for camera_id in camera_ids:
                cam = self.cameras[(subject, camera_id)]
                views = [frames[f][camera_id] for f in order]
                block[camera_id] = {
                    "camera_3d": np.stack([v[1] for v in views]) + cam.t,
                    "pose_2d": np.stack([v[2] for v in views]),
                    "sample_id": np.asarray([v[0] for v in views], dtype=np.int64),
                }
                for f, v in zip(order, views, strict=True):
                    boxes[(subject, action, camera_id, f)] = dict(zip(("x_min", "y_min", "x_max", "y_max"), v[3]))
            data[subject][action] = block
        metadata: dict = metadata_parts()
        for (subject, camera_id), cam in sorted(self.cameras.items()):
            metadata.setdefault(subject, {})[camera_id] = calibration(cam)
        self.fh.flush()
        np.savez(self.fh.buffer, **{SAMPLE_MEMBER: dict(data), "metadata": metadata, "bbox": boxes})

    def abort(self) -> None:
        self.rows.clear()
