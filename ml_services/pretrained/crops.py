"""Rotated square regions of an image and the crops cut at them: pure numpy/torch, no model, no Django.

A region of interest (``Roi``) is a square in *continuous* image coordinates, where pixel i spans
[i, i+1) (MediaPipe's convention; the project's pixel-centre convention is 0.5 less, see
``CENTRE_OFFSET``). Its ``angle`` turns the crop: the crop's x axis points along (cos a, sin a) in the
image and its y axis along (-sin a, cos a), so ``angle_up(d)`` makes direction ``d`` point up in the crop
(fingers up for a hand, head up for a body) and ``angle_right(d)`` makes ``d`` point right (the eye line
of a face). A model's output in crop pixels comes back to the image with ``Roi.to_image``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

#: Continuous coordinates minus this are the project's pixel-centre coordinates (pixel centres are integers).
CENTRE_OFFSET = 0.5


@dataclass(frozen=True)
class Roi:
    """A square region: centre (cx, cy) and side in continuous image pixels, rotated by ``angle`` radians."""

    cx: float
    cy: float
    side: float
    angle: float = 0.0

    def axes(self) -> np.ndarray:
        """(2, 2): rows are the crop's x and y axes as image directions."""
        c, s = np.cos(self.angle), np.sin(self.angle)
        return np.array([[c, s], [-s, c]])

    def to_image(self, uv: np.ndarray, size: int) -> np.ndarray:
        """(..., 2) crop pixels of a ``size`` crop (continuous, [0, size)) -> (..., 2) continuous image pixels."""
        q = (np.asarray(uv, dtype=np.float64) / size - 0.5) * self.side  # (..., 2) offsets along the crop axes
        return np.array([self.cx, self.cy]) + q @ self.axes()

    def to_crop(self, xy: np.ndarray, size: int) -> np.ndarray:
        """Inverse of ``to_image``: (..., 2) continuous image pixels -> (..., 2) crop pixels."""
        q = (np.asarray(xy, dtype=np.float64) - np.array([self.cx, self.cy])) @ self.axes().T
        return (q / self.side + 0.5) * size

    def scaled(self, factor: float, shift_up: float = 0.0) -> Roi:
        """The same region ``factor`` times wider, moved ``shift_up`` of its side towards the crop's top."""
        up = -self.axes()[1] * shift_up * self.side
        return Roi(self.cx + up[0], self.cy + up[1], self.side * factor, self.angle)


def angle_up(direction: np.ndarray) -> float:
    """The ``Roi.angle`` that makes the image direction (dx, dy) point up in the crop."""
    dx, dy = float(direction[0]), float(direction[1])
    return float(np.arctan2(dx, -dy))


def angle_right(direction: np.ndarray) -> float:
    """The ``Roi.angle`` that makes the image direction (dx, dy) point right in the crop."""
    return float(np.arctan2(float(direction[1]), float(direction[0])))


def roi_around(points: np.ndarray, angle: float, scale: float, shift_up: float = 0.0) -> Roi | None:
    """The square, turned by ``angle``, around the finite ``points`` (K, 2) (continuous pixels), ``scale``
    times their extent along the crop axes; None when fewer than two points are finite or they coincide."""
    pts = np.asarray(points, dtype=np.float64)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) < 2:
        return None
    base = Roi(0.0, 0.0, 1.0, angle)
    local = pts @ base.axes().T  # (K, 2) along the crop axes
    lo, hi = local.min(axis=0), local.max(axis=0)
    side = float((hi - lo).max())
    if not side > 0:
        return None
    centre = ((lo + hi) / 2) @ base.axes()
    return Roi(float(centre[0]), float(centre[1]), side, angle).scaled(scale, shift_up)


def cut(image: np.ndarray, roi: Roi, size: int) -> np.ndarray:
    """The (size, size, 3) float32 crop of ``roi`` from ``image`` (H, W, 3) uint8, values in [0, 1]; black
    outside the image. Bilinear, with the crop's pixel centres at ``roi.to_image(i + 0.5)``."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be an (H, W, 3) uint8 array, got {image.shape} {image.dtype}")
    if not (np.isfinite([roi.cx, roi.cy, roi.side, roi.angle]).all() and roi.side > 0):
        raise ValueError(f"not a usable region: {roi}")
    H, W = image.shape[:2]
    centres = np.arange(size) + 0.5
    u, v = np.meshgrid(centres, centres, indexing="xy")  # (S, S) crop pixel centres
    xy = roi.to_image(np.stack([u, v], -1), size)  # (S, S, 2) continuous image pixels
    # Only the part of the image under the crop is converted to float (a whole frame would cost more).
    x0, y0 = (max(0, int(np.floor(xy[..., i].min())) - 1) for i in (0, 1))
    x1, y1 = min(W, int(np.ceil(xy[..., 0].max())) + 2), min(H, int(np.ceil(xy[..., 1].max())) + 2)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((size, size, 3), np.float32)
    region = torch.from_numpy(np.array(image[y0:y1, x0:x1])).permute(2, 0, 1)[None].float() / 255
    h, w = y1 - y0, x1 - x0
    grid = torch.from_numpy(np.stack([(xy[..., 0] - x0) / w * 2 - 1, (xy[..., 1] - y0) / h * 2 - 1], -1))
    out = F.grid_sample(region, grid[None].float(), mode="bilinear", padding_mode="zeros", align_corners=False)
    return out[0].permute(1, 2, 0).numpy()
