"""One part of one view refined by a trained refiner, as the editor's suggestion gives it: arrays in, arrays out.

The part is cut out five times (a centred crop and the four corner crops of multi-crop scoring,
``ScoringConfig``), refined in one batch, and the five answers are averaged in image pixels, so no single
crop's framing decides the answer. Kept free of Django so the held-out benchmarks measure exactly what
the editor's ``g`` returns.
"""

from __future__ import annotations

import numpy as np
import torch

from ml_services.data import crop_images, part_boxes, stack_regions
from ml_services.inference import refine_pixels
from ml_services.models import Refiner
from ml_services.scoring import ScoringConfig, corner_boxes


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
