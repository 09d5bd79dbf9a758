"""Refinement suggestions for the editor: the shipped face or hand refiner run on one part of one view.

``refine_part`` is arrays in, arrays out: the part is cut out five times (a centred crop and the four
corner crops of multi-crop scoring, ``ScoringConfig``), refined in one batch, and the five answers
are averaged in image pixels, so a suggestion does not depend on where the part sat in one crop.
``part_suggestions`` is the web entry point: a selector reads the view's drawn 2D and image, the
network (loaded once per process and file version, on CPU) refines it, and nothing is written: the
annotator accepts suggestions as ordinary corrections marked ``source="model"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch

from annotator.conf import option
from annotator.exceptions import ApplicationError
from annotator.models import Task
from annotator.selectors.refine import refine_input
from ml_services.checkpoints import checkpoint_hash, load_checkpoint
from ml_services.data import crop_images, part_boxes, stack_regions
from ml_services.images import load_rgb
from ml_services.inference import refine_pixels
from ml_services.models import Refiner
from ml_services.scoring import SCORED_PARTS, ScoringConfig, corner_boxes

#: part -> (refiner network, layout indices in the network's canonical order, mirrored crop).
PART_NETWORKS: dict[str, tuple[str, np.ndarray, bool]] = {name: (net, idx, m) for name, net, idx, m in SCORED_PARTS}


@dataclass(frozen=True)
class Suggestions:
    """Suggested positions (image pixels) of a part's keypoints in one view, keyed by layout index."""

    view: int
    part: str
    model: str
    checkpoint: str
    iterations: int
    points: dict[int, tuple[float, float]]


def refine_part(
    model: Refiner, image: np.ndarray, points: np.ndarray, mirror: bool, config: ScoringConfig | None = None
) -> np.ndarray:
    """Refine one part in one image.

    Args:
        image: (H, W, 3) uint8. points: (K, 2) the part's keypoints in the network's canonical order, pixels.
        mirror: cut mirrored crops (a left hand for the hand network).
        config: crop geometry and iterations (``ScoringConfig()`` when None).
    Returns:
        (K, 2) refined keypoints, image pixels: the mean over a centred crop and the four corner crops.
    """
    config = config or ScoringConfig()
    points = np.asarray(points, dtype=np.float32)
    if points.shape != (model.config.num_keypoints, 2) or not np.isfinite(points).all():
        raise ValueError(f"points must be finite ({model.config.num_keypoints}, 2), got {points.shape}")
    pts = torch.from_numpy(points)[None]  # (1, K, 2)
    box = part_boxes(pts, model.config.min_box_px)  # (1, 3)
    centred = torch.cat([box[:, :2], box[:, 2:] * config.corner_scale], -1)[:, None]  # (1, 1, 3)
    boxes = torch.cat([centred, corner_boxes(box, config)], 1)  # (1, M, 3) image pixels
    M = boxes.shape[1]
    flip = torch.full((1, M), bool(mirror))
    regions, region_box = stack_regions([image], boxes)  # (1, 3, h, w), (1, M, 3) region pixels
    offset = boxes[..., None, :2] - region_box[..., None, :2]  # (1, M, 1, 2) image - region pixels
    start = pts[:, None] - offset  # (1, M, K, 2) region pixels
    crops = crop_images(regions, region_box, flip, model.config.crop_size)  # (1, M, 3, s, s)
    refined = refine_pixels(
        model, crops.reshape(-1, *crops.shape[2:]), region_box.reshape(-1, 3), flip.reshape(-1),
        start.reshape(-1, *start.shape[2:]), config.iterations,
    ).reshape(start.shape)  # fmt: skip
    return (refined + offset).mean(dim=1)[0].double().numpy()  # (K, 2)


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


def part_suggestions(*, task: Task, view: int, part: str) -> Suggestions:
    """Suggested positions of ``part``'s keypoints in ``view`` of ``task`` (see the module docstring)."""
    data = refine_input(task=task, view=view, part=part)
    net, indices, mirror = PART_NETWORKS[part]
    model, path, digest = refiner_for(net)
    try:
        image = load_rgb(data.image_path)
    except ValueError as exc:
        raise ApplicationError(f"cannot refine without the image: {exc}", extra={"field": "view"}) from None
    refined = refine_part(model, image, data.points[indices], mirror)
    points = {int(k): (float(x), float(y)) for k, (x, y) in zip(indices, refined)}
    return Suggestions(view=data.view_id, part=part, model=path.name, checkpoint=digest,
                       iterations=model.config.iterations, points=dict(sorted(points.items())))  # fmt: skip
