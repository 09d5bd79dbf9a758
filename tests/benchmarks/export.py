"""Export throughput and memory: ``python -m tests.benchmarks.export [--samples N] [--database PATH]``.

Builds (or reuses, with ``--database``) a dataset of N samples (N/4 instants x 4 cameras, 5 subjects) through
``dataset_import_h3wb`` from a generated release file, then runs each export in a fresh process and prints
its time and peak RSS (``resource.getrusage``): the whole dataset and one subject (a fifth of it). Memory
is flat when both peaks are about the same. Target: 100,000 samples in under 20 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SUBJECTS = ["S1", "S5", "S6", "S7", "S8"]


def _setup(database: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "annotator.settings.test"
    import django

    django.setup()


def build(database: Path, samples: int) -> None:
    _setup(database)
    import json

    import numpy as np
    from django.core.management import call_command

    from annotator.services.imports import dataset_import_h3wb
    from tests.h3wb_files import release_json

    call_command("migrate", verbosity=0, run_syncdb=True)
    frames = [(SUBJECTS[i % 5], f"Action {i % 16}", i) for i in range(samples // 4)]
    t0 = time.perf_counter()
    data, _ = release_json(frames, np.random.default_rng(0))
    path = database.parent / "release.json"
    with path.open("w") as fh:
        json.dump(data, fh)
    del data
    dataset_import_h3wb(dataset_name="bench", annotations=path)
    path.unlink()
    print(f"built {samples} samples in {time.perf_counter() - t0:.1f} s")


def run_export(database: Path, fmt: str, subjects: str, out: Path, workers: int) -> None:
    _setup(database)
    from annotator.exporters import write_export
    from annotator.models import Dataset

    t0 = time.perf_counter()
    summary = write_export(dataset=Dataset.objects.get(name="bench"), fmt=fmt, version="dataset", out=out,
                           subjects=subjects.split(",") if subjects else None, workers=workers)  # fmt: skip
    seconds = time.perf_counter() - t0
    # ru_maxrss survives execve on Linux (it would show the parent's peak); VmHWM is this process image's own.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    hwm = Path("/proc/self/status")
    own_mb = next((int(line.split()[1]) / 1024 for line in hwm.read_text().splitlines() if line.startswith("VmHWM")),
                  float("nan")) if hwm.exists() else float("nan")  # fmt: skip
    rate = summary.samples / seconds
    print(f"{fmt:<16}{subjects or 'all':<8}{workers:>8}{summary.samples:>10}{seconds:>10.2f}{rate:>12,.0f}"
          f"{summary.size_bytes / 1e6:>10.0f}{peak_mb:>10.0f}{own_mb:>10.0f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000, help="number of samples (multiple of 20)")
    parser.add_argument("--database", type=Path, help="reuse (or create) this SQLite file")
    parser.add_argument("--workers", default="1", help="comma list of rendering process counts to time")
    parser.add_argument("--run", nargs=4, metavar=("FORMAT", "SUBJECTS", "OUT", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_export(args.database, args.run[0], args.run[1], Path(args.run[2]), int(args.run[3]))
        return
    workdir = Path(tempfile.mkdtemp(prefix="bench-export-"))
    database = args.database or workdir / "bench.sqlite3"
    if not database.exists():
        build(database, args.samples)
    print(f"{'format':<16}{'subjects':<8}{'workers':>8}{'samples':>10}{'seconds':>10}{'samples/s':>12}{'MB':>10}"
          f"{'maxrss MB':>10}{'VmHWM MB':>10}")  # fmt: skip
    for workers in [int(w) for w in args.workers.split(",")]:
        for fmt in ("h3wb", "coco-wholebody", "h3wb-npz"):
            for subjects in ("S1", ""):
                suffix = ".npz" if fmt == "h3wb-npz" else ".json"  # the npz holds its arrays in memory until close
                out = workdir / f"export-{fmt}-{subjects or 'all'}{suffix}"
                cmd = [sys.executable, "-m", "tests.benchmarks.export", "--database", str(database), "--run", fmt,
                       subjects, str(out), str(workers)]  # fmt: skip
                subprocess.run(cmd, check=True)
                out.unlink()
                out.with_suffix(".provenance.json").unlink()


if __name__ == "__main__":
    main()
