"""How the multi-crop score combines crops, parts and views, compared on the refiners' own training people:
``python -m tests.benchmarks.score_weighting [--seeds 101,102,103,104,105,106,107,108]``.

A score's definition is chosen here, never on the held-out people (``tests.benchmarks.heldout`` measures the
chosen one on them once). The benchmark refuses subjects the shipped checkpoints were not trained on. For
every rig seed (not the seed 0 the refiners were trained on) it renders FRAMES instants of each training
subject, runs the refiners once in 17 crops per part and view (the four corner crops at 1.3, 1.5 and 1.7 part
sides, a centred crop and four edge-midpoint crops at 1.5) and caches their displacement vectors under
``--cache``; every variant is then an aggregation of those, and is reported as its Spearman correlation with
the true face+hand 2D error (``ml_services.heldout.true_errors``), mean ± sample std over the seeds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from annotator import geometry
from annotator.metrics import spearman
from ml_services.checkpoints import default_checkpoint, load_checkpoint
from ml_services.data import crop_images, part_boxes, stack_regions
from ml_services.heldout import SCORED_KEYPOINTS, Spread, trained_subjects, true_errors
from ml_services.images import load_rgb
from ml_services.inference import refine_pixels
from ml_services.scoring import PART_KEYPOINTS, PART_NAMES, SCORED_PARTS, ScoringConfig
from tests.benchmarks.heldout import BATCH, rig_folder
from tests.ml_services.rig import read_instants

MARGIN = ScoringConfig().corner_margin


def _crop_layout() -> dict[str, list[int]]:
    """Named crop sets (indices into ``CROPS``)."""
    return {"corners 1.5 (default)": [0, 1, 2, 3], "corners 1.3 + 1.5": list(range(8)),
            "17 crops": list(range(17)), "centre only": [12]}  # fmt: skip


def _crops() -> np.ndarray:
    """(17, 3) crops as (dx, dy, side) in part sides, the part box centred at (0, 0)."""
    out = []
    for scale in (1.5, 1.3, 1.7):
        reach = (scale - 1) / 2 - MARGIN * scale  # as ml_services.scoring.corner_boxes
        out += [(-sx * reach, -sy * reach, scale) for sx, sy in ((-1, -1), (1, -1), (-1, 1), (1, 1))]
    reach = (1.5 - 1) / 2 - MARGIN * 1.5
    out += [(0.0, 0.0, 1.5)] + [(-sx * reach, -sy * reach, 1.5) for sx, sy in ((-1, 0), (1, 0), (0, -1), (0, 1))]
    return np.array(out, dtype=np.float32)


CROPS = _crops()


def displacements(refiners: dict, points: np.ndarray, images: list[np.ndarray]) -> dict[str, np.ndarray]:
    """(S, V, 17, K, 2) refined-minus-start vectors (px) per part name, NaN where the part cannot be cut."""
    S, V = points.shape[:2]
    pts = torch.from_numpy(points.astype(np.float32)).reshape(S * V, -1, 2)
    sizes = torch.tensor([[img.shape[1], img.shape[0]] for img in images], dtype=torch.float32)  # (N, 2)
    rel = torch.from_numpy(CROPS)  # (M, 3)
    out = {}
    for name, net, idx, mirror in SCORED_PARTS:
        model = refiners[net]
        part_pts = pts[:, torch.tensor(idx)]  # (N, K, 2)
        box = part_boxes(part_pts, model.config.min_box_px)  # (N, 3)
        ok = torch.isfinite(part_pts).all(-1).all(-1) & ((box[:, :2] >= 0) & (box[:, :2] < sizes)).all(-1)  # (N,)
        side = box[:, None, 2:]  # (N, 1, 1)
        boxes = torch.cat([box[:, None, :2] + rel[None, :, :2] * side, rel[None, :, 2:] * side], -1)  # (N, M, 3)
        flip = torch.full(boxes.shape[:2], bool(mirror))
        regions, region_box = stack_regions(images, torch.where(ok[:, None, None], boxes, torch.nan))
        offset = boxes[..., None, :2] - region_box[..., None, :2]  # (N, M, 1, 2)
        start = torch.where(ok[:, None, None, None], part_pts[:, None] - offset, torch.zeros(()))  # (N, M, K, 2)
        region_box = torch.where(ok[:, None, None], region_box, torch.tensor([0.0, 0.0, model.config.min_box_px]))
        crops = crop_images(regions, region_box, flip, model.config.crop_size)
        refined = refine_pixels(model, crops.reshape(-1, *crops.shape[2:]), region_box.reshape(-1, 3),
                                flip.reshape(-1), start.reshape(-1, *start.shape[2:])).reshape(start.shape)  # fmt: skip
        moved = (refined - start).double().numpy()
        moved[~ok.numpy()] = np.nan
        out[name] = moved.reshape(S, V, len(CROPS), len(idx), 2)
    return out


def rig_arrays(rig: Path, refiners: dict, cache: Path) -> dict[str, np.ndarray]:
    """The rig's displacement vectors, true per-part errors and true 2D errors, computed once into ``cache``."""
    if cache.is_file():
        return dict(np.load(cache))
    instants = read_instants(rig)
    parts: dict[str, list] = {name: [] for name in PART_NAMES}
    errors: dict[str, list] = {name: [] for name in PART_NAMES}
    for lo in range(0, len(instants), BATCH):
        batch = instants[lo : lo + BATCH]
        points = np.stack([np.stack([geometry.project(c, it["dataset"]) for c in it["cameras"]]) for it in batch])
        truth = np.stack([np.stack([geometry.project(c, it["world"]) for c in it["cameras"]]) for it in batch])
        moved = displacements(refiners, points, [load_rgb(p) for it in batch for p in it["images"]])
        for name, _, idx, _ in SCORED_PARTS:
            parts[name].append(moved[name])
            errors[name].append(np.linalg.norm(points[:, :, idx] - truth[:, :, idx], axis=-1).mean(-1))  # (s, V)
    true2d = [true_errors(it["dataset"], it["world"], it["cameras"], SCORED_KEYPOINTS)[0] for it in instants]
    arrays = {"true2d": np.array(true2d)}
    for name in PART_NAMES:
        arrays[name] = np.concatenate(parts[name])
        arrays[f"{name}_error"] = np.concatenate(errors[name])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, **arrays)
    return arrays


