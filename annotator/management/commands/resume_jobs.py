"""``python manage.py resume_jobs``: hand the unfinished chunks of every unfinished job back to the workers.

Run when a worker starts (``make worker`` does): chunks held by dead worker processes of this machine are
released at once (``services.jobs.chunks_release_dead``), then every chunk that is not done gets a task
again. A chunk that is finished or held by a live worker makes its task a no-op (``chunk_claim_index``
skips it), so running this while other workers are busy is harmless; chunks of a worker that died on
another machine are taken over once they are ``JOB_STALE_AFTER_S`` old.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from annotator.models import Job
from annotator.services.fbi_labels import FBI_JOB_KIND
from annotator.services.jobs import chunks_release_dead, job_label
from annotator.tasks import fbi_label_job_enqueue
from ml_services.detection_tasks import JOB_KIND as DETECTION_JOB_KIND
from ml_services.detection_tasks import job_enqueue as detection_job_enqueue
from ml_services.tasks import JOB_KIND as SCORING_JOB_KIND
from ml_services.tasks import job_enqueue as scoring_job_enqueue

#: Job kind -> the function that enqueues one task per unfinished chunk of such a job.
ENQUEUERS = {SCORING_JOB_KIND: scoring_job_enqueue, FBI_JOB_KIND: fbi_label_job_enqueue,
             DETECTION_JOB_KIND: detection_job_enqueue}  # fmt: skip


class Command(BaseCommand):
    help = "Release chunks of dead workers and enqueue the unfinished chunks of every unfinished job."

    def handle(self, *args, **options):
        released = chunks_release_dead()
        if released:
            self.stdout.write(f"released {len(released)} chunks of dead worker processes")
        unfinished = Job.objects.filter(kind__in=ENQUEUERS, status__in=(Job.Status.QUEUED, Job.Status.RUNNING))
        for job in unfinished.order_by("pk"):
            n = ENQUEUERS[job.kind](job=job)
            self.stdout.write(f"{job_label(job)}: enqueued {n} unfinished chunks")
