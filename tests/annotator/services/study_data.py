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


def as_coco17(name: str = DATASET) -> str:
    """Turn imported dataset ``name`` into a COCO-17 dataset in place: COCO-17 is COCO-WholeBody's first 17
    keypoints (same names, same order, asserted here), so every stored array keeps its first 17."""
    from annotator import keypoints
    from annotator.models import Dataset, Detection2D, Skeleton3D, View

    layout = keypoints.layout_get("coco-17")
    assert keypoints.DEFAULT_LAYOUT.names[: layout.num_keypoints] == layout.names
    K = layout.num_keypoints
    dataset = Dataset.objects.get(name=name)
    dataset.layout_version = layout.version
    dataset.save(update_fields=["layout_version"])
    for skeleton in Skeleton3D.objects.filter(frame__sequence__subject__dataset=dataset):
        skeleton.keypoints = skeleton.keypoints[:K]
        skeleton.save(update_fields=["keypoints"])
    for view in View.objects.filter(frame__sequence__subject__dataset=dataset):
        for field in ("keypoints_2d", "truth_visible"):
            if getattr(view, field) is not None:
                setattr(view, field, getattr(view, field)[:K])
        view.save(update_fields=["keypoints_2d", "truth_visible"])
    for detection in Detection2D.objects.filter(view__frame__sequence__subject__dataset=dataset):
        detection.keypoints_2d, detection.scores = detection.keypoints_2d[:K], detection.scores[:K]
        detection.save(update_fields=["keypoints_2d", "scores"])
    return name
