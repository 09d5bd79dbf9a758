"""``python manage.py resume_jobs``: hand the unfinished chunks of every unfinished job back to the workers.

Run when a worker starts (``make worker`` does): chunks held by dead worker processes of this machine are
released at once (``services.jobs.chunks_release_dead``), then every chunk that is not done gets a task
again (``annotator.tasks.job_enqueue``, for every kind in ``services.job_kinds.JOB_KINDS``). A chunk that is
finished or held by a live worker makes its task a no-op (``chunk_claim_index`` skips it), so running this
while other workers are busy is harmless; chunks of a worker that died on another machine are taken over once
they are ``JOB_STALE_AFTER_S`` old.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from annotator.models import Job
from annotator.services.job_kinds import JOB_KINDS
from annotator.services.jobs import chunks_release_dead, job_label
from annotator.tasks import job_enqueue


class Command(BaseCommand):
    help = "Release chunks of dead workers and enqueue the unfinished chunks of every unfinished job."

    def handle(self, *args, **options):
        released = chunks_release_dead()
        if released:
            self.stdout.write(f"released {len(released)} chunks of dead worker processes")
        unfinished = Job.objects.filter(kind__in=list(JOB_KINDS), status__in=(Job.Status.QUEUED, Job.Status.RUNNING))
        for job in unfinished.order_by("pk"):
            n = job_enqueue(job=job)
            self.stdout.write(f"{job_label(job)}: enqueued {n} unfinished chunks")
