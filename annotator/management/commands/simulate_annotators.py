"""``python manage.py simulate_annotators``: complete a study's open tasks with simulated annotators.

Two annotator models (``annotator.simulation`` documents both): ``perceiving`` (the default) sees what a
person at the editor would see (keypoints hidden in the view by the rig's depth buffer, or outside the
part's crop at its focus zoom, are left alone or flagged occluded, never moved), places keypoints with
COCO-WholeBody's published human spread (``--noise-scale`` x the per-keypoint sigmas x the object scale)
and only drags what is more than ``--threshold-px`` screen px off at its zoom; it needs ground truth.
``pretrained`` takes the pretrained whole-body model's prediction on each image as where a keypoint belongs
(stored ``detect_2d`` output, or the model run now); it needs images, not ground truth. Every drop goes
through the correction service; each run is recorded and shown on the study's report.
"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotator import simulation
from annotator.exceptions import ApplicationError
from annotator.models import Study
from annotator.services.simulated_annotators import study_simulate_annotators

ANNOTATORS = ("perceiving", "pretrained")


class Command(BaseCommand):
    help = (
        "Complete a study's open tasks with simulated annotators: 'perceiving' (sees only what a person could see, "
        "COCO-WholeBody placement spread; needs ground truth) or 'pretrained' (the pretrained model's prediction "
        "on the image). Each drop is a correction through the services; the run is recorded on the report."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", type=int, required=True, help="study id")
        parser.add_argument("--annotator", choices=ANNOTATORS, default="perceiving", help="annotator model")
        threshold = simulation.DEFAULT_THRESHOLD_SCREEN_PX
        parser.add_argument("--threshold-px", type=float, default=threshold,
                            help="drag a keypoint drawn more than this many screen px (at its part's focus "
                                 f"zoom) from where it belongs (default {threshold:g})")  # fmt: skip
        parser.add_argument("--noise-scale", type=float, default=simulation.DEFAULT_NOISE_SCALE,
                            help="perceiving: placement spread as a multiple of COCO-WholeBody's sigmas "
                                 f"(default {simulation.DEFAULT_NOISE_SCALE:g}: published human spread)")  # fmt: skip
        parser.add_argument(
            "--occluded",
            choices=simulation.OCCLUDED_POLICIES,
            default="leave",
            help="perceiving: leave keypoints the camera does not see, or flag them occluded",
        )
        parser.add_argument("--min-score", type=float, default=simulation.DEFAULT_MIN_SCORE,
                            help=f"pretrained: predictions scored below this are unseen "
                                 f"(default {simulation.DEFAULT_MIN_SCORE:g})")  # fmt: skip
        parser.add_argument("--seed", type=int, default=0, help="random seed of the placement noise")
        parser.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")

    def handle(self, *args, **options):
        study = Study.objects.filter(pk=options["study"]).first()
        if study is None:
            raise CommandError(f"no study {options['study']}")
        try:
            if options["annotator"] == "perceiving":
                annotator = simulation.PerceivingAnnotator(threshold_px=options["threshold_px"],
                                                           noise_scale=options["noise_scale"],
                                                           occluded=options["occluded"])  # fmt: skip
            else:
                annotator = simulation.ModelAnnotator(threshold_px=options["threshold_px"],
                                                      min_score=options["min_score"])  # fmt: skip
        except ValueError as exc:
            raise CommandError(f"nothing was simulated: {exc}") from None
        bar = None if options["no_progress"] else tqdm(desc="tasks", unit="task")

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            report = study_simulate_annotators(study=study, annotator=annotator, seed=options["seed"],
                                               progress=progress if bar is not None else None)  # fmt: skip
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(str(report))