def _nanmean(x: np.ndarray, axis: int) -> np.ndarray:
    count = np.isfinite(x).sum(axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, np.where(np.isfinite(x), x, 0).sum(axis) / np.maximum(count, 1), np.nan)


def per_part_view(arrays: dict, crops: list[int], crop_stat: str) -> np.ndarray:
    """(S, V, P) one number per part and view from its crops: ``mean`` or ``median`` of the crops' mean
    displacement, ``vector`` the mean length of the crops' mean displacement vectors, ``rms`` the root mean
    square over keypoints, ``exact`` the true per-part error (the ceiling of any refiner)."""
    out = []
    for name in PART_NAMES:
        d = arrays[name][:, :, crops]  # (S, V, C, K, 2)
        if crop_stat == "mean":
            f = np.linalg.norm(d, axis=-1).mean(-1).mean(-1)
        elif crop_stat == "median":
            f = np.median(np.linalg.norm(d, axis=-1).mean(-1), axis=-1)
        elif crop_stat == "vector":
            f = np.linalg.norm(d.mean(2), axis=-1).mean(-1)
        elif crop_stat == "rms":
            f = np.sqrt((np.linalg.norm(d, axis=-1) ** 2).mean(-1)).mean(-1)
        else:
            f = np.where(np.isfinite(d[:, :, 0, 0, 0]), arrays[f"{name}_error"], np.nan)
        out.append(f)
    return np.stack(out, -1)


