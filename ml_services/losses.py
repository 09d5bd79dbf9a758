"""Differentiable keypoint losses on (B, K, 2) tensors, with optional (B, K) weights (0 = ignore)."""

from __future__ import annotations

import torch

#: Added under the square root so the gradient of a zero distance is finite.
_EPS = 1e-9


def _check(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    if pred.shape != target.shape or pred.ndim < 2:
        raise ValueError(f"pred and target must share a (..., K, D) shape, got {pred.shape} and {target.shape}")
    if weight is None:
        return torch.ones(pred.shape[:-1], dtype=pred.dtype, device=pred.device)
    if weight.shape != pred.shape[:-1]:
        raise ValueError(f"weight must have shape {tuple(pred.shape[:-1])}, got {tuple(weight.shape)}")
    return weight.to(pred.dtype)


def keypoint_distance(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Weighted mean Euclidean distance between keypoints: (..., K, D) x2 -> scalar."""
    w = _check(pred, target, weight)
    dist = torch.sqrt(((pred - target) ** 2).sum(-1) + _EPS)  # (..., K)
    return (dist * w).sum() / w.sum().clamp_min(_EPS)


def keypoint_smooth_l1(
    pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None, beta: float = 0.02
) -> torch.Tensor:
    """Weighted mean Huber loss per coordinate (quadratic below ``beta``): (..., K, D) x2 -> scalar."""
    w = _check(pred, target, weight)
    diff = (pred - target).abs()
    per = torch.where(diff < beta, 0.5 * diff**2 / beta, diff - 0.5 * beta).sum(-1)  # (..., K)
    return (per * w).sum() / w.sum().clamp_min(_EPS)
