"""Figures on people a model has not seen: who a checkpoint was trained on, a refusal to measure on them, the
true error a quality score should rank, and a figure's mean with its spread over seeds.

A refiner's error on frames of the people it was trained on measures memory (the same face, hands and
clothes), not what it does for the next dataset, and one rig seed is one draw of poses and errors. So the
held-out benchmarks (``tests.benchmarks.heldout``) refuse subjects a checkpoint names as trained on, and
report every figure as ``Spread`` over seeds. Arrays in, arrays out; no Django.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from annotator import geometry, keypoints

#: Keypoints a quality score's true error is measured on: the parts the score looks at (face and hands).
SCORED_KEYPOINTS = np.concatenate([keypoints.METRIC_PARTS["face"], keypoints.METRIC_PARTS["hand"]])
#: Share of skeletons kept when reporting how selection by score lowers the true error (H3WB kept ~2/3).
KEEP_FRACTION = 2 / 3


def subject_order(name: str) -> tuple:
    """Sort key of subject names: the digits as a number, so S9 comes before S11."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


def trained_subjects(path: str | Path) -> tuple[str, ...]:
    """The subjects the refiner checkpoint at ``path`` was trained on (its ``metrics["train_subjects"]``)."""
    from ml_services.checkpoints import read_checkpoint  # torch only when a checkpoint is read

    subjects = (read_checkpoint(path)["metrics"] or {}).get("train_subjects")
    if not subjects:
        raise ValueError(f"{path} does not say which people it was trained on, so no figure on it can be called "
                         "held-out; retrain it with `python manage.py train_refiner`")  # fmt: skip
    return tuple(subjects)


def require_unseen(subjects: Iterable[str], checkpoints: Mapping[str, str | Path]) -> None:
    """Refuse (``ValueError``) to measure on ``subjects`` that any of ``checkpoints`` ({name: path}) trained on."""
    subjects = list(subjects)
    for name, path in checkpoints.items():
        seen = [s for s in subjects if s in trained_subjects(path)]
        if seen:
            raise ValueError(f"the {name} refiner ({path}) was trained on {', '.join(seen)}: figures on them are not "
                             "held-out; measure on other subjects")  # fmt: skip


def true_errors(
    estimate: np.ndarray, truth: np.ndarray, cameras: Sequence[geometry.Camera], parts: np.ndarray
) -> tuple[float, float]:
    """The true error of one skeleton on the layout indices ``parts``: (2D px, 3D mm).

    Args:
        estimate, truth: (J, 3) world keypoints, mm. cameras: the views the 2D error is averaged over.
    Returns:
        the mean over views of the mean keypoint distance between the projections (px), and the mean 3D
        keypoint distance (mm); NaN keypoints are left out. The same figure the review report ranks scores by.
    """
    estimate, truth = np.asarray(estimate, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    if estimate.shape != truth.shape or estimate.ndim != 2 or estimate.shape[1] != 3:
        raise ValueError(f"estimate and truth must be (J, 3) alike, got {estimate.shape} and {truth.shape}")
    err3d = float(np.nanmean(np.linalg.norm(estimate[parts] - truth[parts], axis=-1)))
    est, gt = estimate[parts], truth[parts]
    err2d = [np.nanmean(np.linalg.norm(geometry.project(c, est) - geometry.project(c, gt), axis=-1)) for c in cameras]
    return (float(np.mean(err2d)) if err2d else float("nan")), err3d


@dataclass(frozen=True)
class Spread:
    """A figure over seeds: mean, sample standard deviation (ddof 1; 0 for one value), min, max and count."""

    mean: float
    std: float
    lo: float
    hi: float
    n: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        v = np.array([x for x in values if x is not None and np.isfinite(x)], dtype=np.float64)
        if v.size == 0:
            return cls(float("nan"), float("nan"), float("nan"), float("nan"), 0)
        std = float(v.std(ddof=1)) if v.size > 1 else 0.0
        return cls(float(v.mean()), std, float(v.min()), float(v.max()), int(v.size))

    def format(self, digits: int = 2) -> str:
        if self.n == 0:
            return "-"
        f = f"{{:.{digits}f}}"
        return f"{f.format(self.mean)} ± {f.format(self.std)} ({f.format(self.lo)}..{f.format(self.hi)})"

    def as_dict(self) -> dict:
        return {"mean": self.mean, "std": self.std, "min": self.lo, "max": self.hi, "n": self.n}
