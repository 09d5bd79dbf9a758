"""``python manage.py evaluate_predictions``: the H3WB benchmark table of 3D predictions against a dataset version."""

import json

from django.core.management.base import BaseCommand, CommandError

from annotator.evaluation import TASKS, evaluate_predictions, format_text
from annotator.exceptions import ApplicationError
from annotator.exporters.versions import NAMED_VERSIONS
from annotator.selectors.datasets import dataset_get


class Command(BaseCommand):
    help = (
        "Evaluate 3D predictions in the H3WB submission format ({sample id: {keypoints_3d: {joint: {x, y, z}}}}, mm) "
        "against a version of a dataset: MPJPE whole body / body / face / hands (pelvis-aligned), face on the nose, "
        "hands on their roots, PAFUSE's part frames and PA-MPJPE, per subject and overall."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names the skeleton version here: it replaces Django's built-in --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="dataset name")
        parser.add_argument("--predictions", required=True, help="predictions JSON file")
        parser.add_argument("--task", choices=TASKS, help="which samples must be predicted (default: from the name)")
        parser.add_argument("--version", dest="skeleton_version", default="dataset",
                            help=f"reference: {', '.join(NAMED_VERSIONS)} or a version number")  # fmt: skip
        parser.add_argument("--format", dest="output", choices=("text", "json"), default="text")

    def handle(self, *args, **options):
        try:
            report = evaluate_predictions(dataset=dataset_get(name=options["dataset"]),
                                          predictions=options["predictions"], version=options["skeleton_version"],
                                          task=options["task"])  # fmt: skip
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(json.dumps(report, indent=2) if options["output"] == "json" else format_text(report))
