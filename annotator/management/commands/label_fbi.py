"""``python manage.py label_fbi --dataset NAME``: forward/backward/unknown labels of every bone of a dataset's
skeletons in every view, from 3D (``annotator.fbi.skeleton_labels``), stored as ``FBIAutoLabels``.

By default the chunks (frames) run here with a progress bar; a rerun continues an unfinished job and
finds nothing to do in a finished one. With ``--enqueue`` the chunks become django-tasks tasks for the
workers (``manage.py db_worker``, or ``rqworker`` with Redis), as the dashboard's button does.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from annotator import fbi, keypoints
from annotator.exceptions import ApplicationError, NotFoundError
from annotator.models import Job
from annotator.selectors import dataset_get
from annotator.selectors.jobs import job_result_summary
from annotator.services.fbi_labels import ALL_SOURCES, DEFAULT_CHUNK_FRAMES, SOURCE_CHOICES, fbi_label_job_start
from annotator.services.jobs import job_run_local
from annotator.tasks import job_enqueue


class Command(BaseCommand):
    help = (
        "Label every bone of a dataset's skeletons (--source) in every view as forward, backward or unknown "
        "(tilted less than --unknown-tilt degrees), from 3D; resumable; --enqueue hands the chunks to the workers."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="dataset name")
        parser.add_argument("--source", choices=SOURCE_CHOICES, default=ALL_SOURCES,
                            help="which skeleton versions to label (default: all)")  # fmt: skip
        parser.add_argument("--bones", choices=keypoints.ALL_BONE_SUBSETS, default="",
                            help=f"bone subset of the dataset's layout (default the layout's: "
                                 f"{keypoints.DEFAULT_BONE_SUBSET}, 14 body bones)")  # fmt: skip
        parser.add_argument("--unknown-tilt", type=float, default=fbi.DEFAULT_UNKNOWN_TILT_DEG,
                            help=f"unknown below this tilt (default {fbi.DEFAULT_UNKNOWN_TILT_DEG:g} deg)")  # fmt: skip
        parser.add_argument("--chunk-frames", type=int, default=DEFAULT_CHUNK_FRAMES, help="frames per chunk")
        parser.add_argument("--enqueue", action="store_true", help="hand the chunks to the task workers")
        parser.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")

    def handle(self, *args, **options):
        try:
            dataset = dataset_get(name=options["dataset"])
            job, resumed = fbi_label_job_start(dataset=dataset, source=options["source"], bones=options["bones"],
                                               unknown_tilt_deg=options["unknown_tilt"],
                                               chunk_frames=options["chunk_frames"])  # fmt: skip
        except (ApplicationError, NotFoundError) as exc:
            raise CommandError(exc.message) from None
        verb = "resuming" if resumed else "created"
        self.stdout.write(f"{verb} job #{job.pk}: {job.params['skeletons']} {options['source']} skeletons, "
                          f"{job.params['bones']} bones, in {job.progress_total} chunks "
                          f"({job.progress_done} done)")  # fmt: skip
        if options["enqueue"]:
            n = job_enqueue(job=job)
            self.stdout.write(f"enqueued {n} chunk tasks; `python manage.py db_worker` (or rqworker) runs them")
            return
        t0 = time.perf_counter()
        try:
            job = job_run_local(job=job, progress=not options["no_progress"])
        except Exception as exc:
            raise CommandError(f"labelling stopped (rerun to continue; finished chunks are kept): {exc}") from None
        seconds = time.perf_counter() - t0
        if job.status != Job.Status.DONE:
            raise CommandError(f"job #{job.pk} is {job.status}: {job.error or 'chunks are held by other workers'}")
        totals = {key: 0 for key in ("skeleton_views", "forward", "backward", "unknown")} | job_result_summary(job=job)
        kinds = ("forward", "backward", "unknown")
        n = max(sum(totals[k] for k in kinds), 1)
        self.stdout.write(
            f"{totals['skeleton_views']} skeleton-views labelled ({seconds:.2f} s this run); bone labels: "
            + ", ".join(f"{k} {100 * totals[k] / n:.1f}%" for k in kinds)
        )
