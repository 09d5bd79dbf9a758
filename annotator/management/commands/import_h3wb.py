"""``python manage.py import_h3wb``: import any H3WB release file (JSON or npz) into a dataset (atomic, idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from annotator.exceptions import ApplicationError
from annotator.services.imports import dataset_import_h3wb


class Command(BaseCommand):
    help = (
        "Import an H3WB release file into a dataset: RGBto3D_train.json, RGBto3D_test_3d.json, RGBto3D_test_img.json "
        "(frames without skeletons), 2Dto3D_train.json and its parts, 2Dto3D_test_3d.json, I2Dto3D_test_3d.json "
        "(without images: subject and camera recovered from each sample's 2D and 3D), h3wb_train.npz, "
        "task1/2_test_3d.npz. The kind is recognised by content and reported. Groups the views of one instant into "
        "one frame, recovers world coordinates, checks the views agree and detects the 2D convention (pinhole or "
        "distorted). Atomic: a malformed file changes nothing. Idempotent: importing the same file twice adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--annotations", required=True, help="an H3WB release file, JSON or npz (kind by content)")
        parser.add_argument("--dataset", required=True, help="dataset name (created if it does not exist)")
        parser.add_argument("--images", help="directory the samples' image_path values are relative to")
        parser.add_argument("--keypoints-2d",
                            help="aligned H3WB 2D file with the same sample ids (2Dto3D_train.json beside "
                                 "RGBto3D_train.json; a *_test_2d.json beside its *_test_3d.json)")  # fmt: skip
        parser.add_argument("--ground-truth", help="side file with the true keypoints_3d per sample (synthetic rig)")
        parser.add_argument("--detections", help="side file with detector keypoints_2d and scores per sample")
        parser.add_argument("--description", default="", help="free text shown with the dataset")
        parser.add_argument("--source-format", default="h3wb", help="where the data came from (h3wb, synthetic, ...)")
        parser.add_argument("--no-progress", action="store_true", help="do not draw progress bars")

    def handle(self, *args, **options):
        try:
            report = dataset_import_h3wb(
                dataset_name=options["dataset"],
                annotations=options["annotations"],
                images=options["images"],
                keypoints_2d=options["keypoints_2d"],
                ground_truth=options["ground_truth"],
                detections=options["detections"],
                description=options["description"],
                source_format=options["source_format"],
                progress=not options["no_progress"],
            )
        except ApplicationError as exc:
            raise CommandError(f"import failed, nothing was changed: {exc.message}") from None
        self.stdout.write(str(report))
