"""The pretrained whole-body model: ``python -m tests.benchmarks.pretrained [--frames 6 --subjects S9,S11]``.

Prints two things:

1. Time per crop on this machine's CPU for each network (person detector, pose, face mesh, hand), the
   median of ``--repeats`` runs after a warm-up, and the time of one whole ``detect_wholebody`` call
   (detector, two body passes, face and both hands with their second passes) per view.
2. Its error on the synthetic rig, per part (a gauge of how photo-like the rig is): FRAMES instants of
   unseen subjects are rendered, the model runs on every view, and for each part the share of views where
   it found the part and the mean distance (px) of the found keypoints from the projected ground truth.
   The same figure with left and right swapped is printed beside it: a photograph-trained model reads the
   person's own left and right, so a rig whose people are mirror images shows up there.

``--figure PATH`` also writes the model's keypoints over scikit-image's astronaut photograph (face points
numbered), the picture the face mapping was checked on. ``--rig DIR`` reuses a generated rig.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from annotator import keypoints
from annotator.h3wb_format import JOINT_KEYS
from ml_services.images import load_rgb
from ml_services.pretrained import detect_wholebody, pipeline
from ml_services.pretrained.assets import TEST_PHOTOS, asset_path
from ml_services.pretrained.crops import Roi, cut
from ml_services.pretrained.runtime import network

PARTS: tuple[str, ...] = ("body", "feet", "face", "left_hand", "right_hand")


def time_networks(image: np.ndarray, repeats: int) -> dict[str, float]:
    """Median ms per crop of each network (cutting the crop included)."""
    out = {}
    roi = Roi(image.shape[1] / 2, image.shape[0] / 2, float(min(image.shape[:2])))
    for name in (pipeline.PERSON_NET, pipeline.POSE_NET, pipeline.FACE_NET, pipeline.HAND_NET):
        net = network(name)
        times = []
        for i in range(repeats + 1):
            t0 = time.perf_counter()
            net.run(cut(image, roi, net.input_size)[None])
            if i:
                times.append(1000 * (time.perf_counter() - t0))
        out[name] = statistics.median(times)
    return out


def rig_errors(rig: Path, limit: int | None) -> tuple[dict[str, list], dict[str, list], dict[str, int], int, float]:
    """Per part: mean errors as labelled and with left/right swapped, views where found; views; s per view."""
    release = json.loads((rig / "h3wb.json").read_text())
    truth = json.loads((rig / "ground_truth.json").read_text())
    errors: dict[str, list] = {p: [] for p in PARTS}
    swapped: dict[str, list] = {p: [] for p in PARTS}
    found = dict.fromkeys(PARTS, 0)
    ids = list(release)[:limit]
    seconds = 0.0
    for sid in ids:
        gt = np.array([[truth[sid]["keypoints_2d"][k][a] for a in "xy"] for k in JOINT_KEYS])
        image = load_rgb(rig / "images" / release[sid]["image_path"])
        t0 = time.perf_counter()
        out = detect_wholebody(image)
        seconds += time.perf_counter() - t0
        for part in PARTS:
            idx = keypoints.PARTS[part]
            ok = out[idx, 2] > 0
            if not ok.any():
                continue
            found[part] += 1
            errors[part].append(np.linalg.norm(out[idx][ok, :2] - gt[idx][ok], axis=1).mean())
            mirrored = keypoints.FLIP_INDEX[idx]  # what a left/right swap calls this keypoint
            swapped[part].append(np.linalg.norm(out[idx][ok, :2] - gt[mirrored][ok], axis=1).mean())
    return errors, swapped, found, len(ids), seconds / max(len(ids), 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=6, help="instants per subject to render (4 views each)")
    parser.add_argument("--subjects", default="S9,S11", help="rig subjects (unseen by the shipped refiners)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--rig", type=Path, help="an already generated rig folder")
    parser.add_argument("--figure", type=Path, help="write the astronaut figure here")
    args = parser.parse_args(argv)

    photo = load_rgb(asset_path(TEST_PHOTOS, "astronaut.png"))
    print(f"time per crop on the CPU (median of {args.repeats}; ai-edge-litert with its XNNPACK CPU delegate):")
    for name, ms in time_networks(photo, args.repeats).items():
        size = network(name).input_size
        print(f"  {name:28s} {size:4d} x {size:<4d} {ms:7.1f} ms")
    times = []
    for i in range(6):
        t0 = time.perf_counter()
        detect_wholebody(photo)
        if i:
            times.append(1000 * (time.perf_counter() - t0))
    print(f"  detect_wholebody, astronaut 512 x 512: {statistics.median(times):.0f} ms per image (median of 5)")
    if args.figure:
        from ml_services.pretrained.figure import overview_and_face

        overview_and_face(photo, detect_wholebody(photo)).save(args.figure)
        print(f"wrote {args.figure}")

    tmp = None
    if args.rig is None:
        from fixtures.synthetic import generate

        tmp = Path(tempfile.mkdtemp(prefix="bench-pretrained-"))
        generate(tmp, subjects=tuple(args.subjects.split(",")), frames=args.frames, seed=args.seed, workers=2,
                 progress=False)  # fmt: skip
    rig = args.rig or tmp
    try:
        errors, swapped, found, views, per_view = rig_errors(rig, None)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nsynthetic rig ({args.subjects}, {views} views, seed {args.seed}): {per_view * 1000:.0f} ms per view")
    print(f"  {'part':11s} {'found in':>9s} {'mean px (as labelled)':>22s} {'mean px (left/right swapped)':>29s}")
    for part in PARTS:
        e, s = errors[part], swapped[part]
        fmt = lambda v: f"{np.mean(v):.1f} (median {np.median(v):.1f})" if v else "-"  # noqa: E731
        print(f"  {part:11s} {found[part]:4d}/{views:<4d} {fmt(e):>22s} {fmt(s):>29s}")


if __name__ == "__main__":
    main()
