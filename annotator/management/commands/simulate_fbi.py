"""``python manage.py simulate_fbi``: answer open FBI tasks as HEMlets-like people would (needs ground truth).

Each open FBI task of ``--study`` (its frames) or ``--dataset`` is answered through the same services as
the browser (``fbi_answers_create``, then ``fbi_task_submit``): the true label of each bone comes from
the frame's ground truth, ``annotator.fbi.simulate_labels`` with the default ``LabellerModel`` adds
errors and skips by tilt (7.4% errors above 30 degrees, many skips below 20), and each answer records
plausible seconds. Reproducible with ``--seed``.
"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotator.exceptions import ApplicationError
from annotator.models import Dataset, Study
from annotator.selectors.fbi import fbi_open_tasks
from annotator.services.fbi import fbi_simulate_labellers


class Command(BaseCommand):
    help = "Answer and submit the open FBI tasks of --study or --dataset with simulated HEMlets-like labellers."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--study", type=int, help="study id: the FBI tasks on its frames")
        group.add_argument("--dataset", help="dataset name: all its open FBI tasks")
        parser.add_argument("--seed", type=int, default=0, help="random seed of the simulated answers")
        parser.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")

    def handle(self, *args, **options):
        if options["study"] is not None:
            study = Study.objects.filter(pk=options["study"]).first()
            if study is None:
                raise CommandError(f"no study {options['study']}")
            tasks = fbi_open_tasks(study=study)
        else:
            dataset = Dataset.objects.filter(name=options["dataset"]).first()
            if dataset is None:
                raise CommandError(f"no dataset named {options['dataset']!r}")
            tasks = fbi_open_tasks(dataset=dataset)
        bar = None if options["no_progress"] else tqdm(total=len(tasks), desc="FBI tasks", unit="task")
        try:
            report = fbi_simulate_labellers(
                tasks=tasks, seed=options["seed"], progress=(lambda done, total: bar.update(1)) if bar else None
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(str(report))
