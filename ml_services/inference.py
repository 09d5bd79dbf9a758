"""Running a refiner on crops: pixels in, pixels out, batched, on any device.

Shared by training's evaluation and by multi-crop scoring so both measure the same thing.
"""

from __future__ import annotations

import torch

from ml_services.data import from_crop, to_crop
from ml_services.models import Refiner

#: Crops per forward pass on CPU; CUDA takes ``CUDA_BATCH_FACTOR`` times more.
CPU_BATCH = 512
CUDA_BATCH_FACTOR = 8


def batch_size_for(device: torch.device) -> int:
    return CPU_BATCH * (CUDA_BATCH_FACTOR if device.type == "cuda" else 1)


@torch.no_grad()
def refine_pixels(
    model: Refiner,
    crops: torch.Tensor,
    boxes: torch.Tensor,
    mirror: torch.Tensor,
    points: torch.Tensor,
    iterations: int | None = None,
) -> torch.Tensor:
    """Refine keypoints inside fixed crops.

    Args:
        crops: (B, 3, S, S) in [0, 1], cut at ``boxes`` (B, 3) with ``mirror`` (B,) bool.
        points: (B, K, 2) current keypoints, image pixels, canonical order.
    Returns:
        (B, K, 2) refined keypoints, image pixels (float32 on ``points``' device).
    """
    device = next(model.parameters()).device
    out = torch.empty_like(points, dtype=torch.float32)
    step = batch_size_for(device)
    for lo in range(0, points.shape[0], step):
        sl = slice(lo, lo + step)
        q = to_crop(points[sl].float(), boxes[sl].float(), mirror[sl])  # (b, K, 2)
        q = model.refine(crops[sl].to(device), q.to(device), iterations).float().cpu()
        out[sl] = from_crop(q, boxes[sl].float().cpu(), mirror[sl].cpu()).to(out.device)
    return out
