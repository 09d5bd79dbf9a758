"""``python manage.py detect_2d --dataset NAME``: the pretrained whole-body model on every view's image.

H3WB step 1 on real images: per-view whole-body (COCO-WholeBody) detections (detector ``mediapipe-0.10.14``) that
``lift_multiview --detector mediapipe-0.10.14`` then triangulates. The job is chunked and resumable like
``score_quality``: by default its chunks run here with a progress bar, a rerun continues an unfinished
job, and ``--enqueue`` hands the chunks to the task workers. A view whose image is missing or cannot be
read, or whose person box lies off the image, is skipped and listed at the end; the others go on.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from annotator.exceptions import ApplicationError
from annotator.models import Job, JobChunk
from annotator.selectors.datasets import dataset_get
from annotator.selectors.detections import BOX_SOURCES, detection_job_report
from annotator.services.jobs import job_run_local
from annotator.tasks import job_enqueue
from ml_services.detection_tasks import DEFAULT_CHUNK_SIZE, detection_job_start

#: Skipped views listed one by one at most (the rest are counted).
SHOWN_SKIPPED = 20


class Command(BaseCommand):
    help = "Detect the whole-body keypoints in every view of a dataset with the pretrained model (resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="dataset name")
        parser.add_argument("--box-from", choices=BOX_SOURCES,
                            help="look only inside the box of this skeleton version projected into each view "
                                 "(default: the model's own person detector)")  # fmt: skip
        parser.add_argument("--missing-only", action="store_true",
                            help="only the views without a detection of this model yet (say, those a finished job "
                                 "skipped, once their images are fixed)")  # fmt: skip
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, help="views per chunk")
        parser.add_argument("--enqueue", action="store_true", help="hand the chunks to the task workers")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        try:
            dataset = dataset_get(name=options["dataset"])
            job, resumed = detection_job_start(dataset=dataset, chunk_size=options["chunk_size"],
                                               box_from=options["box_from"],
                                               missing_only=options["missing_only"])  # fmt: skip
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        verb = "resuming" if resumed else "created"
        self.stdout.write(f"{verb} job #{job.pk}: {job.params['views']} views in {job.progress_total} chunks "
                          f"({job.progress_done} done), detector {job.params['detector']}")  # fmt: skip
        if options["enqueue"]:
            n = job_enqueue(job=job)
            self.stdout.write(f"enqueued {n} chunk tasks; run `python manage.py db_worker` (or rqworker)")
            return
        try:
            job = job_run_local(job=job, progress=not options["no_progress"])
        except Exception as exc:
            raise CommandError(f"detection stopped (rerun to continue; finished chunks are kept): {exc}") from None
        if job.status != Job.Status.DONE:
            held = job.chunks.filter(status=JobChunk.Status.RUNNING).count()
            detail = job.error or f"{held} chunks are still held by other workers; rerun once they finish or go stale"
            raise CommandError(f"job #{job.pk} is {job.status}: {detail}")
        self._report(job)

    def _report(self, job: Job) -> None:
        report = detection_job_report(job=job)
        found = ", ".join(f"{part.replace('_', ' ')} in {n}" for part, n in report["found"].items())
        self.stdout.write(f"detected {report['detected']} of {report['views']} views ({found}); "
                          f"stored as detector {report['detector']}")  # fmt: skip
        skipped = report["skipped_views"]
        if skipped:
            self.stdout.write(f"skipped {len(skipped)} views:")
            for entry in skipped[:SHOWN_SKIPPED]:
                self.stdout.write(f"  {entry['label']}: {entry['reason']}")
            if len(skipped) > SHOWN_SKIPPED:
                self.stdout.write(f"  ... and {len(skipped) - SHOWN_SKIPPED} more")
            self.stdout.write(f"once they are fixed: python manage.py detect_2d --dataset {job.dataset.name} "
                              "--missing-only")  # fmt: skip
        self.stdout.write(f"next: python manage.py lift_multiview --dataset {job.dataset.name} "
                          f"--detector {report['detector']}")  # fmt: skip
