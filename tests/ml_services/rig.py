"""The tiny synthetic rigs shared by the ML tests: generated once per test process, imported on demand.

``rig_dir`` holds S1, one of the people the shipped refiners were trained on; ``unseen_rig_dir`` holds
S9 and S11, whom they never saw (held-out figures are measured on other people).
"""

from __future__ import annotations

import json
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

from annotator import h36m
from annotator.h3wb_format import JOINT_KEYS

FRAMES = 4
#: People and instants per person of the unseen rig (the shipped refiners' held-out subjects).
UNSEEN_SUBJECTS, UNSEEN_FRAMES, UNSEEN_SEED = ("S9", "S11"), 2, 11


@cache
def rig_dir() -> Path:
    """4 instants of S1 (16 views with images, ground truth, dataset skeletons); generated once."""
    from fixtures.synthetic import generate

    out = Path(tempfile.mkdtemp(prefix="ml-rig-"))
    generate(out, subjects=("S1",), frames=FRAMES, seed=0, workers=1, progress=False)
    return out


@cache
def unseen_rig_dir() -> Path:
    """2 instants each of S9 and S11 (16 views), a seed of their own; generated once."""
    from fixtures.synthetic import generate

    out = Path(tempfile.mkdtemp(prefix="ml-unseen-rig-"))
    generate(out, subjects=UNSEEN_SUBJECTS, frames=UNSEEN_FRAMES, seed=UNSEEN_SEED, workers=1, progress=False)
    return out


def import_rig(name: str = "rig", images: bool = True, folder: Path | None = None):
    """Import the rig (``folder``, default ``rig_dir()``) into the test database as dataset ``name``."""
    from annotator.models import Dataset
    from annotator.services.imports import dataset_import_h3wb

    out = folder or rig_dir()
    dataset_import_h3wb(dataset_name=name, annotations=out / "h3wb.json", images=out / "images" if images else None,
                        ground_truth=out / "ground_truth.json", detections=out / "detections.json")  # fmt: skip
    return Dataset.objects.get(name=name)


def _points(entry: dict, dims: str) -> np.ndarray:
    return np.array([[entry[k][d] for d in dims] for k in JOINT_KEYS], dtype=np.float64)


def read_instants(out: Path) -> list[dict]:
    """Per instant of the rig in ``out``, straight from its files: ``subject``, world ``world`` (ground truth) and
    ``dataset`` (J, 3) mm, ``cameras`` (4) and ``images`` (4 paths)."""
    release = json.loads((out / "h3wb.json").read_text())
    truth = json.loads((out / "ground_truth.json").read_text())
    instants = []
    for k in range(len(release) // 4):
        ids = [str(4 * k + c) for c in range(4)]
        subject = release[ids[0]]["image_path"].split("/")[0]
        rig = h36m.rig(subject)
        cams = [rig[c] for c in h36m.CAMERA_IDS]
        # keypoints_3d are R_cam @ X (no translation): back to world through camera 0.
        world = _points(truth[ids[0]]["keypoints_3d"], "xyz") @ cams[0].R
        dataset = _points(release[ids[0]]["keypoints_3d"], "xyz") @ cams[0].R
        instants.append({"subject": subject, "world": world, "dataset": dataset, "cameras": cams,
                         "images": [out / "images" / release[i]["image_path"] for i in ids]})  # fmt: skip
    return instants


def rig_instants() -> list[dict]:
    """The instants of ``rig_dir()`` (see ``read_instants``)."""
    return read_instants(rig_dir())


def unseen_instants() -> list[dict]:
    """The instants of ``unseen_rig_dir()`` (see ``read_instants``)."""
    return read_instants(unseen_rig_dir())


def error_draws(instant: dict, draws: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``draws`` dataset skeletons (J, 3) of one instant: the rig's own and ``draws - 1`` more from its error model.

    Each extra one is an independent realisation of the rig's H3WB-like errors (parts drifting and turning as
    blocks, jitter; no gross failures), so a handful of rendered instants yields skeletons of many true errors.
    """
    from fixtures.synthetic.errors import ErrorModel, apply_errors

    model = ErrorModel(gross_rate=0.0)
    out = [instant["dataset"]]
    for _ in range(draws - 1):
        skeleton, _ = apply_errors(instant["world"][None], np.zeros(1), model, rng)
        out.append(skeleton[0])
    return out
