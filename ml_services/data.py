"""Crops around a body part, keypoints in crop coordinates, and the training noise schedule.

Conventions (shared by training, refinement and scoring):

* a *box* is ``(cx, cy, side)`` in the source's pixel coordinates (pixel centres are integers);
* *crop coordinates* ``q`` map the box to ``[-1, 1]^2`` (``grid_sample``'s ``align_corners=False``
  convention); a *mirrored* crop flips x, so a left hand looks like a right hand;
* a part's keypoints are taken in the network's *canonical order*: ``part_members(part)`` lists,
  for each member (the face; the right hand, then the left hand), the layout indices read in that
  order and whether the crop is mirrored. Left hands use ``keypoints.FLIP_INDEX`` so canonical
  keypoint i of a mirrored left hand is the left twin of right-hand keypoint i;
* held-out samples are those of other people (``held_out_mask`` by subject), never other frames of
  the people trained on.

All crops of a batch come from one ``grid_sample`` call: images are padded to a common size and
the M crops of each image are stacked along the output height.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from annotator import keypoints
from ml_services.config import RefinerConfig
from ml_services.heldout import subject_order


def part_members(part: str) -> tuple[tuple[np.ndarray, bool], ...]:
    """(layout indices in canonical order, mirrored) of every instance of ``part`` in one skeleton."""
    if part == "face":
        return ((keypoints.PARTS["face"], False),)
    if part == "hand":
        right = keypoints.PARTS["right_hand"]
        return ((right, False), (keypoints.FLIP_INDEX[right], True))
    raise ValueError(f"unknown refiner part {part!r}")


def flip_permutation(part: str) -> np.ndarray | None:
    """Canonical-order permutation that turns a mirrored ``part`` back into itself (face only), else None."""
    if part != "face":
        return None
    face = keypoints.PARTS["face"]
    return keypoints.FLIP_INDEX[face] - face[0]


def part_boxes(points: torch.Tensor, min_side: float) -> torch.Tensor:
    """(..., K, 2) pixels -> (..., 3) square boxes (cx, cy, side) around the finite points."""
    finite = torch.isfinite(points).all(-1, keepdim=True)  # (..., K, 1)
    big = torch.finfo(points.dtype).max
    lo = torch.where(finite, points, torch.full_like(points, big)).amin(-2)  # (..., 2)
    hi = torch.where(finite, points, torch.full_like(points, -big)).amax(-2)  # (..., 2)
    centre = (lo + hi) / 2
    side = (hi - lo).amax(-1, keepdim=True).clamp_min(min_side)  # (..., 1)
    return torch.cat([centre, side], -1)


def to_crop(points: torch.Tensor, boxes: torch.Tensor, mirror: torch.Tensor) -> torch.Tensor:
    """(..., K, 2) pixels -> (..., K, 2) crop coordinates of ``boxes`` (..., 3); ``mirror`` (...,) bool."""
    sign = torch.where(mirror, -1.0, 1.0).to(points.dtype)[..., None]  # (..., 1)
    q = (points - boxes[..., None, :2]) / (boxes[..., None, 2:] / 2)  # (..., K, 2)
    return torch.stack([q[..., 0] * sign, q[..., 1]], -1)


def from_crop(q: torch.Tensor, boxes: torch.Tensor, mirror: torch.Tensor) -> torch.Tensor:
    """Inverse of ``to_crop``: (..., K, 2) crop coordinates -> (..., K, 2) pixels."""
    sign = torch.where(mirror, -1.0, 1.0).to(q.dtype)[..., None]
    q = torch.stack([q[..., 0] * sign, q[..., 1]], -1)
    return q * (boxes[..., None, 2:] / 2) + boxes[..., None, :2]


def crop_images(
    images: torch.Tensor,
    boxes: torch.Tensor,
    mirror: torch.Tensor,
    size: int,
    source_boxes: torch.Tensor | None = None,
) -> torch.Tensor:
    """Bilinear crops, all in one ``grid_sample`` call.

    Args:
        images: (N, C, H, W) float sources (padded images, or crops described by ``source_boxes``).
        boxes: (N, M, 3) crop boxes in the sources' pixel coordinates.
        mirror: (N, M) bool, flip the crop horizontally.
        size: output side in pixels.
        source_boxes: (N, 3) when the sources are themselves square crops of a larger image whose pixel
            coordinates ``boxes`` use; None when ``boxes`` are in the sources' own pixels.
    Returns:
        (N, M, C, size, size); outside the source is zero.
    """
    N, C, H, W = images.shape
    if boxes.shape[:1] != (N,) or boxes.shape[-1] != 3 or mirror.shape != boxes.shape[:2]:
        raise ValueError(f"boxes must be (N, M, 3) and mirror (N, M) for N={N}, got {boxes.shape}, {mirror.shape}")
    M = boxes.shape[1]
    lin = (torch.arange(size, dtype=images.dtype, device=images.device) + 0.5) / size * 2 - 1  # (S,)
    qy, qx = torch.meshgrid(lin, lin, indexing="ij")  # (S, S)
    q = torch.stack([qx, qy], -1).reshape(1, 1, size * size, 2).expand(N, M, -1, -1)  # (N, M, S*S, 2)
    px = from_crop(q, boxes.to(images.dtype), mirror)  # (N, M, S*S, 2) source pixels
    if source_boxes is None:
        scale = torch.tensor([W, H], dtype=images.dtype, device=images.device)
        grid = (px + 0.5) / scale * 2 - 1
    else:
        sb = source_boxes.to(images.dtype)[:, None, None, :]  # (N, 1, 1, 3)
        grid = (px - sb[..., :2]) / (sb[..., 2:] / 2)
    grid = grid.reshape(N, M * size, size, 2)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)  # (N, C, M*S, S)
    return out.reshape(N, C, M, size, size).permute(0, 2, 1, 3, 4)


def stack_regions(
    images: Sequence[np.ndarray], boxes: torch.Tensor, device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut each image to the region its crop boxes need, and stack the regions for one ``grid_sample``.

    Converting whole frames to float would cost more than the crops themselves, so each image is
    sliced (uint8, no copy of the rest) to the bounding square of its boxes, clipped to the image.

    Args:
        images: N arrays (H_i, W_i, 3) uint8.
        boxes: (N, M, 3) crop boxes in each image's pixels.
    Returns:
        regions (N, 3, h, w) float in [0, 1], zero-padded right/bottom; boxes (N, M, 3) in region pixels.
    """
    if len(images) != boxes.shape[0]:
        raise ValueError(f"{len(images)} images but boxes for {boxes.shape[0]}")
    finite = torch.isfinite(boxes).all(-1, keepdim=True)  # (N, M, 1); an image without boxes gets 1 pixel
    inf = torch.tensor(float("inf"), dtype=boxes.dtype)
    lo = torch.where(finite, boxes[..., :2] - boxes[..., 2:] / 2 - 1, inf).amin(1)  # (N, 2) x, y
    hi = torch.where(finite, boxes[..., :2] + boxes[..., 2:] / 2 + 1, -inf).amax(1)  # (N, 2)
    lo = torch.where(torch.isfinite(lo), lo.floor(), torch.zeros_like(lo)).long()
    hi = torch.where(torch.isfinite(hi), hi.ceil(), torch.ones_like(hi)).long()
    slices = []
    for n, img in enumerate(images):
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"images must be (H, W, 3), got {img.shape}")
        x0, y0 = (max(0, min(int(v), s)) for v, s in zip(lo[n].tolist(), (img.shape[1], img.shape[0])))
        x1, y1 = (max(0, min(int(v), s)) for v, s in zip(hi[n].tolist(), (img.shape[1], img.shape[0])))
        x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
        slices.append((x0, y0, img[y0:y1, x0:x1]))
    H = max(r.shape[0] for _, _, r in slices)
    W = max(r.shape[1] for _, _, r in slices)
    out = torch.zeros((len(images), 3, H, W), dtype=torch.uint8)
    for n, (_, _, region) in enumerate(slices):
        out[n, :, : region.shape[0], : region.shape[1]] = torch.from_numpy(np.array(region)).permute(2, 0, 1)
    offset = torch.tensor([[x0, y0, 0] for x0, y0, _ in slices], dtype=boxes.dtype)[:, None, :]  # (N, 1, 3)
    return out.to(device).float().div_(255), boxes - offset


