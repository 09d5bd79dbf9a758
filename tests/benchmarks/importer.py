"""Importer throughput: ``python -m tests.benchmarks.importer [--samples N]``.

Writes an H3WB release file of N samples (N/4 instants x 4 cameras) in the exact release format,
imports it into a fresh SQLite database (or DATABASE_URL) and prints samples per second for the
read and the write, and for the whole import. Target: 100,000 samples well under a minute.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000, help="number of samples (multiple of 4)")
    parser.add_argument("--cache", default="var/bench", help="folder that keeps the generated file between runs")
    args = parser.parse_args()
    if args.samples < 4 or args.samples % 4:
        parser.error("--samples must be a positive multiple of 4")

    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "annotator.settings.test"
    import django

    django.setup()
    import json

    import numpy as np
    from django.core.management import call_command

    from annotator.importers.h3wb import read_samples
    from annotator.services.imports import dataset_import_h3wb
    from tests.h3wb_files import release_json

    call_command("migrate", verbosity=0)
    subjects = ["S1", "S5", "S6", "S7", "S8"]
    n_frames = args.samples // 4
    frames = [(subjects[i % 5], f"Action {i % 16}", i) for i in range(n_frames)]
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"RGBto3D_bench_{args.samples}.json"
    if path.is_file():
        print(f"using the cached release file {path}")
    else:
        t0 = time.perf_counter()
        data, _ = release_json(frames, np.random.default_rng(0))
        with path.open("w") as fh:
            json.dump(data, fh)
        del data
        print(f"wrote {args.samples} samples in {time.perf_counter() - t0:.1f} s")
    print(f"release file: {path.stat().st_size / 1e6:.0f} MB, full-precision floats")

    t0 = time.perf_counter()
    read_samples(path)
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = dataset_import_h3wb(dataset_name="bench", annotations=path, progress=True)
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    dataset_import_h3wb(dataset_name="bench", annotations=path)
    t_again = time.perf_counter() - t0

    print()
    print(f"{'step':<32}{'seconds':>10}{'samples/s':>14}")
    for label, seconds in [("read + parse only", t_read), ("full import (read+check+write)", t_import),
                           ("re-import (idempotent no-op)", t_again)]:  # fmt: skip
        print(f"{label:<32}{seconds:>10.2f}{args.samples / seconds:>14,.0f}")
    print(f"\nframes created: {report.frames_created}, views: {report.views_created}, "
          f"database: {os.environ['DATABASE_URL'].split(':')[0]}")  # fmt: skip


if __name__ == "__main__":
    main()
