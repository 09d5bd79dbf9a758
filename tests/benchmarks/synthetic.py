"""Synthetic rig throughput: ``python -m tests.benchmarks.synthetic [--subjects S1 --frames 200 --workers 2]``.

Generates 4 views x FRAMES instants per subject into a temporary folder (progress bar while it
runs), imports it through the same importer as real data (ground truth and detections included)
into a fresh SQLite database, and prints the wall times, images per second and the realised error.
Target: 4 views x 200 frames, generation plus import, under 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from fixtures.synthetic import generate


def _import(out: Path) -> float:
    """Import the generated files into a fresh SQLite database; returns the seconds the import took."""
    os.environ["DATABASE_URL"] = f"sqlite:///{out / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "annotator.settings.test"
    import django
    from django.core.management import call_command

    django.setup()
    from annotator.services.imports import dataset_import_h3wb

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    dataset_import_h3wb(
        dataset_name="bench",
        annotations=out / "h3wb.json",
        images=out / "images",
        ground_truth=out / "ground_truth.json",
        detections=out / "detections.json",
        progress=True,
    )
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", default="S1", help="comma-separated subjects")
    parser.add_argument("--frames", type=int, default=200, help="instants per subject")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the generated folder")
    args = parser.parse_args(argv)
    subjects = tuple(s for s in args.subjects.split(",") if s)
    out = Path(tempfile.mkdtemp(prefix="bench-synthetic-"))
    try:
        t0 = time.perf_counter()
        manifest = generate(out, subjects=subjects, frames=args.frames, workers=args.workers, progress=True)
        seconds = time.perf_counter() - t0
        import_seconds = _import(out)
        images = manifest["num_samples"]
        size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
        print(f"\n{'subjects':<22}{','.join(subjects)}")
        print(f"{'instants x views':<22}{images // 4} x 4 = {images} images")
        print(f"{'generate (s)':<22}{seconds:.1f}")
        print(f"{'images / s':<22}{images / seconds:.1f}")
        print(f"{'import (s)':<22}{import_seconds:.1f}")
        print(f"{'generate + import (s)':<22}{seconds + import_seconds:.1f}  (target < 120)")
        errors = manifest["realised_error_mm"]
        print(f"{'dataset error (mm)':<22}" + ", ".join(f"{k} {v:.1f}" for k, v in errors.items()))
        print(f"{'output size (MB)':<22}{size_mb:.0f}")
        print(f"{'gross failures':<22}{len(manifest['gross_failures'])}")
        if args.keep:
            print(f"kept {out}")
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