def noise_pair(
    truth: torch.Tensor, side: torch.Tensor, config: RefinerConfig, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Steps t+1 (input) and t (target) of the noise schedule around ``truth``.

    The path is deterministic given one draw ``eps`` per sample: x_t = truth + sigma_t * side * eps,
    so the target of step t+1 is the same displacement shrunk by sigma_t / sigma_{t+1} (t = 0: the
    truth). ``eps`` mixes a part-wide shift (variance share ``shared_noise``) with per-keypoint noise.

    Args:
        truth: (B, K, 2) pixels. side: (B,) part-box side, pixels.
    Returns:
        noisy (B, K, 2), target (B, K, 2), t_plus_1 (B,) long in 1..T.
    """
    B, K, _ = truth.shape
    sigma = torch.tensor(config.noise_schedule(), dtype=truth.dtype)  # (T+1,)
    step = torch.randint(1, config.noise_steps + 1, (B,), generator=generator)  # (B,)
    shared = torch.randn((B, 1, 2), generator=generator, dtype=truth.dtype)
    own = torch.randn((B, K, 2), generator=generator, dtype=truth.dtype)
    eps = (config.shared_noise**0.5) * shared + ((1 - config.shared_noise) ** 0.5) * own  # (B, K, 2)
    scale = side.to(truth.dtype)[:, None, None] * eps
    noisy = truth + sigma[step][:, None, None].to(truth.device) * scale.to(truth.device)
    target = truth + sigma[step - 1][:, None, None].to(truth.device) * scale.to(truth.device)
    return noisy, target, step


def largest_step_noise(truth: torch.Tensor, config: RefinerConfig, generator: torch.Generator) -> torch.Tensor:
    """(B, K, 2) truth -> the schedule's largest step T around it (the evaluation's synthetic start)."""
    side = part_boxes(truth, config.min_box_px)[:, 2]
    shared = torch.randn((truth.shape[0], 1, 2), generator=generator, dtype=truth.dtype)
    own = torch.randn(truth.shape, generator=generator, dtype=truth.dtype)
    eps = (config.shared_noise**0.5) * shared + ((1 - config.shared_noise) ** 0.5) * own
    return truth + config.noise_schedule()[-1] * side[:, None, None] * eps


def random_crop_boxes(noisy: torch.Tensor, config: RefinerConfig, generator: torch.Generator) -> torch.Tensor:
    """(B, K, 2) current keypoints -> (B, 3) training crop boxes: side in ``crop_scale`` part sides, the
    part anywhere inside (corners included, as in multi-crop scoring)."""
    box = part_boxes(noisy, config.min_box_px)  # (B, 3)
    B = box.shape[0]
    lo, hi = config.crop_scale
    side = box[:, 2] * (lo + (hi - lo) * torch.rand(B, generator=generator, dtype=box.dtype))  # (B,)
    shift = (torch.rand((B, 2), generator=generator, dtype=box.dtype) * 2 - 1) * ((side - box[:, 2]) / 2)[:, None]
    return torch.cat([box[:, :2] + shift, side[:, None]], -1)


@dataclass
class PartSamples:
    """Training/evaluation samples of one part: a context crop per part instance and its keypoints.

    ``context`` (N, 3, P, P) uint8 around ``context_box`` (N, 3) image pixels; ``truth`` and ``start``
    (N, K, 2) image pixels in canonical order (``start`` NaN where no starting guess is known);
    ``mirror`` (N,) bool; ``group`` (N,) the frame id each sample comes from; ``subject`` (N,) str, the
    person in it (what the held-out split goes by).
    """

    context: torch.Tensor
    context_box: torch.Tensor
    truth: torch.Tensor
    start: torch.Tensor
    mirror: torch.Tensor
    group: np.ndarray
    subject: np.ndarray

    def __len__(self) -> int:
        return int(self.truth.shape[0])

    def subset(self, mask: np.ndarray) -> PartSamples:
        idx = torch.from_numpy(np.flatnonzero(mask))
        return PartSamples(self.context[idx], self.context_box[idx], self.truth[idx], self.start[idx],
                           self.mirror[idx], self.group[mask], self.subject[mask])  # fmt: skip

    def subjects(self) -> list[str]:
        """The people in the samples, in natural order (S2 before S10)."""
        return sorted(set(self.subject.tolist()), key=subject_order)


def extract_samples(
    views: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray | None, int, str]],
    config: RefinerConfig,
    batch_views: int = 16,
) -> PartSamples:
    """Context crops of ``config.part`` from every view.

    Args:
        views: (image (H, W, 3) uint8, truth (J, 2) pixels, start (J, 2) pixels or None, frame id, subject).
            Part instances with a non-finite truth point or a centre outside the image are skipped.
        batch_views: images stacked per ``grid_sample`` call.
    """
    members = part_members(config.part)
    out: dict[str, list] = {"context": [], "box": [], "truth": [], "start": [], "mirror": [], "group": [],
                            "subject": []}  # fmt: skip

    def flush(batch: list) -> None:
        truth = torch.from_numpy(np.stack([b[1] for b in batch])).float()  # (V, J, 2)
        start = torch.from_numpy(np.stack([b[2] for b in batch])).float()
        # torch.tensor copies the layout's index arrays, which are read-only (torch warns on sharing those).
        parts = torch.stack([truth[:, torch.tensor(idx)] for idx, _ in members], 1)  # (V, M, K, 2)
        starts = torch.stack([start[:, torch.tensor(idx)] for idx, _ in members], 1)
        box = part_boxes(parts, config.min_box_px)  # (V, M, 3)
        ctx_box = torch.cat([box[..., :2], box[..., 2:] * config.context_scale], -1)
        no_mirror = torch.zeros(box.shape[:2], dtype=torch.bool)
        regions, region_box = stack_regions([b[0] for b in batch], ctx_box)  # (V, 3, h, w), (V, M, 3)
        crops = crop_images(regions, region_box, no_mirror, config.context_size)  # (V, M, 3, P, P)
        sizes = torch.tensor([[b[0].shape[1], b[0].shape[0]] for b in batch], dtype=torch.float32)[:, None]
        ok = torch.isfinite(parts).all(-1).all(-1) & ((box[..., :2] >= 0) & (box[..., :2] < sizes)).all(-1)
        mirror = torch.tensor([m for _, m in members])[None].expand(len(batch), -1)
        groups = np.repeat(np.array([b[3] for b in batch])[:, None], len(members), 1)
        subjects = np.repeat(np.array([b[4] for b in batch], dtype=object)[:, None], len(members), 1)
        keep = ok.reshape(-1)
        out["context"].append((crops.reshape(-1, *crops.shape[2:])[keep] * 255).round().to(torch.uint8))
        out["box"].append(ctx_box.reshape(-1, 3)[keep])
        out["truth"].append(parts.reshape(-1, *parts.shape[2:])[keep])
        out["start"].append(starts.reshape(-1, *starts.shape[2:])[keep])
        out["mirror"].append(mirror.reshape(-1)[keep])
        out["group"].append(groups.reshape(-1)[keep.numpy()])
        out["subject"].append(subjects.reshape(-1)[keep.numpy()])

    batch: list = []
    for image, truth, start, group, subject in views:
        if start is None:
            start = np.full_like(truth, np.nan)
        batch.append((image, np.asarray(truth, np.float32), np.asarray(start, np.float32), group, str(subject)))
        if len(batch) == batch_views:
            flush(batch)
            batch = []
    if batch:
        flush(batch)
    if not out["truth"]:
        raise ValueError(f"no views to take {config.part} samples from")
    return PartSamples(
        context=torch.cat(out["context"]),
        context_box=torch.cat(out["box"]),
        truth=torch.cat(out["truth"]),
        start=torch.cat(out["start"]),
        mirror=torch.cat(out["mirror"]),
        group=np.concatenate(out["group"]),
        subject=np.concatenate(out["subject"]).astype(str),
    )


def held_out_mask(subjects: np.ndarray, held_out: Sequence[str]) -> np.ndarray:
    """(N,) subject names -> (N,) bool, True for the samples of the ``held_out`` people.

    Held-out means other people: a frame of a training subject, however far in time from the training
    frames, shows the same face, hands and clothes. Both sides must be non-empty (a ``ValueError`` names the
    subjects there are, so the caller can choose).
    """
    subjects = np.asarray(subjects).astype(str)
    present = sorted(set(subjects.tolist()), key=subject_order)
    held = [s for s in held_out if s in present]
    if not held:
        raise ValueError(f"none of the held-out subjects {', '.join(held_out)} is in the data (it has "
                         f"{', '.join(present) or 'no subjects'}); held-out means other people, so name at least "
                         "one of its subjects to hold out")  # fmt: skip
    if len(held) == len(present):
        raise ValueError(f"every subject in the data ({', '.join(present)}) is held out: no one is left to train "
                         "on; hold out fewer")  # fmt: skip
    return np.isin(subjects, held)
