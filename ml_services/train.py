"""Training and evaluating a part refiner on ``PartSamples`` (deterministic by seed on CPU).

The samples of ``config.held_out_subjects`` are never trained on: the report's errors are measured
on those people, overall and per subject. Each step draws a noise level t+1 of the schedule per
sample, crops around the noisy keypoints (the part anywhere in a crop of ``crop_scale`` part sides,
as multi-crop scoring places it) from the stored context crops, and learns to move the keypoints to
step t. Evaluation starts from either the schedule's largest step or the samples' own starting
guesses (e.g. the dataset skeleton's projection), refines ``config.iterations`` times in a centred
crop and reports the mean keypoint error in pixels.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm import tqdm

from ml_services.config import RefinerConfig
from ml_services.data import (
    PartSamples,
    crop_images,
    flip_permutation,
    held_out_mask,
    largest_step_noise,
    noise_pair,
    part_boxes,
    random_crop_boxes,
    to_crop,
)
from ml_services.inference import refine_pixels
from ml_services.losses import keypoint_smooth_l1
from ml_services.models import Refiner, build_refiner

#: Seed offset of the evaluation noise, so it does not depend on how long training ran.
_EVAL_SEED = 1_000_003
#: Samples per evaluation batch.
_EVAL_BATCH = 512
START_SCHEDULE, START_DATASET = "schedule_max", "dataset"


@dataclass
class TrainReport:
    """What a training run measured; errors are mean keypoint distances in image pixels on held-out people."""

    part: str
    train_samples: int
    held_out_samples: int
    epochs: int
    train_subjects: list[str] = field(default_factory=list)
    held_out_subjects: list[str] = field(default_factory=list)
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)
    #: start name -> {"input": px, "refined": px}, over all held-out people
    held_out_error_px: dict[str, dict[str, float]] = field(default_factory=dict)
    #: subject -> start name -> {"input": px, "refined": px, "samples": n}
    per_subject_error_px: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"{self.part}: {self.train_samples} training part crops of {', '.join(self.train_subjects)}; "
               f"{self.held_out_samples} held-out of {', '.join(self.held_out_subjects)} (other people); "
               f"{self.epochs} epochs in {self.seconds:.0f} s, final loss {self.losses[-1]:.4f}"]  # fmt: skip
        for start, err in self.held_out_error_px.items():
            out.append(f"  held-out mean error ({start} start): input {err['input']:.2f} px -> refined "
                       f"{err['refined']:.2f} px")  # fmt: skip
            for subject, by_start in self.per_subject_error_px.items():
                if start in by_start:
                    e = by_start[start]
                    out.append(f"    {subject} ({int(e['samples'])} crops): input {e['input']:.2f} px -> refined "
                               f"{e['refined']:.2f} px")  # fmt: skip
        return out


def _batch(samples: PartSamples, idx: torch.Tensor, config: RefinerConfig, gen: torch.Generator, flip: bool):
    """Crops, inputs and targets (crop coordinates) of the samples ``idx``."""
    context = samples.context[idx].float().div_(255)  # (B, 3, P, P)
    truth = samples.truth[idx]  # (B, K, 2)
    mirror = samples.mirror[idx].clone()  # (B,)
    perm = flip_permutation(config.part)
    if flip and perm is not None:
        # Mirror half of the faces: the mirrored face is a face whose keypoints swap left and right.
        swap = torch.rand(len(idx), generator=gen) < 0.5
        truth = torch.where(swap[:, None, None], truth[:, torch.from_numpy(perm)], truth)
        mirror = mirror ^ swap
    side = part_boxes(truth, config.min_box_px)[:, 2]
    noisy, target, _ = noise_pair(truth, side, config, gen)
    boxes = random_crop_boxes(noisy, config, gen)  # (B, 3)
    crops = crop_images(
        context, boxes[:, None], mirror[:, None], config.crop_size, source_boxes=samples.context_box[idx]
    )
    return crops[:, 0], to_crop(noisy, boxes, mirror), to_crop(target, boxes, mirror)


def train(
    samples: PartSamples,
    config: RefinerConfig,
    device: torch.device,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> tuple[Refiner, TrainReport]:
    """Train a refiner on the samples of every subject but ``config.held_out_subjects``; evaluate on those."""
    held = held_out_mask(samples.subject, config.held_out_subjects)
    train_set, test_set = samples.subset(~held), samples.subset(held)
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    model = build_refiner(config).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    per_epoch = max(1, len(train_set) // config.batch_size)
    total = per_epoch * config.epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=total, pct_start=0.15)
    report = TrainReport(config.part, len(train_set), len(test_set), config.epochs, train_set.subjects(),
                         test_set.subjects())  # fmt: skip
    t0 = time.perf_counter()
    bar = tqdm(total=total, desc=f"train {config.part}", unit="step", disable=not progress)
    model.train()
    for _ in range(config.epochs):
        order = torch.randperm(len(train_set), generator=gen)
        running = 0.0
        for b in range(per_epoch):
            idx = order[b * config.batch_size : (b + 1) * config.batch_size]
            crops, q_in, q_target = _batch(train_set, idx, config, gen, flip=True)
            pred = model(crops.to(device), q_in.to(device))  # (B, K, 2)
            loss = keypoint_smooth_l1(pred, q_target.to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running += float(loss.detach())
            bar.update()
            bar.set_postfix(loss=f"{running / (b + 1):.4f}")
        report.losses.append(running / per_epoch)
    bar.close()
    report.seconds = time.perf_counter() - t0
    model.eval()
    errors = sample_errors(model, test_set, config)
    report.held_out_error_px = summarise(errors)
    for subject in test_set.subjects():
        mask = test_set.subject == subject
        report.per_subject_error_px[subject] = summarise(errors, mask)
    if log:
        for line in report.lines():
            log(line)
    return model, report


@torch.no_grad()
def sample_errors(model: Refiner, samples: PartSamples, config: RefinerConfig) -> dict[str, dict[str, np.ndarray]]:
    """Per sample, the mean keypoint error (px) before and after ``config.iterations`` steps, per kind of start.

    Returns:
        start name -> {"input": (N,), "refined": (N,)}; NaN where that start is unknown (no dataset guess).
    """
    gen = torch.Generator().manual_seed(config.seed + _EVAL_SEED)
    starts = {START_SCHEDULE: largest_step_noise(samples.truth, config, gen)}
    known = torch.isfinite(samples.start).all(-1).all(-1)  # (N,)
    if bool(known.any()):
        starts[START_DATASET] = samples.start
    out = {}
    for name, start in starts.items():
        keep = known if name == START_DATASET else torch.ones_like(known)
        err_in = np.full(len(samples), np.nan)
        err_out = np.full(len(samples), np.nan)
        for lo in range(0, len(samples), _EVAL_BATCH):
            sl = slice(lo, lo + _EVAL_BATCH)
            k = keep[sl]
            if not bool(k.any()):
                continue
            s, truth, mirror = start[sl][k], samples.truth[sl][k], samples.mirror[sl][k]
            box = part_boxes(s, config.min_box_px)
            boxes = torch.cat([box[:, :2], box[:, 2:] * float(np.mean(config.crop_scale))], -1)
            context = samples.context[sl][k].float().div_(255)
            crops = crop_images(context, boxes[:, None], mirror[:, None], config.crop_size,
                                source_boxes=samples.context_box[sl][k])[:, 0]  # fmt: skip
            refined = refine_pixels(model, crops, boxes, mirror, s)
            rows = lo + np.flatnonzero(k.numpy())
            err_in[rows] = (s - truth).norm(dim=-1).mean(-1).double().numpy()
            err_out[rows] = (refined - truth).norm(dim=-1).mean(-1).double().numpy()
        out[name] = {"input": err_in, "refined": err_out}
    return out


def summarise(errors: dict[str, dict[str, np.ndarray]], mask: np.ndarray | None = None) -> dict[str, dict]:
    """Mean input and refined error (px) per kind of start over the samples in ``mask`` (all when None)."""
    out = {}
    for name, err in errors.items():
        keep = np.isfinite(err["input"]) & (True if mask is None else mask)
        if keep.any():
            out[name] = {"input": float(err["input"][keep].mean()), "refined": float(err["refined"][keep].mean()),
                         "samples": int(keep.sum())}  # fmt: skip
    return out


def evaluate(model: Refiner, samples: PartSamples, config: RefinerConfig) -> dict[str, dict[str, float]]:
    """Mean keypoint error (px) before and after ``config.iterations`` steps, per kind of start."""
    return summarise(sample_errors(model, samples, config))
