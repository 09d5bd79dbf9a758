"""Suggestions for the editor: where one part of one view should be, from the pretrained whole-body model or a
trained face/hand refiner.

Two models can answer (``SUGGESTION_MODELS``):

* ``refiner``: the trained refiner of the part (``REFINER_CHECKPOINT_DIR``), through
  ``ml_services.refine.refine_part`` (a centred crop and the four corner crops, answers averaged).
* ``pretrained``: MediaPipe's face mesh or hand model in the crop the drawn part defines
  (``ml_services.pretrained.parts``), which has seen real photographs.

``auto`` (the editor's default) takes the refiner only where it fits the data (``refiner_fits``: it was
trained on this dataset, or on synthetic ground truth and this dataset is synthetic, i.e. has ground-truth
skeletons) and the pretrained model everywhere else; the answer says which model it used and why.
``part_suggestions`` is the web entry point: a selector reads the view's drawn 2D and image, the model
runs, and nothing is written: the annotator accepts suggestions as corrections marked ``source="model"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from annotator import keypoints
from annotator.conf import option
from annotator.exceptions import ApplicationError
from annotator.models import Task
from annotator.selectors.refine import dataset_has_ground_truth, refine_input
from ml_services import pretrained
from ml_services.checkpoints import checkpoint_hash, load_checkpoint, read_checkpoint
from ml_services.images import load_rgb
from ml_services.models import Refiner
from ml_services.pretrained.assets import MEDIAPIPE
from ml_services.pretrained.parts import part_from_points
from ml_services.refine import refine_part
from ml_services.scoring import SCORED_PARTS

#: part -> (refiner network, layout indices in the network's canonical order, mirrored crop).
PART_NETWORKS: dict[str, tuple[str, np.ndarray, bool]] = {name: (net, idx, m) for name, net, idx, m in SCORED_PARTS}


#: The models a suggestion can come from; ``auto`` picks one (see the module docstring).
SUGGESTION_MODELS: tuple[str, ...] = ("auto", "pretrained", "refiner")
PRETRAINED, REFINER = "pretrained", "refiner"


@dataclass(frozen=True)
class Suggestions:
    """Suggested positions (image pixels) of a part's keypoints in one view, keyed by layout index.

    ``source`` is ``pretrained`` or ``refiner``; ``model`` names the file or release, ``label`` says it in words
    and ``reason`` why it was chosen; ``score`` is the pretrained model's presence score (None for a refiner)."""

    view: int
    part: str
    source: str
    model: str
    label: str
    reason: str
    checkpoint: str
    iterations: int | None
    score: float | None
    points: dict[int, tuple[float, float]]


def checkpoint_path(net: str) -> Path:
    """The configured checkpoint file of network ``net`` (``face`` or ``hand``)."""
    return Path(option("REFINER_CHECKPOINT_DIR")) / f"{net}.pt"


@cache
def _load(path: str, net: str, mtime_ns: int) -> tuple[Refiner, str]:
    """The network at ``path`` on CPU and its hash; the modification time in the key reloads a replaced file."""
    return load_checkpoint(path, net, "cpu"), checkpoint_hash(path)


def refiner_for(net: str) -> tuple[Refiner, Path, str]:
    """(network, file, hash) of ``net``, loaded once per process; a missing or unusable file is a clear 400."""
    path = checkpoint_path(net)
    try:
        model, digest = _load(str(path), net, path.stat().st_mtime_ns if path.is_file() else 0)
    except (FileNotFoundError, ValueError) as exc:
        raise ApplicationError(f"no {net} refiner is available: {exc}", extra={"reason": "no_checkpoint"}) from None
    return model, path, digest


@cache
def _trained_on(path: str, mtime_ns: int) -> tuple[str | None, str | None]:
    """(dataset, source) a checkpoint's metrics say it was trained on; (None, None) for an unreadable file."""
    try:
        metrics = read_checkpoint(path)["metrics"] or {}
    except (FileNotFoundError, ValueError):
        return None, None
    return metrics.get("dataset"), metrics.get("source")


def refiner_fits(*, net: str, dataset) -> tuple[bool, str]:
    """Whether the configured ``net`` refiner fits ``dataset`` (see the module docstring), and why in words."""
    path = checkpoint_path(net)
    if not path.is_file():
        return False, f"no trained {net} refiner is installed"
    trained, source = _trained_on(str(path), path.stat().st_mtime_ns)
    if trained is None:
        return False, f"the {net} refiner ({path.name}) does not say what it was trained on"
    if trained == dataset.name:
        return True, f"the {net} refiner ({path.name}) was trained on {dataset.name}"
    if source == "ground_truth" and dataset_has_ground_truth(dataset=dataset):
        return True, f"the {net} refiner ({path.name}) was trained on synthetic ground truth ({trained}), " \
                     f"and {dataset.name} is synthetic too"  # fmt: skip
    return False, f"no trained {net} refiner fits {dataset.name} (the installed one was trained on {trained})"


def part_suggestions(*, task: Task, view: int, part: str, model: str = "auto") -> Suggestions:
    """Suggested positions of ``part``'s keypoints in ``view`` of ``task`` from ``model`` (see the module docstring)."""
    if model not in SUGGESTION_MODELS:
        raise ApplicationError(f"model must be one of {', '.join(SUGGESTION_MODELS)}, got {model!r}",
                               extra={"field": "model"})  # fmt: skip
    data = refine_input(task=task, view=view, part=part)
    net, indices, mirror = PART_NETWORKS[part]
    if model == "auto":
        fits, reason = refiner_fits(net=net, dataset=data.dataset)
        model = REFINER if fits else PRETRAINED
        reason = f"default: {reason}"
    else:
        reason = "chosen by the annotator"
    try:
        image = load_rgb(data.image_path)
    except ValueError as exc:
        raise ApplicationError(f"cannot refine without the image: {exc}", extra={"field": "view"}) from None
    if model == PRETRAINED:
        return _pretrained_suggestions(data, image, reason)
    refiner, path, digest = refiner_for(net)
    refined = refine_part(refiner, image, data.points[indices], mirror)
    points = {int(k): (float(x), float(y)) for k, (x, y) in zip(indices, refined)}
    return Suggestions(view=data.view_id, part=part, source=REFINER, model=path.name,
                       label=f"trained {net} refiner {path.name}", reason=reason, checkpoint=digest,
                       iterations=refiner.config.iterations, score=None,
                       points=dict(sorted(points.items())))  # fmt: skip


def _pretrained_suggestions(data, image: np.ndarray, reason: str) -> Suggestions:
    label = data.part.replace("_", " ")
    try:
        answer = part_from_points(image, data.part, data.points)
    except FileNotFoundError as exc:
        raise ApplicationError(f"the pretrained model is not available: {exc}",
                               extra={"reason": "no_pretrained_model"}) from None  # fmt: skip
    if answer is None:
        raise ApplicationError(f"the pretrained model finds no {label} near the drawn one in view {data.view_id}",
                               extra={"field": "part", "part": data.part})  # fmt: skip
    indices = keypoints.PARTS[data.part]
    points = {int(k): (float(x), float(y)) for k, (x, y) in zip(indices, answer.points)}
    return Suggestions(view=data.view_id, part=data.part, source=PRETRAINED, model=pretrained.MODEL_NAME,
                       label=pretrained.MODEL_LABEL, reason=f"{reason}; {answer.crop}",
                       checkpoint=MEDIAPIPE.requirement, iterations=None, score=round(answer.score, 4),
                       points=dict(sorted(points.items())))  # fmt: skip
