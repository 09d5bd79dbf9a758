"""``python manage.py export_dataset``: write a dataset version as H3WB JSON, COCO-WholeBody JSON, H3WB npz or the
generic multi-view format."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotator.exceptions import ApplicationError
from annotator.exporters import FORMATS, write_export
from annotator.exporters.versions import NAMED_VERSIONS
from annotator.selectors.datasets import dataset_get

#: Rendering processes by default: none. Spawning and pickling cost more than they save on a 2-core machine
#: (tests/benchmarks/export.py); try --workers on bigger ones.
DEFAULT_WORKERS = 1


class Command(BaseCommand):
    help = (
        "Export a dataset version as H3WB JSON (the release layout; keys are the source sample ids unless "
        "--renumber), COCO-WholeBody JSON (ids from 1), H3WB npz (the PAFUSE / mmpose training layout) or the generic "
        "multi-view format (JSON Lines, its rig file beside it; import_dataset reads it back), with a "
        "provenance.json side file. 2D is written in the dataset's own convention. Writes to a temporary file "
        "beside --out and renames it at the end: a failed export leaves nothing at --out."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names the skeleton version here: it replaces Django's built-in --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="dataset name")
        parser.add_argument("--format", required=True, choices=FORMATS, help="output format")
        parser.add_argument("--version", dest="skeleton_version", default="latest-accepted",
                            help=f"{', '.join(NAMED_VERSIONS)} or a skeleton version number")  # fmt: skip
        parser.add_argument("--out", required=True, help="output file (.json; .npz for h3wb-npz, .jsonl for multiview)")
        parser.add_argument("--renumber", action="store_true",
                            help="number the H3WB keys 0, 1, ... (default: keep the source sample ids)")  # fmt: skip
        parser.add_argument("--subjects", default="", help="comma list, e.g. S1,S5 (default: all)")
        parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                            help=f"processes rendering the JSON text (default {DEFAULT_WORKERS}; 1: none)")  # fmt: skip
        parser.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")

    def handle(self, *args, **options):
        subjects = [s.strip() for s in options["subjects"].split(",") if s.strip()] or None
        bar = tqdm(unit="sample", desc="exporting", disable=options["no_progress"])

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            dataset = dataset_get(name=options["dataset"])
            summary = write_export(dataset=dataset, fmt=options["format"], version=options["skeleton_version"],
                                   out=options["out"], subjects=subjects, progress=progress,
                                   workers=max(1, options["workers"]), renumber=options["renumber"])  # fmt: skip
        except ApplicationError as exc:
            raise CommandError(f"export failed, nothing was written: {exc.message}") from None
        finally:
            bar.close()
        self.stdout.write(
            f"wrote {summary.samples} samples of {summary.frames} frames to {summary.path} "
            f"({summary.size_bytes / 1e6:.1f} MB); provenance: {summary.provenance} "
            f"({summary.noted_keypoints} corrected or re-triangulated keypoints)"
        )
