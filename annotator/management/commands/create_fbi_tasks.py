"""``python manage.py create_fbi_tasks``: FBI (forward/backward bone label) tasks on sampled frames or a study's frames.

Frames with a dataset skeleton are drawn reproducibly (``--frames N --seed S``), or taken from a
cross-check study (``--study ID``: the same frames people corrected, so corrections and FBI answers
can be compared); each goes to ``--per-frame`` of the ``--annotators``. Atomic: bad input creates nothing.
"""

from django.core.management.base import BaseCommand, CommandError

from annotator import keypoints
from annotator.exceptions import ApplicationError
from annotator.models import Dataset, Study
from annotator.services.fbi import fbi_tasks_create


class Command(BaseCommand):
    help = "Create FBI labelling tasks on --frames random frames of --dataset (or on --study's frames)."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", help="dataset name (with --frames)")
        parser.add_argument("--frames", type=int, help="frames to sample")
        parser.add_argument("--seed", type=int, default=0, help="random seed of the sample")
        parser.add_argument("--study", type=int, help="use this study's frames instead of a sample")
        parser.add_argument("--annotators", required=True, help="comma list of usernames")
        parser.add_argument("--per-frame", type=int, default=1, help="annotators per frame (for agreement)")
        parser.add_argument("--bones", choices=keypoints.ALL_BONE_SUBSETS, default="",
                            help=f"bone subset of the dataset's layout asked (default the layout's: "
                                 f"{keypoints.DEFAULT_BONE_SUBSET})")  # fmt: skip

    def handle(self, *args, **options):
        study = dataset = None
        if options["study"] is not None:
            study = Study.objects.filter(pk=options["study"]).first()
            if study is None:
                raise CommandError(f"no study {options['study']}")
        else:
            if not options["dataset"] or options["frames"] is None:
                raise CommandError("name --study, or --dataset and --frames")
            dataset = Dataset.objects.filter(name=options["dataset"]).first()
            if dataset is None:
                raise CommandError(f"no dataset named {options['dataset']!r}")
        annotators = [s.strip() for s in options["annotators"].split(",") if s.strip()]
        try:
            tasks = fbi_tasks_create(annotators=annotators, dataset=dataset, n_frames=options["frames"],
                                     seed=options["seed"], study=study, per_frame=options["per_frame"],
                                     bones=options["bones"])  # fmt: skip
        except ApplicationError as exc:
            raise CommandError(f"no task was created: {exc.message}") from None
        frames = len({t.frame_id for t in tasks})
        bones = tasks[0].bones if tasks else options["bones"] or "no"
        self.stdout.write(f"{len(tasks)} FBI tasks ({bones} bones) on {frames} frames for "
                          f"{', '.join(annotators)}")  # fmt: skip
