"""A simulated cross-check end to end on the synthetic rig: ``python -m tests.benchmarks.simulated_study``.

Renders (or reuses, ``--rig DIR``) a rig of ``--subjects`` x ``--frames`` instants (4 views each), imports it with
its ground truth into a temporary SQLite database, and runs the default perceiving annotator
(``annotator.simulation.PerceivingAnnotator()``: COCO-WholeBody spread, 3 screen px threshold) through the
correction services on a study of ``--images`` images in image mode and one of ``--images / 4`` frames (the same
number of images) in frame mode. Prints, per mode: measured/true per part, the design-bias table, the
calibration warnings, the sensitivity table (measured/true of the whole body and of the body over thresholds x
spreads) and how long simulating, the report and the sensitivity table took. These are the figures the README
quotes; nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PARTS = ("all", "body", "face", "hand")


def _setup(var_dir: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings.test")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _rig(path: Path | None, subjects: tuple[str, ...], frames: int, workers: int) -> Path:
    from fixtures.synthetic import generate

    if path is not None and (path / "manifest.json").is_file():
        return path
    out = path or Path(tempfile.mkdtemp(prefix="bench-rig-"))
    generate(out, subjects=subjects, frames=frames, seed=0, workers=workers, progress=True)
    return out


def _row(values: dict) -> str:
    return "  ".join(f"{p} {values[p]:.3f}" if values[p] is not None else f"{p} -" for p in PARTS)


def _run(mode: str, n_items: int, names: list[str], seed: int) -> None:
    from annotator import simulation
    from annotator.selectors.studies import study_report, study_sensitivity
    from annotator.services.simulated_annotators import study_simulate_annotators
    from annotator.services.studies import study_create

    study = study_create(name=f"bench-{mode}", dataset="rig", subjects=None, n_items=n_items, mode=mode, seed=0,
                         annotators=names)  # fmt: skip
    t0 = time.perf_counter()
    out = study_simulate_annotators(study=study, annotator=simulation.PerceivingAnnotator(), seed=seed)
    simulate_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = study_report(study=study, sensitivity=False)
    report_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    sens = study_sensitivity(study=study)
    sens_s = time.perf_counter() - t0
    truth = report["ground_truth"]
    ins = report["instrument"]
    n_images = report["n_views"]
    print(f"\n=== {mode} mode: {report['n_tasks']} tasks, {n_images} images, {report['parts']['all']['n_keypoints']} "
          f"keypoints; default perceiving annotator (threshold 3 screen px, COCO-WholeBody spread x1) ===")  # fmt: skip
    print(f"simulated in {simulate_s:.0f} s: {out}")
    print(f"report {report_s:.2f} s, sensitivity table {sens_s:.2f} s ({len(sens['thresholds_px'])} x "
          f"{len(sens['noise_scales'])} replays)")  # fmt: skip
    print("true 3D mm:      " + _row({p: truth[p]["mean_3d_mm"] for p in PARTS}))
    print("measured 3D mm:  " + _row({p: truth[p]["measured_3d_mm"] for p in PARTS}))
    print("measured / true: " + _row({p: truth[p]["measured_over_true"] for p in PARTS}))
    print("residual 3D mm:  " + _row({p: truth[p]["residual_3d_mm"] for p in PARTS}))
    print("measured 2D px:  " + _row({p: report["parts"][p]["mean_2d_px"] for p in PARTS}))
    print("corrected in one view only: " + _row({p: ins["bias"]["parts"][p]["single_view_share"] for p in PARTS}))
    cal = ins["calibration"]
    ratios = {p: [a["parts"][p]["sigma_ratio"] for a in cal["annotators"] if a["parts"][p]["sigma_ratio"]]
              for p in PARTS}  # fmt: skip
    spread = "  ".join(f"{p} {min(v):.2f}-{max(v):.2f}" for p, v in ratios.items() if v)
    print(f"annotators' spread / COCO-WholeBody's: {spread}; {len(cal['warnings'])} warnings")
    if sens.get("at_study"):
        print("replay at the study's own parameters: " + _row(sens["at_study"]["parts"]))
    for part in ("all", "body"):
        print(f"sensitivity, {part}: measured/true by threshold (rows, screen px) x spread (columns, x sigma)")
        print("        " + "".join(f"{n:>8g}" for n in sens["noise_scales"]))
        for t, row in zip(sens["thresholds_px"], sens["parts"][part], strict=True):
            print(f"  {t:>5g} " + "".join(f"{v:8.3f}" for v in row))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rig", type=Path, help="rig directory (rendered there once, reused after)")
    parser.add_argument("--subjects", default="S1,S5,S6,S7,S8")
    parser.add_argument("--frames", type=int, default=40, help="instants per subject")
    parser.add_argument("--images", type=int, default=600, help="images per study (frame mode: images / 4 frames)")
    parser.add_argument("--annotators", type=int, default=8)
    parser.add_argument("--modes", default="image,frame")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated placement noise")
    parser.add_argument("--workers", type=int, default=2, help="rendering processes")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-simulated-") as tmp:
        _setup(Path(tmp))
        t0 = time.perf_counter()
        rig = _rig(args.rig, tuple(args.subjects.split(",")), args.frames, args.workers)
        from annotator.services.imports import dataset_import_h3wb
        from annotator.services.users import user_ensure

        dataset_import_h3wb(dataset_name="rig", annotations=rig / "h3wb.json", ground_truth=rig / "ground_truth.json",
                            images=rig / "images")  # fmt: skip
        names = [f"sim{i}" for i in range(args.annotators)]
        for name in names:
            user_ensure(username=name, password="bench-password-123", role="annotator")
        print(f"rig {rig} ({args.subjects}, {args.frames} instants each) ready in {time.perf_counter() - t0:.0f} s")
        for mode in args.modes.split(","):
            _run(mode, args.images if mode == "image" else args.images // 4, names, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
