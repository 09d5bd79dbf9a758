"""Test data for studies: a small synthetic rig with ground truth (1 subject x 10 instants x 4 views), imported."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from annotator.services.imports import dataset_import_h3wb
from annotator.services.users import user_ensure

#: Instants of the small rig; each has four views (the Human3.6M cameras).
RIG_FRAMES = 10
RIG_SUBJECT = "S1"
DATASET = "rig"


def generate_rig(out: Path) -> Path:
    """Render the small rig into ``out`` (a few seconds); returns ``out``."""
    from fixtures.synthetic import generate

    generate(out, subjects=(RIG_SUBJECT,), frames=RIG_FRAMES, seed=0, workers=1, progress=False)
    return out


@cache
def rig_path() -> Path:
    """The small rig, rendered once per test session into a temporary directory."""
    return generate_rig(Path(tempfile.mkdtemp(prefix="study-rig-")))


def import_rig(rig: Path | None = None, name: str = DATASET) -> str:
    """Import the rig (default: ``rig_path()``) with its ground truth and images as dataset ``name``."""
    rig = rig or rig_path()
    dataset_import_h3wb(
        dataset_name=name, annotations=rig / "h3wb.json", ground_truth=rig / "ground_truth.json", images=rig / "images"
    )
    return name


def annotators(n: int) -> list[str]:
    """``n`` annotator accounts sim0..sim{n-1}; returns their usernames."""
    names = [f"sim{i}" for i in range(n)]
    for name in names:
        user_ensure(username=name, password="pw-sim-123", role="annotator")
    return names


def errors_by_hand(study) -> dict[str, tuple[float, float]]:
    """Per H3WB part, (true, measured) mean 3D error of a study's finished tasks, mm, straight from the rows.

    True: the dataset skeleton the task started from against the frame's ground truth; measured: the task's
    result against its start. Computed here keypoint by keypoint with numpy, independently of the report code,
    so the report's numbers have an expected value.
    """
    import numpy as np

    from annotator import keypoints
    from annotator.models import Skeleton3D, Task

    true, measured = [], []
    for task in study.tasks.filter(status__in=(Task.Status.SUBMITTED, Task.Status.ACCEPTED)).order_by("pk"):
        truth = task.frame.skeletons.filter(source=Skeleton3D.Source.GROUND_TRUTH).latest("version").keypoints
        base, result = task.base_skeleton.keypoints, task.result_skeleton.keypoints
        true.append(np.linalg.norm(base - truth, axis=1))
        measured.append(np.linalg.norm(result - base, axis=1))
    true, measured = np.array(true), np.array(measured)  # (T, J)
    return {part: (float(true[:, index].mean()), float(measured[:, index].mean()))
            for part, index in keypoints.METRIC_PARTS.items()}  # fmt: skip
