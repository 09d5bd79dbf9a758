"""``python manage.py train_refiner --part face|hand --dataset NAME``: train a keypoint refiner on trusted 2D.

Trusted 2D comes from ``annotator.selectors.quality.TRUSTED_2D_SOURCES``: the projected ground truth
on the synthetic rig (``--source ground_truth``), reviewed corrections (``accepted_corrections``), or
the pretrained model's confident faces and hands from ``detect_2d`` (``pretrained``, H3WB's recipe with
its off-the-shelf detector). Held-out means other people: the subjects named by ``--held-out-subjects``
(default S9, S11, Human3.6M's test subjects) are never trained on; the command prints the mean error of
the noisy input and of the refined keypoints on them, overall and per subject, and writes the checkpoint
atomically (nothing is written when anything fails) with the subjects it was and was not trained on.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotator.exceptions import ApplicationError
from annotator.selectors.datasets import dataset_get
from annotator.selectors.quality import TRUSTED_2D_SOURCES, refiner_training_views
from ml_services.checkpoints import default_checkpoint, save_checkpoint
from ml_services.config import HELD_OUT_SUBJECTS, REFINER_PARTS, RefinerConfig
from ml_services.data import extract_samples
from ml_services.device import DEVICE_CHOICES, select_device
from ml_services.images import load_rgb
from ml_services.train import train


class Command(BaseCommand):
    help = "Train the face or hand refinement network on a dataset with trusted 2D keypoints."

    def add_arguments(self, parser):
        parser.add_argument("--part", required=True, choices=REFINER_PARTS)
        parser.add_argument("--dataset", required=True, help="dataset name")
        parser.add_argument("--source", default="ground_truth", choices=sorted(TRUSTED_2D_SOURCES),
                            help="where the trusted 2D comes from")  # fmt: skip
        parser.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
        parser.add_argument("--epochs", type=int, default=RefinerConfig.epochs)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--held-out-subjects", default=",".join(HELD_OUT_SUBJECTS),
                            help="comma list of the people never trained on, evaluated on "
                                 "(default: %(default)s)")  # fmt: skip
        parser.add_argument("--out", type=Path, help="checkpoint path (default: the shipped one of the part)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")

    def handle(self, *args, **options):
        if options["epochs"] < 1:
            raise CommandError("--epochs must be at least 1")
        if options["seed"] < 0:
            raise CommandError("--seed must be a non-negative integer")
        held_out = tuple(s.strip() for s in options["held_out_subjects"].split(",") if s.strip())
        if not held_out:
            raise CommandError("--held-out-subjects must name at least one subject (held-out means other people)")
        progress = not options["no_progress"]
        out = options["out"] or default_checkpoint(options["part"])
        try:
            device = select_device(options["device"])
            dataset = dataset_get(name=options["dataset"])
            views = refiner_training_views(dataset=dataset, source=options["source"])
            config = RefinerConfig(part=options["part"], epochs=options["epochs"], seed=options["seed"],
                                   held_out_subjects=held_out)  # fmt: skip
            self.stdout.write(f"{len(views)} views of {dataset.name} with trusted 2D ({options['source']}); "
                              f"training the {config.part} refiner on {device}")  # fmt: skip
            bar = tqdm(views, desc="cropping", unit="view", disable=not progress)
            rows = ((load_rgb(v.image_path), v.points, v.start, v.frame_id, v.subject) for v in bar)
            samples = extract_samples(rows, config)
            model, report = train(samples, config, device, progress=progress)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        metrics = {"dataset": dataset.name, "source": options["source"], "train_subjects": report.train_subjects,
                   "held_out_subjects": report.held_out_subjects, "held_out_error_px": report.held_out_error_px,
                   "per_subject_error_px": report.per_subject_error_px, "train_samples": report.train_samples,
                   "held_out_samples": report.held_out_samples, "epochs": report.epochs,
                   "seconds": round(report.seconds, 1)}  # fmt: skip
        save_checkpoint(model, out, metrics)
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(f"wrote {out}")
