"""Cross-check report of a 600-image study (about 80K keypoints): time ``study_report`` end to end.

Not a timed test: run ``python -m tests.benchmarks.crosscheck``. The script builds a temporary
SQLite database (migrate; 200 H3WB-format frames on the five Human3.6M rigs, 800 images; a ground
truth per frame; an image-mode study of 600 images for twelve annotators, 100 of them overlapping) and
submits every task through ``task_submit`` with a corrected skeleton (the dataset's plus H3WB-sized
displacements), then times the report: the queries that load the study, the arrays and the math.
It prints the median of ``--repeat`` runs and fails (exit 1) above ``TARGET_S``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent.parent
TARGET_S = 2.0
SUBJECTS = ("S1", "S5", "S6", "S7", "S8")
FRAMES_PER_SUBJECT = 40
ITEMS = 600
OVERLAP = 100
ANNOTATORS = 12
#: Per-axis standard deviation (mm) of the simulated corrections: about H3WB's 17 mm mean 3D error.
DISPLACEMENT_MM = 10.6


def _prepare(var_dir: Path):
    import django

    django.setup()
    from django.core.management import call_command

    from annotator import roles
    from annotator.models import Frame, Skeleton3D, Task
    from annotator.services.imports import dataset_import_h3wb
    from annotator.services.studies import study_create
    from annotator.services.tasks import task_submit
    from annotator.services.users import user_ensure
    from tests.h3wb_files import write_release

    call_command("migrate", verbosity=0)
    frames = [(s, "Walking 1", 10 * (i + 1)) for s in SUBJECTS for i in range(FRAMES_PER_SUBJECT)]
    written = write_release(var_dir / "release.json", frames)
    dataset_import_h3wb(dataset_name="bench", annotations=written.path)
    rng = np.random.default_rng(0)
    truths = []
    for frame in Frame.objects.prefetch_related("skeletons"):
        base = frame.skeletons.get(source=Skeleton3D.Source.DATASET)
        truth = base.keypoints + rng.normal(0.0, DISPLACEMENT_MM, size=base.keypoints.shape)
        truths.append(Skeleton3D(frame=frame, version=base.version + 1, source="ground_truth", keypoints=truth))
    Skeleton3D.objects.bulk_create(truths)
    names = [f"bench{i}" for i in range(ANNOTATORS)]
    for name in names:
        user_ensure(username=name, password="bench-password-123", role=roles.ANNOTATOR)
    study = study_create(
        name="bench", dataset="bench", subjects=None, n_items=ITEMS - OVERLAP, mode="image", seed=0, annotators=names,
        per_item=1,
    )  # fmt: skip
    # Overlap for the agreement table: a second annotator on OVERLAP more items.
    overlap = study_create(
        name="bench-overlap", dataset="bench", subjects=None, n_items=OVERLAP // 2, mode="image", seed=1,
        annotators=names, per_item=2,
    )  # fmt: skip
    overlap.tasks.update(study=study)
    for task in Task.objects.filter(study=study).select_related("base_skeleton", "assignee"):
        moved = task.base_skeleton.keypoints + rng.normal(0.0, DISPLACEMENT_MM, size=task.base_skeleton.keypoints.shape)
        Task.objects.filter(pk=task.pk).update(current_keypoints=moved)
        task_submit(task=task, user=task.assignee, base_revision=task.revision)
    return study


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-crosscheck-") as tmp:
        var_dir = Path(tmp)
        os.environ["DATABASE_URL"] = f"sqlite:///{var_dir / 'bench.sqlite3'}"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings.test")
        sys.path.insert(0, str(ROOT))
        t0 = time.perf_counter()
        study = _prepare(var_dir)
        print(f"set-up: {time.perf_counter() - t0:.1f} s")
        from annotator.selectors.studies import study_frames, study_report

        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            report = study_report(study=study)
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        study_frames(study=study, camera="54138969", sort="worst")
        frames_s = time.perf_counter() - t
    median = statistics.median(times)
    parts = report["parts"]
    print(
        f"study: {report['n_tasks']} tasks, {report['n_views']} images, {parts['all']['n_keypoints']} keypoints, "
        f"{report['agreement']['n_items'] if report['agreement'] else 0} items with two annotators"
    )
    print(f"report: median {median:.3f} s over {args.repeat} runs (min {min(times):.3f}, max {max(times):.3f}); "
          f"frames table {frames_s:.3f} s; target < {TARGET_S:.1f} s")  # fmt: skip
    print("mean 3D mm: " + ", ".join(f"{p} {parts[p]['mean_3d_mm']:.2f}" for p in parts))
    return 0 if median < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
