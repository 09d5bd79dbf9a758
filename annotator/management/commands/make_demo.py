"""``python manage.py make_demo``: generate the synthetic rig (cached), import it, create demo users.

On the Human3.6M cameras (``--rig h36m``, the default) the generator writes files in the H3WB release
format and they go through ``import_h3wb``'s service like real data; on the 6-camera ring (``--rig
ring6``) it writes the generic multi-view format with an Anipose ``calibration.toml``, which goes
through ``import_dataset``'s service. Either way the demo is imported as real data is. On the ring,
``--layout coco-17`` writes the same people with the 17 COCO body keypoints (dataset
``synthetic-ring6-coco-17``); the Human3.6M rig's H3WB files are COCO-WholeBody only.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotator import h36m, keypoints, roles
from annotator.conf import option
from annotator.exceptions import ApplicationError
from annotator.models import Dataset
from annotator.names import path_under
from annotator.services.imports import dataset_import_h3wb
from annotator.services.multiview_imports import dataset_import_multiview
from annotator.services.tasks import tasks_create_for_annotator
from annotator.services.users import user_ensure

DEFAULT_SUBJECTS = ("S1", "S5", "S6", "S7", "S8")
#: The rigs the demo can be filmed by (``fixtures.synthetic.rigs.RIG_NAMES``, not imported here: the generator is
#: loaded only when the command runs).
RIGS = ("h36m", "ring6")
#: Instants per subject of the default demo: 5 subjects x 8 instants x 4 cameras = 160 images, so that the first
#: start serves within about a minute on a busy 2-core machine (rendering costs a few seconds per subject and
#: camera before the first image, then ~10 images/s; README "Two commands"). Five subjects keep held-out people
#: for the ML figures; ``--frames 40`` gives the 800-image demo (a 600-image cross-check fits in it).
DEFAULT_FRAMES = 8
#: Rendering processes by default: one per core, at most one per camera and subject pair that matters.
DEFAULT_WORKERS = max(1, min(os.cpu_count() or 1, 8))
#: The demo's accounts: (username, password, role). Printed after set-up; meant for 127.0.0.1 only.
DEMO_USERS = (
    ("annotator1", "demo-annotator1", roles.ANNOTATOR),
    ("annotator2", "demo-annotator2", roles.ANNOTATOR),
    ("reviewer", "demo-reviewer", roles.REVIEWER),
    ("admin", "demo-admin", roles.ADMIN),
)
#: Correction tasks each demo annotator gets, on frames nobody else has (seeded, so re-runs agree).
DEMO_TASKS_PER_ANNOTATOR = 8


def _subjects(text: str) -> tuple[str, ...]:
    names = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in names if s not in h36m.SUBJECTS]
    if not names or unknown:
        raise CommandError(f"--subjects must be a comma list of {', '.join(h36m.SUBJECTS)}; got {text!r}")
    return names


class Command(BaseCommand):
    help = "Generate the synthetic multi-view demo (cached under var/), import it and create demo users."

    def add_arguments(self, parser):
        parser.add_argument("--subjects", default=",".join(DEFAULT_SUBJECTS), help="comma list, e.g. S1,S5")
        parser.add_argument(
            "--frames", type=int, default=DEFAULT_FRAMES, help="instants per subject (one view per camera)"
        )
        parser.add_argument("--seed", type=int, default=0, help="random seed of the generator")
        parser.add_argument("--rig", choices=RIGS, default="h36m",
                            help="the cameras: h36m (the four Human3.6M cameras, H3WB files) or ring6 (six cameras "
                                 "on a circle, the generic format with an Anipose calibration)")  # fmt: skip
        parser.add_argument("--layout", default=keypoints.DEFAULT_LAYOUT.name,
                            help="keypoint layout of the dataset (a keypoints.LAYOUTS name: "
                                 f"{', '.join(lay.name for lay in keypoints.LAYOUTS.values())}); other than "
                                 f"{keypoints.DEFAULT_LAYOUT.name} needs a rig other than h36m")  # fmt: skip
        parser.add_argument("--dataset", default=None,
                            help="dataset to import into (default: synthetic-demo, or synthetic-<rig>, "
                                 "or synthetic-<rig>-<layout>)")  # fmt: skip
        parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                            help=f"rendering processes (default: one per core, here {DEFAULT_WORKERS})")  # fmt: skip
        parser.add_argument("--no-users", action="store_true", help="do not create the demo accounts")

    def handle(self, *args, **options):
        from fixtures.synthetic import FORMAT, GENERATOR_VERSION, generate
        from fixtures.synthetic.dataset import MULTIVIEW_FILE, layout_indices

        subjects = _subjects(options["subjects"])
        frames, seed = options["frames"], options["seed"]
        if frames < 1:
            raise CommandError("--frames must be at least 1")
        if seed < 0:
            raise CommandError("--seed must be a non-negative integer")
        rig = options["rig"]
        if rig not in RIGS:
            raise CommandError(f"--rig must be one of {', '.join(RIGS)}; got {rig!r}")
        try:
            layout = keypoints.layout_get(options["layout"])
        except keypoints.LayoutError as exc:
            raise CommandError(f"--layout: {exc}") from None
        if rig == "h36m" and layout is not keypoints.DEFAULT_LAYOUT:
            raise CommandError(
                f"--layout {layout.name} needs another rig (--rig ring6): the Human3.6M rig writes H3WB files, "
                f"which hold {keypoints.DEFAULT_LAYOUT.title} keypoints only"
            )
        try:
            layout_indices(layout)  # the synthetic people can be written in it (before anything is rendered)
        except ValueError as exc:
            raise CommandError(f"--layout: {exc}") from None
        other = "" if layout is keypoints.DEFAULT_LAYOUT else f"-{layout.name}"
        dataset_name = options["dataset"] or ("synthetic-demo" if rig == "h36m" else f"synthetic-{rig}{other}")
        key = f"{'-'.join(subjects)}_f{frames}_s{seed}_v{GENERATOR_VERSION}" + ("" if rig == "h36m" else f"_{rig}")
        key += other.replace("-", "_", 1)
        try:
            out = path_under(option("DATA_DIR"), Path("synthetic") / key, what="the synthetic rig")
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        manifest_path = out / "manifest.json"
        manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else None
        if (manifest and manifest.get("format") == FORMAT and manifest.get("generator_version") == GENERATOR_VERSION
                and manifest.get("rig", "h36m") == rig
                and manifest.get("layout_version", keypoints.LAYOUT_VERSION) == layout.version):  # fmt: skip
            self.stdout.write(f"using the cached synthetic rig in {out}")
        else:
            self.stdout.write(f"generating the synthetic rig into {out} ...")
            started = time.perf_counter()
            try:
                manifest = generate(
                    out, subjects=subjects, frames=frames, seed=seed, workers=options["workers"], rig=rig,
                    layout=layout.version,
                )  # fmt: skip
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            seconds = time.perf_counter() - started
            images = manifest["num_samples"]
            self.stdout.write(f"rendered {images} images in {seconds:.0f} s ({images / seconds:.1f} images/s, "
                              f"{options['workers']} processes)")  # fmt: skip
        errors = manifest["realised_error_mm"]
        self.stdout.write("dataset error vs ground truth (mm): " + ", ".join(f"{k} {v:.1f}" for k, v in errors.items()))

        try:
            if rig == "h36m":
                report = dataset_import_h3wb(
                    dataset_name=dataset_name,
                    annotations=out / "h3wb.json",
                    images=out / "images",
                    ground_truth=out / "ground_truth.json",
                    detections=out / "detections.json",
                    description=(
                        f"Synthetic whole-body people on the Human3.6M cameras: {', '.join(subjects)}, "
                        f"{frames} instants each, seed {seed}"
                    ),
                    source_format="synthetic",
                    progress=True,
                )
            else:
                report = dataset_import_multiview(
                    dataset_name=dataset_name,
                    path=out / MULTIVIEW_FILE,
                    description=(
                        f"Synthetic whole-body people on a {rig} rig (Anipose calibration), {layout.title} "
                        f"keypoints: {', '.join(subjects)}, {frames} instants each, seed {seed}"
                    ),
                    progress=True,
                )
        except ApplicationError as exc:
            raise CommandError(f"import failed, nothing was changed: {exc.message}") from None
        self.stdout.write(str(report))

        if not options["no_users"]:
            self.stdout.write("\ndemo accounts (sign in on the page the server prints below):")
            accounts = {}
            for username, password, role in DEMO_USERS:
                accounts[username], created = user_ensure(username=username, password=password, role=role)
                note = "" if created else "  (existing account, password unchanged)"
                self.stdout.write(f"  {role:<10} {username:<11} password: {password}{note}")

            dataset = Dataset.objects.get(name=dataset_name)
            admin = next(accounts[name] for name, _, role in DEMO_USERS if role == roles.ADMIN)
            annotators = [name for name, _, role in DEMO_USERS if role == roles.ANNOTATOR]
            for n, username in enumerate(annotators):
                created = tasks_create_for_annotator(
                    dataset=dataset, assignee=accounts[username], count=DEMO_TASKS_PER_ANNOTATOR, seed=seed + n,
                    created_by=admin,
                )  # fmt: skip
                self.stdout.write(f"  {username}: {len(created)} new correction tasks")
