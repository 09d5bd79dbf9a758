"""The tiny synthetic rig shared by the ML tests: generated once per test process, imported on demand."""

from __future__ import annotations

import json
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

from annotator import h36m
from annotator.h3wb_format import JOINT_KEYS

FRAMES = 4


@cache
def rig_dir() -> Path:
    """4 instants of S1 (16 views with images, ground truth, dataset skeletons); generated once."""
    from fixtures.synthetic import generate

    out = Path(tempfile.mkdtemp(prefix="ml-rig-"))
    generate(out, subjects=("S1",), frames=FRAMES, seed=0, workers=1, progress=False)
    return out


def import_rig(name: str = "rig", images: bool = True):
    """Import the rig into the test database as dataset ``name``."""
    from annotator.models import Dataset
    from annotator.services.imports import dataset_import_h3wb

    out = rig_dir()
    dataset_import_h3wb(dataset_name=name, annotations=out / "h3wb.json", images=out / "images" if images else None,
                        ground_truth=out / "ground_truth.json", detections=out / "detections.json")  # fmt: skip
    return Dataset.objects.get(name=name)


def _points(entry: dict, dims: str) -> np.ndarray:
    return np.array([[entry[k][d] for d in dims] for k in JOINT_KEYS], dtype=np.float64)


def rig_instants() -> list[dict]:
    """Per instant: world ground truth (J, 3), cameras (4) and image paths (4), straight from the files."""
    out = rig_dir()
    release = json.loads((out / "h3wb.json").read_text())
    truth = json.loads((out / "ground_truth.json").read_text())
    instants = []
    for k in range(len(release) // 4):
        ids = [str(4 * k + c) for c in range(4)]
        subject = release[ids[0]]["image_path"].split("/")[0]
        rig = h36m.rig(subject)
        cams = [rig[c] for c in h36m.CAMERA_IDS]
        # ground_truth keypoints_3d are R_cam @ X (no translation): back to world through camera 0.
        world = _points(truth[ids[0]]["keypoints_3d"], "xyz") @ cams[0].R
        instants.append(
            {"world": world, "cameras": cams, "images": [out / "images" / release[i]["image_path"] for i in ids]}
        )
    return instants
