"""``python manage.py import_dataset``: import the generic multi-view format with its rig (atomic, idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from annotator import camera_formats
from annotator.exceptions import ApplicationError
from annotator.services.multiview_imports import dataset_import_multiview


class Command(BaseCommand):
    help = (
        "Import a file of the generic multi-view format (JSON Lines: a header line naming the layout, units, 2D "
        "convention and rig, then one frame per line with per-view image paths, optional 2D and optional 3D) and "
        "its rig's calibration (Anipose calibration.toml, OpenCV-style JSON/YAML, or the Human3.6M preset). Says what "
        "it read. Atomic: a malformed file changes nothing. Idempotent: importing the same file twice adds nothing. "
        "H3WB release files go through import_h3wb."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the .jsonl file of frames")
        parser.add_argument("--dataset", required=True, help="dataset name (created if it does not exist)")
        parser.add_argument("--images", help="directory the views' image paths are relative to (default: the "
                                             "header's images, relative to the file)")  # fmt: skip
        parser.add_argument("--rig", help="the calibration file (default: the one the header names)")
        parser.add_argument("--rig-format", choices=list(camera_formats.FORMATS),
                            help="the calibration's format (default: the header's, else by its ending)")  # fmt: skip
        parser.add_argument("--rig-units", choices=list(camera_formats.UNITS),
                            help="units of the calibration's translations (default: the header's units)")  # fmt: skip
        parser.add_argument("--description", default="", help="free text shown with the dataset")
        parser.add_argument("--no-progress", action="store_true", help="do not draw progress bars")

    def handle(self, *args, **options):
        try:
            report = dataset_import_multiview(
                dataset_name=options["dataset"],
                path=options["path"],
                images=options["images"],
                rig=options["rig"],
                rig_format=options["rig_format"],
                rig_units=options["rig_units"],
                description=options["description"],
                progress=not options["no_progress"],
            )
        except ApplicationError as exc:
            raise CommandError(f"import failed, nothing was changed: {exc.message}") from None
        self.stdout.write(str(report))
