"""``python manage.py lift_multiview``: H3WB step 1, 3D skeletons from multi-view 2D detections."""

from django.core.management.base import BaseCommand, CommandError

from annotator import geometry, lifting, selectors
from annotator.exceptions import ApplicationError
from annotator.services.skeletons import skeletons_lift_multiview


class Command(BaseCommand):
    help = (
        "Triangulate each frame's per-view 2D detections robustly into a 'triangulated' skeleton version "
        "(each keypoint needs agreeing views that include a non-opposing pair) and report H3WB's statistics."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--detector", help="which detections to use when a dataset has several")
        parser.add_argument("--min-score", type=float, default=lifting.DEFAULT_MIN_SCORE)
        parser.add_argument("--threshold-px", type=float, default=geometry.DEFAULT_THRESHOLD_PX)
        parser.add_argument("--redo", action="store_true", help="add a new version even where one exists")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        try:
            dataset = selectors.dataset_get(name=options["dataset"])
            report = skeletons_lift_multiview(
                dataset=dataset,
                detector=options["detector"],
                min_score=options["min_score"],
                threshold_px=options["threshold_px"],
                redo=options["redo"],
                progress=not options["no_progress"],
            )
        except (ApplicationError, ValueError) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from None
        self.stdout.write(str(report))
