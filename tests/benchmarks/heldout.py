"""ML figures on people the models never saw: ``python -m tests.benchmarks.heldout [--seeds 1,2,3,4,5]``.

For every rig seed, FRAMES instants of each unseen subject (default S9 and S11; refused when a refiner
checkpoint says it was trained on one of them) are rendered, and the benchmark measures, per seed and then
as mean ± sample std (min..max) over the seeds:

1. **Per-part error of a suggestion** (the editor's ``g``) started from the dataset skeleton's projection, in
   every view where the part's centre is in the image: the dataset input itself, the trained refiner
   (``ml_services.refine.refine_part``) and the pretrained model (``part_from_points``; where it finds the
   part, with the input error on those same views beside it, and how often it finds it). Per subject too.
2. **Multi-crop quality scores** of every dataset skeleton by each scorer (``--scorers``): Spearman
   correlation with the true face+hand error (2D px, the mean over views, and 3D mm), the same with every
   image replaced by uniform grey (what the score gets from the keypoints alone: chance if it reads the
   image), the Spearman of the same crops with the parts weighed alike (the score before issue 14), and how
   much keeping the best two-thirds by score lowers the mean true error (best-K reduction).
3. **Time per crop** of each scorer on this machine (CPU unless CUDA is present).

``--instants N`` measures only N evenly spaced instants of each subject per seed (same rigs, shorter run).
``--rigs DIR`` keeps the rendered rigs there (reused by the next run); ``--json PATH`` writes every figure.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from annotator import geometry, keypoints
from annotator.metrics import best_by_score, spearman
from ml_services.checkpoints import default_checkpoint, load_checkpoint
from ml_services.device import select_device
from ml_services.heldout import KEEP_FRACTION, SCORED_KEYPOINTS, Spread, require_unseen, true_errors
from ml_services.images import load_rgb
from ml_services.refine import refine_part
from ml_services.scoring import SCORED_PARTS, ScoringConfig, aggregate, score_views
from tests.ml_services.rig import read_instants

SCORERS = ("refiner", "pretrained")
#: Skeletons per scoring call (their 4 views each), as a scoring worker batches them.
BATCH = 16
GREY = 128


def rig_folder(root: Path, subjects: tuple[str, ...], frames: int, seed: int) -> Path:
    """The rig of one seed under ``root``, rendered unless a finished one of this generator is there."""
    from fixtures.synthetic import GENERATOR_VERSION, generate

    out = root / f"{'-'.join(subjects)}_f{frames}_s{seed}_v{GENERATOR_VERSION}"
    manifest = out / "manifest.json"
    if not (manifest.is_file() and json.loads(manifest.read_text()).get("generator_version") == GENERATOR_VERSION):
        generate(out, subjects=subjects, frames=frames, seed=seed, workers=2, progress=False)
    return out


def _in_image(points: np.ndarray, image: np.ndarray) -> bool:
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    return bool(np.isfinite(points).all() and 0 <= centre[0] < image.shape[1] and 0 <= centre[1] < image.shape[0])


def part_errors(instants: list[dict], refiners: dict, with_pretrained: bool) -> list[dict]:
    """One row per (instant, view, part) whose part is in the image: subject, part, input / refiner / pretrained px."""
    from ml_services.pretrained.parts import part_from_points

    rows = []
    for inst in instants:
        for cam, path in zip(inst["cameras"], inst["images"], strict=True):
            image = load_rgb(path)
            truth, start = geometry.project(cam, inst["world"]), geometry.project(cam, inst["dataset"])
            for part, net, idx, mirror in SCORED_PARTS:
                if not _in_image(start[idx], image):
                    continue
                gt = truth[idx]
                row = {"subject": inst["subject"], "part": part,
                       "input": float(np.linalg.norm(start[idx] - gt, axis=1).mean()),
                       "refiner": float(np.linalg.norm(refine_part(refiners[net], image, start[idx], mirror) - gt,
                                                       axis=1).mean()),
                       "pretrained": None}  # fmt: skip
                if with_pretrained:
                    answer = part_from_points(image, part, start)
                    if answer is not None:
                        members = keypoints.PARTS[part]
                        row["pretrained"] = float(np.linalg.norm(answer.points - truth[members], axis=1).mean())
                rows.append(row)
    return rows


def score_all(
    instants: list[dict], scorer: str, refiners: dict, grey: bool
) -> tuple[np.ndarray, float, int, np.ndarray]:
    """(S,) scores of the dataset skeletons, seconds spent scoring, crops scored, and the same (S,) scores with the
    parts weighed alike (``part_weighting="parts"``, the score before issue 14; the same crops, aggregated)."""
    from ml_services.pretrained.scoring import score_views_pretrained

    scores, seconds, crops, alike = [], 0.0, 0, []
    for lo in range(0, len(instants), BATCH):
        batch = instants[lo : lo + BATCH]
        points = np.stack([np.stack([geometry.project(c, it["dataset"]) for c in it["cameras"]]) for it in batch])
        images = [load_rgb(p) for it in batch for p in it["images"]]
        if grey:
            images = [np.full_like(img, GREY) for img in images]
        t0 = time.perf_counter()
        if scorer == "refiner":
            result = score_views(refiners, points, images, ScoringConfig())
        else:
            result = score_views_pretrained(points, images)
        seconds += time.perf_counter() - t0
        # A crop was run wherever its part could be cut (finite in the refiner's result; the pretrained model's
        # NaN also marks crops where it found nothing, so count the cuttable parts instead).
        crops += int(np.isfinite(score_views_cuttable(points, images)).sum()) * 4
        scores.append(result.score)
        alike.append(aggregate(result.per_crop, "parts").score)
    return np.concatenate(scores), seconds, crops, np.concatenate(alike)


def score_views_cuttable(points: np.ndarray, images: list[np.ndarray]) -> np.ndarray:
    """(S, V, P) 1.0 where part P of view V can be cut (finite, centre in the image), else NaN."""
    S, V = points.shape[:2]
    out = np.full((S, V, len(SCORED_PARTS)), np.nan)
    for s in range(S):
        for v in range(V):
            for p, (_, _, idx, _) in enumerate(SCORED_PARTS):
                if _in_image(points[s, v, idx], images[s * V + v]):
                    out[s, v, p] = 1.0
    return out


def ranking(scores: np.ndarray, err: np.ndarray) -> dict:
    """Spearman with the true error and the best-two-thirds reduction of its mean."""
    keep = np.isfinite(scores) & np.isfinite(err)
    kept = best_by_score(scores[keep], KEEP_FRACTION)
    everything = float(err[keep].mean()) if keep.any() else float("nan")
    best = float(err[keep][kept].mean()) if kept.size else float("nan")
    return {"spearman": spearman(scores, err), "all": everything, "kept": best,
            "reduction_pct": 100 * (1 - best / everything) if everything else float("nan"),
            "scored": int(keep.sum())}  # fmt: skip


def spaced(instants: list[dict], per_subject: int | None) -> list[dict]:
    """At most ``per_subject`` instants of each subject, evenly spaced over its frames (all when None).

    Spacing them keeps a shorter run spread over each subject's whole sequence instead of its first second.
    """
    if per_subject is None:
        return instants
    out = []
    for subject in dict.fromkeys(it["subject"] for it in instants):
        mine = [it for it in instants if it["subject"] == subject]
        picks = np.unique(np.linspace(0, len(mine) - 1, min(per_subject, len(mine))).round().astype(int))
        out.extend(mine[k] for k in picks)
    return out


def measure_seed(rig: Path, scorers: tuple[str, ...], refiners: dict, per_subject: int | None = None) -> dict:
    instants = spaced(read_instants(rig), per_subject)
    out: dict = {"skeletons": len(instants)}
    truth = np.array([true_errors(it["dataset"], it["world"], it["cameras"], SCORED_KEYPOINTS) for it in instants])
    subjects = np.array([it["subject"] for it in instants])
    out["true_2d_px"], out["true_3d_mm"] = float(truth[:, 0].mean()), float(truth[:, 1].mean())
    out["parts"] = part_errors(instants, refiners, "pretrained" in scorers)
    out["scorers"] = {}
    for scorer in scorers:
        scores, seconds, crops, alike = score_all(instants, scorer, refiners, grey=False)
        grey, _, _, _ = score_all(instants, scorer, refiners, grey=True)
        entry = {"2d": ranking(scores, truth[:, 0]), "3d": ranking(scores, truth[:, 1]),
                 "parts_alike_spearman_2d": spearman(alike, truth[:, 0]),
                 "grey_spearman_2d": spearman(grey, truth[:, 0]), "grey_scored": int(np.isfinite(grey).sum()),
                 "ms_per_crop": 1000 * seconds / max(crops, 1), "crops": crops,
                 "per_subject_spearman_2d": {s: spearman(scores[subjects == s], truth[subjects == s, 0])
                                             for s in sorted(set(subjects))}}  # fmt: skip
        out["scorers"][scorer] = entry
    return out


def _part_table(seeds: dict[int, dict], subjects: list[str]) -> list[str]:
    lines = [f"  {'part':11s} {'who':5s} {'dataset input':>24s} {'trained refiner':>24s} "
             f"{'pretrained (found)':>24s} {'input on those':>24s} {'found':>7s}"]  # fmt: skip
    for part, _, _, _ in SCORED_PARTS:
        for who in ["all", *subjects]:
            cols: dict[str, list] = defaultdict(list)
            for figures in seeds.values():
                rows = [r for r in figures["parts"] if r["part"] == part and who in ("all", r["subject"])]
                if not rows:
                    continue
                found = [r for r in rows if r["pretrained"] is not None]
                cols["input"].append(np.mean([r["input"] for r in rows]))
                cols["refiner"].append(np.mean([r["refiner"] for r in rows]))
                cols["found"].append(100 * len(found) / len(rows))
                if found:
                    cols["pretrained"].append(np.mean([r["pretrained"] for r in found]))
                    cols["input_found"].append(np.mean([r["input"] for r in found]))
            lines.append(f"  {part:11s} {who:5s} " + " ".join(
                f"{Spread.of(cols[k]).format():>24s}" for k in ("input", "refiner", "pretrained", "input_found"))
                + f" {Spread.of(cols['found']).mean:6.0f}%")  # fmt: skip
    return lines


def report(seeds: dict[int, dict], scorers: tuple[str, ...], subjects: list[str], device: torch.device) -> None:
    n = len(seeds)
    print(f"\n{n} seeds ({', '.join(map(str, seeds))}), unseen subjects {', '.join(subjects)}, "
          f"{sum(f['skeletons'] for f in seeds.values())} skeletons; every figure: mean ± sample std (min..max) "
          "over seeds")  # fmt: skip
    truth2d = Spread.of(f["true_2d_px"] for f in seeds.values())
    truth3d = Spread.of(f["true_3d_mm"] for f in seeds.values())
    print(f"true face+hand error of the dataset skeletons: 2D {truth2d.format()} px, 3D {truth3d.format(1)} mm")
    print("\n1. per-part error of a suggestion from the dataset skeleton's projection (px; views with the part in "
          "the image):")  # fmt: skip
    for line in _part_table(seeds, subjects):
        print(line)
    print("\n2. multi-crop quality score vs the true face+hand error of every dataset skeleton:")
    for scorer in scorers:
        entries = [f["scorers"][scorer] for f in seeds.values()]
        print(f"  {scorer}:")
        for dim, unit in (("2d", "px"), ("3d", "mm")):
            rho = Spread.of(e[dim]["spearman"] for e in entries)
            red = Spread.of(e[dim]["reduction_pct"] for e in entries)
            everything = Spread.of(e[dim]["all"] for e in entries)
            kept = Spread.of(e[dim]["kept"] for e in entries)
            print(f"    {dim.upper()} Spearman {rho.format(3)}; best two-thirds {kept.format()} {unit} vs all "
                  f"{everything.format()} {unit}: {red.format(1)} % lower")  # fmt: skip
        per = "; ".join(f"{s} {Spread.of(e['per_subject_spearman_2d'][s] for e in entries).format(3)}"
                        for s in subjects)  # fmt: skip
        print(f"    2D Spearman per subject: {per}")
        alike = Spread.of(e.get("parts_alike_spearman_2d") for e in entries)
        print(f"    2D Spearman with the parts weighed alike (the score before issue 14): {alike.format(3)}")
        print(f"    2D Spearman with uniform grey images: "
              f"{Spread.of(e['grey_spearman_2d'] for e in entries).format(3)} "
              f"({Spread.of(e['grey_scored'] for e in entries).mean:.0f} of "
              f"{Spread.of(f['skeletons'] for f in seeds.values()).mean:.0f} skeletons scorable)")  # fmt: skip
        per_seed = ", ".join(f"{s}: {f['scorers'][scorer]['2d']['spearman']:.3f}" for s, f in seeds.items())
        print(f"    2D Spearman per seed: {per_seed}")
    print(f"\n3. time per crop ({device}{'' if device.type == 'cuda' else ', no GPU in this run'}; "
          f"{torch.get_num_threads()} torch threads):")  # fmt: skip
    for scorer in scorers:
        ms = Spread.of(f["scorers"][scorer]["ms_per_crop"] for f in seeds.values())
        what = (f"batches of {BATCH} skeletons, 10 iterations per crop" if scorer == "refiner"
                else "one network call per crop")  # fmt: skip
        print(f"  {scorer:10s} {ms.format(2)} ms per crop ({what})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3,4,5", help="rig seeds (at least 5 for a spread worth quoting)")
    parser.add_argument("--subjects", default="S9,S11", help="unseen rig subjects")
    parser.add_argument("--frames", type=int, default=60, help="instants rendered per subject and seed (4 views each)")
    parser.add_argument("--instants", type=int, help="measure only this many of them per subject, evenly spaced "
                        "(a shorter run on the same rigs; default: all --frames)")  # fmt: skip
    parser.add_argument("--scorers", default=",".join(SCORERS), help=f"comma list of {', '.join(SCORERS)}")
    parser.add_argument("--face-checkpoint", type=Path, default=default_checkpoint("face"))
    parser.add_argument("--hand-checkpoint", type=Path, default=default_checkpoint("hand"))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--rigs", type=Path, help="keep the rendered rigs here and reuse them")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    subjects = tuple(s.strip() for s in args.subjects.split(",") if s.strip())
    scorers = tuple(s.strip() for s in args.scorers.split(",") if s.strip())
    if not seeds or not subjects or args.frames < 1 or set(scorers) - set(SCORERS) or not scorers:
        parser.error(f"--seeds and --subjects must name some, --frames be >= 1, --scorers be among {SCORERS}")
    if args.instants is not None and not 2 <= args.instants <= args.frames:
        parser.error(f"--instants must be between 2 and --frames ({args.frames}): a Spearman needs two skeletons")
    checkpoints = {"face": args.face_checkpoint, "hand": args.hand_checkpoint}
    try:
        require_unseen(subjects, checkpoints)
    except (FileNotFoundError, ValueError) as exc:
        parser.error(str(exc))
    device = select_device(args.device)
    refiners = {net: load_checkpoint(path, net, device) for net, path in checkpoints.items()}
    root = args.rigs or Path(tempfile.mkdtemp(prefix="bench-heldout-"))
    root.mkdir(parents=True, exist_ok=True)
    figures: dict[int, dict] = {}
    try:
        for seed in seeds:
            t0 = time.perf_counter()
            rig = rig_folder(root, subjects, args.frames, seed)
            figures[seed] = measure_seed(rig, scorers, refiners, args.instants)
            line = ", ".join(f"{s} Spearman 2D {figures[seed]['scorers'][s]['2d']['spearman']:.3f}" for s in scorers)
            print(f"seed {seed}: {figures[seed]['skeletons']} skeletons, {line} ({time.perf_counter() - t0:.0f} s)",
                  flush=True)  # fmt: skip
    finally:
        if args.rigs is None:
            shutil.rmtree(root, ignore_errors=True)
    report(figures, scorers, list(subjects), device)
    if args.json:
        args.json.write_text(json.dumps({"subjects": subjects, "frames": args.frames, "instants": args.instants,
                                         "device": str(device),
                                         "checkpoints": {k: str(v) for k, v in checkpoints.items()},
                                         "seeds": figures}, indent=1, default=float))  # fmt: skip
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
