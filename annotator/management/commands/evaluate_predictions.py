"""``python manage.py evaluate_predictions``: the H3WB benchmark table of 3D predictions, exactly as the official
evaluator computes it, against an official answer file or a version of an imported dataset."""

import json

from django.core.management.base import BaseCommand, CommandError

from annotator.evaluation import CV_FOLDS, TASKS, evaluate_predictions, format_text
from annotator.exceptions import ApplicationError
from annotator.exporters.versions import NAMED_VERSIONS
from annotator.selectors.datasets import dataset_get


class Command(BaseCommand):
    help = (
        "Evaluate 3D predictions in the H3WB submission format ({sample id: {keypoints_3d: {joint: {x, y, z}}}}, mm) "
        "against an official answer file (--ground-truth: 2Dto3D_test_3d.json, I2Dto3D_test_3d.json, "
        "RGBto3D_test_3d.json, task1_test_3d.npz, ..., or a training file for a cross-validation fold), read without "
        "importing it, or against a version of a dataset (--dataset). The numbers are the official test_score's: "
        "MPJPE whole body / body / face / hands (pelvis-aligned), face on the nose, hands on their roots; plus "
        "PAFUSE's part frames and PA-MPJPE, per subject where known and overall."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names the skeleton version here: it replaces Django's built-in --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--predictions", required=True, help="predictions JSON file")
        reference = parser.add_mutually_exclusive_group(required=True)
        reference.add_argument("--ground-truth", help="official answer file (JSON or npz), read without importing it")
        reference.add_argument("--dataset", help="dataset name: evaluate against one of its skeleton versions")
        parser.add_argument("--task", choices=TASKS,
                            help="2d, i2d or rgb (default: from the predictions' path, as the official evaluator: "
                                 "RGB, I2D, 2D or taskN in it; 2d when none)")  # fmt: skip
        parser.add_argument(
            "--cv",
            type=int,
            choices=range(CV_FOLDS + 1),
            help="cross-validation fold 1..5 of the training file (default: cvK in the path; 0 none)",
        )
        parser.add_argument("--version", dest="skeleton_version", default="dataset",
                            help=f"with --dataset: {', '.join(NAMED_VERSIONS)} or a version number")  # fmt: skip
        parser.add_argument("--format", dest="output", choices=("text", "json"), default="text")

    def handle(self, *args, **options):
        try:
            dataset = dataset_get(name=options["dataset"]) if options["dataset"] else None
            report = evaluate_predictions(predictions=options["predictions"], dataset=dataset,
                                          ground_truth=options["ground_truth"], version=options["skeleton_version"],
                                          task=options["task"], fold=options["cv"])  # fmt: skip
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(json.dumps(report, indent=2) if options["output"] == "json" else format_text(report))
