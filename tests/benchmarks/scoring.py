"""Multi-crop scoring throughput: ``python -m tests.benchmarks.scoring [--frames 24 --batch 16 --device auto]``.

Generates FRAMES instants of S1 on the synthetic rig into a temporary folder, then scores every
dataset skeleton with the shipped face and hand refiners exactly as a worker does (JPEG decoding,
projection into the 4 views, 12 corner crops per view, 10 refinement iterations) in batches of
BATCH skeletons, and prints skeletons per second. Pass ``--rig DIR`` to reuse a generated rig.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from annotator import geometry, h36m
from annotator.h3wb_format import JOINT_KEYS
from ml_services.checkpoints import default_checkpoint, load_checkpoint
from ml_services.device import select_device
from ml_services.images import load_rgb
from ml_services.scoring import score_views


def _instants(out: Path) -> list[tuple[np.ndarray, list, list[Path]]]:
    release = json.loads((out / "h3wb.json").read_text())
    items = []
    for k in range(len(release) // 4):
        samples = [release[str(4 * k + c)] for c in range(4)]
        rig = h36m.rig(samples[0]["image_path"].split("/")[0])
        cams = [rig[c] for c in h36m.CAMERA_IDS]
        kp = np.array([[samples[0]["keypoints_3d"][j][a] for a in "xyz"] for j in JOINT_KEYS])
        items.append((kp @ cams[0].R, cams, [out / "images" / s["image_path"] for s in samples]))
    return items


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24, help="instants of S1 to generate (4 views each)")
    parser.add_argument("--batch", type=int, default=16, help="skeletons per scoring call")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--rig", type=Path, help="an already generated rig folder")
    args = parser.parse_args(argv)
    device = select_device(args.device)
    tmp = None
    if args.rig is None:
        from fixtures.synthetic import generate

        tmp = Path(tempfile.mkdtemp(prefix="bench-scoring-"))
        generate(tmp, subjects=("S1",), frames=args.frames, seed=0, workers=2, progress=True)
    out = args.rig or tmp
    try:
        refiners = {p: load_checkpoint(default_checkpoint(p), p, device) for p in ("face", "hand")}
        items = _instants(out)
        t0 = time.perf_counter()
        t_images = 0.0
        for lo in range(0, len(items), args.batch):
            batch = items[lo : lo + args.batch]
            points = np.stack([np.stack([geometry.project(c, world) for c in cams]) for world, cams, _ in batch])
            t1 = time.perf_counter()
            images = [load_rgb(p) for _, _, paths in batch for p in paths]
            t_images += time.perf_counter() - t1
            score_views(refiners, points, images)
        seconds = time.perf_counter() - t0
        print(f"device {device} ({torch.get_num_threads()} threads), batch {args.batch} skeletons "
              f"({args.batch * 4} views, {args.batch * 48} crops per call)")  # fmt: skip
        print(f"scored {len(items)} skeletons in {seconds:.1f} s: {len(items) / seconds:.1f} skeletons/s "
              f"({t_images:.1f} s of it decoding JPEGs)")  # fmt: skip
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