def combine(f: np.ndarray, how: str, reference: np.ndarray) -> np.ndarray:
    """(S, V, P) -> (S,) scores. ``keypoints``: parts weighed by their keypoints per view, then the mean over
    views (the default); ``alike``: the plain mean (the score before issue 14); ``z-sum`` / ``z-max``: each part as
    a z-score against ``reference`` (P-column rows of other rigs), summed or the largest; ``ratio``: each part
    divided by its reference mean, summed."""
    if how == "alike":
        return _nanmean(f.reshape(len(f), -1), 1)
    if how == "keypoints":
        w = np.where(np.isfinite(f), PART_KEYPOINTS, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            view = np.where(w.sum(2) > 0, (np.where(np.isfinite(f), f, 0) * w).sum(2) / w.sum(2), np.nan)
        return _nanmean(view, 1)
    mean, std = np.nanmean(reference, 0), np.nanstd(reference, 0)
    part = _nanmean(f, 1)  # (S, P) mean over views
    if how == "ratio":
        return _nanmean(part / mean, 1)
    z = (part - mean) / std
    return _nanmean(z, 1) if how == "z-sum" else np.nanmax(np.where(np.isfinite(z), z, -np.inf), 1)


VARIANTS: dict[str, tuple[str, str, str]] = {
    "parts alike, mean over every crop (the score before)": ("corners 1.5 (default)", "mean", "alike"),
    "parts weighed by their keypoints (the default)": ("corners 1.5 (default)", "mean", "keypoints"),
    "  the same, median over the crops": ("corners 1.5 (default)", "median", "keypoints"),
    "  the same, length of the mean displacement vector": ("corners 1.5 (default)", "vector", "keypoints"),
    "  the same, root mean square over keypoints": ("corners 1.5 (default)", "rms", "keypoints"),
    "  the same, 8 crops (corners at 1.3 and 1.5)": ("corners 1.3 + 1.5", "mean", "keypoints"),
    "  the same, 17 crops": ("17 crops", "mean", "keypoints"),
    "  the same, the centred crop only": ("centre only", "mean", "keypoints"),
    "z-scores of the parts (other rigs' spread), summed": ("corners 1.5 (default)", "mean", "z-sum"),
    "z-scores of the parts, the largest": ("corners 1.5 (default)", "mean", "z-max"),
    "each part over its mean on the other rigs, summed": ("corners 1.5 (default)", "mean", "ratio"),
    "exact per-part errors, parts alike (ceiling)": ("corners 1.5 (default)", "exact", "alike"),
    "exact per-part errors, by keypoints (ceiling)": ("corners 1.5 (default)", "exact", "keypoints"),
}


def measure(rigs: dict[int, dict]) -> dict[str, dict[int, float]]:
    """Spearman of every variant on every seed; a normalising variant's reference is the other seeds' rigs."""
    layout = _crop_layout()
    out: dict[str, dict[int, float]] = {}
    for label, (crops, stat, how) in VARIANTS.items():
        feats = {seed: per_part_view(a, layout[crops], stat) for seed, a in rigs.items()}
        out[label] = {}
        for seed, arrays in rigs.items():
            others = [f.reshape(-1, len(PART_NAMES)) for s, f in feats.items() if s != seed] or [feats[seed]]
            reference = np.concatenate([o.reshape(-1, len(PART_NAMES)) for o in others])
            out[label][seed] = spearman(combine(feats[seed], how, reference), arrays["true2d"])
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="101,102,103,104,105,106,107,108", help="rig seeds (not 0)")
    parser.add_argument("--subjects", default="S1,S5,S6,S7,S8", help="training subjects of the checkpoints")
    parser.add_argument("--frames", type=int, default=24, help="instants per subject and seed (4 views each)")
    parser.add_argument("--rigs", type=Path, default=Path("var/ml/train-rigs"), help="rendered rigs (reused)")
    parser.add_argument("--cache", type=Path, default=Path("var/ml/score-weighting"), help="cached displacements")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    subjects = tuple(s.strip() for s in args.subjects.split(",") if s.strip())
    if not seeds or 0 in seeds or not subjects or args.frames < 2:
        parser.error("--seeds must name some and not 0 (the refiners' training rig), --frames be >= 2")
    checkpoints = {net: default_checkpoint(net) for net in ("face", "hand")}
    for net, path in checkpoints.items():
        unseen = [s for s in subjects if s not in trained_subjects(path)]
        if unseen:
            parser.error(f"the {net} refiner was not trained on {', '.join(unseen)}: a score is chosen on training "
                         "people only (tests.benchmarks.heldout measures it on the others)")  # fmt: skip
    refiners = {net: load_checkpoint(path, net) for net, path in checkpoints.items()}
    rigs = {}
    for seed in seeds:
        t0 = time.perf_counter()
        rig = rig_folder(args.rigs, subjects, args.frames, seed)
        rigs[seed] = rig_arrays(rig, refiners, args.cache / f"{rig.name}.npz")
        print(f"seed {seed}: {len(rigs[seed]['true2d'])} skeletons ({time.perf_counter() - t0:.0f} s)", flush=True)
    figures = measure(rigs)
    print(f"\nSpearman with the true face+hand 2D error, training people {', '.join(subjects)}, {len(seeds)} rigs of "
          f"{args.frames} instants each: mean ± sample std (min..max), then per seed")  # fmt: skip
    width = max(map(len, figures))
    for label, per_seed in figures.items():
        values = " ".join(f"{v:.3f}" for v in per_seed.values())
        print(f"  {label:{width}s}  {Spread.of(per_seed.values()).format(3):24s}  {values}")


if __name__ == "__main__":
    main()
