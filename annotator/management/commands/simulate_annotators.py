"""``python manage.py simulate_annotators``: complete a study's tasks with simulated annotators (needs ground truth).

Each open task is corrected through the same services the API uses (``correction_create``, then
``task_submit``): in every view it covers, keypoints drawn visibly off are dragged to the ground
truth's projection plus click noise. Thresholds and noise are in screen pixels at the zoom the editor
shows each part with (``annotator.services.studies.UI_ZOOM``: body 1.7x in an enlarged view, face
and hands 7x in the part focus). Defaults: threshold 3 screen px (about one keypoint marker) = 1.8
image px on the body and 0.43 px on face and hands; click noise 1.5 screen px per axis = 0.9 image
px on the body and 0.21 px on face and hands.
"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotator.exceptions import ApplicationError
from annotator.models import Study
from annotator.services.studies import (
    DEFAULT_CLICK_NOISE_SCREEN_PX,
    DEFAULT_THRESHOLD_SCREEN_PX,
    study_simulate_annotators,
)


class Command(BaseCommand):
    help = (
        "Complete a study's open tasks as careful annotators would: drag every keypoint drawn more than "
        "--threshold-px screen pixels off to the ground-truth projection plus --click-noise-px click noise, "
        "then submit. Needs ground truth (the synthetic rig)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", type=int, required=True, help="study id")
        parser.add_argument("--threshold-px", type=float, default=DEFAULT_THRESHOLD_SCREEN_PX,
                            help=f"visibly-off threshold, screen px at the part's zoom (default "
                                 f"{DEFAULT_THRESHOLD_SCREEN_PX})")  # fmt: skip
        parser.add_argument("--click-noise-px", type=float, default=DEFAULT_CLICK_NOISE_SCREEN_PX,
                            help=f"click noise per axis, screen px at the part's zoom (default "
                                 f"{DEFAULT_CLICK_NOISE_SCREEN_PX})")  # fmt: skip
        parser.add_argument("--seed", type=int, default=0, help="random seed of the click noise")
        parser.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")

    def handle(self, *args, **options):
        study = Study.objects.filter(pk=options["study"]).first()
        if study is None:
            raise CommandError(f"no study {options['study']}")
        bar = None if options["no_progress"] else tqdm(desc="tasks", unit="task")

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            report = study_simulate_annotators(
                study=study,
                threshold_px=options["threshold_px"],
                click_noise_px=options["click_noise_px"],
                seed=options["seed"],
                progress=progress if bar is not None else None,
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(str(report))
