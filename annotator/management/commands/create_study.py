"""``python manage.py create_study``: sample a cross-check study from a dataset and create its tasks (atomic)."""

from django.core.management.base import BaseCommand, CommandError

from annotator.exceptions import ApplicationError
from annotator.models import Study
from annotator.services.studies import study_create


def _names(text: str) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


class Command(BaseCommand):
    help = (
        "Create a cross-check study: sample --items frames (--mode frame) or images (--mode image) of a dataset "
        "reproducibly from --seed, and give each to --per-item of the --annotators as a correction task. "
        "Atomic: bad input creates nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="dataset name")
        parser.add_argument("--name", required=True, help="study name (a slug, unique)")
        parser.add_argument("--subjects", default="", help="comma list, e.g. S1,S5 (default: all subjects)")
        parser.add_argument("--items", type=int, required=True, help="frames or images to sample")
        parser.add_argument("--mode", choices=Study.Mode.values, default=Study.Mode.IMAGE, help="frame or image")
        parser.add_argument("--seed", type=int, default=0, help="random seed of the sample")
        parser.add_argument("--annotators", required=True, help="comma list of usernames")
        parser.add_argument("--per-item", type=int, default=1, help="annotators per item (overlap for agreement)")
        parser.add_argument("--honeypots", type=int, default=0, help="extra items with known ground truth")

    def handle(self, *args, **options):
        try:
            study = study_create(
                name=options["name"],
                dataset=options["dataset"],
                subjects=_names(options["subjects"]),
                n_items=options["items"],
                mode=options["mode"],
                seed=options["seed"],
                annotators=_names(options["annotators"]),
                per_item=options["per_item"],
                n_honeypots=options["honeypots"],
            )
        except ApplicationError as exc:
            raise CommandError(f"no study was created: {exc.message}") from None
        self.stdout.write(
            f"study {study.pk} ({study.name}): {study.n_items} {study.mode} items + {study.n_honeypots} honeypots, "
            f"{study.tasks.count()} tasks for {', '.join(sorted(u.username for u in study.annotators.all()))}"
        )
