"""Precision and recall of the probable-depth-error list on unseen rigs: ``python -m tests.benchmarks.fbi_flags``.

For several rig seeds (unseen people S9 and S11, ``--frames`` instants each, every bone of the whole-body tree
answered in all four views by ``--labellers`` simulated people with the default ``LabellerModel``), prints:

* per bone group and tilt bin (of the dataset bone), the precision and recall of flags that need
  ``min_agreeing`` people against the skeleton and none with it (the default policy's rule, without its group,
  length and tilt limits): where flags can be trusted;
* the default policy (``annotator.fbi.DEFAULT_FLAG_POLICY``) and the rule before it (one person, the 14
  HEMlets bones, tilt over 30 degrees): precision and recall, mean and spread over seeds;
* whether ``annotator.fbi.FLAG_CALIBRATION`` (what the dashboard shows) agrees with what was measured.

Exit 1 when the default's mean precision is under 0.5 (the promise) or the recorded calibration is off by more
than two standard deviations.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from annotator import fbi, keypoints
from tests.annotator.fbi_rig import UNSEEN_SUBJECTS, fbi_rig, flags, precision_recall

PROMISE = 0.5
#: The rule before the calibration: any confident answer against a HEMlets body bone tilted over 30 degrees (the
#: benchmark keeps the 14 HEMlets bones of the body group).
OLD_POLICY = fbi.FlagPolicy(groups=("body",), length_mm=(0.0, 1e9), tilt_deg=(30.0, 90.0), min_agreeing=1)
#: Tilt bins of the table (of the dataset bone; confident labels start at 10 degrees).
BINS = ((10.0, 20.0), (20.0, 30.0), (30.0, 90.0))


def _fmt(values: list[float | None]) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "   -          "
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} ± {sd:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="rig seeds (100, 101, ...)")
    parser.add_argument("--frames", type=int, default=150, help="instants per subject and seed")
    parser.add_argument("--labellers", type=int, default=2, help="people answering each bone")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    policy = fbi.DEFAULT_FLAG_POLICY
    rule = fbi.FlagPolicy(groups=fbi.BONE_GROUPS, length_mm=(0.0, 1e9), tilt_deg=(0.0, 90.0),
                          min_agreeing=policy.min_agreeing)  # fmt: skip
    cells: dict[tuple[str, int], list[tuple]] = {}
    default, old = [], []
    for seed in range(100, 100 + args.seeds):
        rigs = [fbi_rig(s, args.frames, seed, labellers=args.labellers) for s in UNSEEN_SUBJECTS]
        rig = type(rigs[0])(**{k: np.concatenate([getattr(r, k) for r in rigs], axis=-1) for k in rigs[0].__dict__})
        flagged = flags(rig, rule)
        for group in fbi.BONE_GROUPS:
            for b, (lo, hi) in enumerate(BINS):
                cell = (rig.group == group) & (rig.tilt >= lo) & (rig.tilt < hi if hi < 90 else rig.tilt <= 90)
                cells.setdefault((group, b), []).append(precision_recall(rig, flagged & cell, within=cell))
        default.append(precision_recall(rig, flags(rig, policy)))
        hemlets = np.isin(rig.child, keypoints.bones("hemlets14")[:, 1])
        old.append(precision_recall(rig, flags(rig, OLD_POLICY) & hemlets))
    seconds = time.perf_counter() - t0
    print(f"{args.seeds} unseen rigs (seeds 100-{99 + args.seeds}; {', '.join(UNSEEN_SUBJECTS)}; {args.frames} "
          f"instants each), {args.labellers} simulated labellers per bone (default LabellerModel), "
          f"{seconds:.1f} s")  # fmt: skip
    print(
        f"\nflags with >= {policy.min_agreeing} people against the skeleton and none with it, by bone group and "
        "tilt of the dataset bone: precision | recall | flags per seed (mean ± sd over seeds)"
    )
    for group in fbi.BONE_GROUPS:
        for b, (lo, hi) in enumerate(BINS):
            rows = cells[(group, b)]
            label = f"{lo:g}-{hi:g}" if hi < 90 else f"> {lo:g}"
            print(f"  {group:5s} {label:>6s} deg: precision {_fmt([r[0] for r in rows])} | recall "
                  f"{_fmt([r[1] for r in rows])} | {statistics.fmean(r[2] for r in rows):7.0f}")  # fmt: skip
    print(f"\ndefault policy {policy.as_dict()}:")
    n_flags = statistics.fmean(r[2] for r in default)
    print(f"  precision {_fmt([r[0] for r in default])}, recall {_fmt([r[1] for r in default])} (of every real "
          f"depth error among the answered bones), {n_flags:.0f} flags per seed")  # fmt: skip
    print(f"before (one person, body bones, tilt > 30 deg): precision {_fmt([r[0] for r in old])}, recall "
          f"{_fmt([r[1] for r in old])}, {statistics.fmean(r[2] for r in old):.0f} flags per seed")  # fmt: skip
    precision = [r[0] for r in default if r[0] is not None]
    recall = [r[1] for r in default if r[1] is not None]
    mean_p, sd_p = statistics.fmean(precision), statistics.stdev(precision) if len(precision) > 1 else 0.0
    recorded = fbi.FLAG_CALIBRATION
    print(f"recorded in annotator.fbi.FLAG_CALIBRATION: precision {recorded['precision'][0]:.3f} ± "
          f"{recorded['precision'][1]:.3f}, recall {recorded['recall'][0]:.3f} ± {recorded['recall'][1]:.3f} over "
          f"{recorded['seeds']} seeds; measured now: precision ({mean_p:.3f}, {sd_p:.3f}), recall "
          f"({statistics.fmean(recall):.3f}, {statistics.stdev(recall) if len(recall) > 1 else 0.0:.3f})")  # fmt: skip
    ok = mean_p >= PROMISE and abs(recorded["precision"][0] - mean_p) <= 2 * max(sd_p, 0.01)
    print(f"promise (mean precision >= {PROMISE}) {'met' if mean_p >= PROMISE else 'NOT met'}; recorded figure "
          f"{'agrees' if ok else 'DISAGREES'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
