"""``python manage.py score_quality --dataset NAME``: multi-crop quality scores of a dataset's skeletons.

By default the chunks run here with a progress bar; a rerun continues an unfinished job (finished
chunks are skipped, chunks of dead workers are taken over). With ``--enqueue`` the job's chunks
become django-tasks tasks for the workers (``manage.py db_worker``, or ``rqworker`` with Redis).
At the end the command prints the score distribution and, where the frames have a ground truth,
how well the score ranks the skeletons' true face and hand error (Spearman) and how much keeping
the best two-thirds lowers the mean true error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from annotator import keypoints
from annotator.exceptions import ApplicationError
from annotator.models import Job, JobChunk, Skeleton3D
from annotator.selectors.datasets import dataset_get
from annotator.selectors.quality import ground_truth_errors, quality_scores
from ml_services.device import DEVICE_CHOICES
from ml_services.scoring import spearman
from ml_services.tasks import DEFAULT_CHUNK_SIZE, job_enqueue, job_run_local, scoring_job_start

QUANTILES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
#: Share of skeletons kept when reporting how selection by score lowers the true error (H3WB kept ~2/3).
KEEP_FRACTION = 2 / 3
#: Keypoints the true error is measured on: the parts the score looks at.
SCORED_KEYPOINTS = np.concatenate([keypoints.METRIC_PARTS["face"], keypoints.METRIC_PARTS["hand"]])


class Command(BaseCommand):
    help = "Score every skeleton of a dataset by multi-crop refinement consistency (lower is better)."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="dataset name")
        parser.add_argument(
            "--source",
            default=Skeleton3D.Source.DATASET,
            choices=Skeleton3D.Source.values,
            help="which skeleton version of every frame to score (the newest of that source)",
        )
        parser.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, help="skeletons per chunk")
        parser.add_argument("--enqueue", action="store_true", help="hand the chunks to the task workers")
        parser.add_argument("--face-checkpoint", type=Path, help="default: ml_services/checkpoints/face.pt")
        parser.add_argument("--hand-checkpoint", type=Path, help="default: ml_services/checkpoints/hand.pt")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        try:
            dataset = dataset_get(name=options["dataset"])
            job, resumed = scoring_job_start(
                dataset=dataset,
                source=options["source"],
                chunk_size=options["chunk_size"],
                face_checkpoint=options["face_checkpoint"],
                hand_checkpoint=options["hand_checkpoint"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        verb = "resuming" if resumed else "created"
        self.stdout.write(f"{verb} job #{job.pk}: {job.params['skeletons']} {options['source']} skeletons in "
                          f"{job.progress_total} chunks ({job.progress_done} done)")  # fmt: skip
        if options["enqueue"]:
            n = job_enqueue(job=job, device=options["device"])
            self.stdout.write(
                f"enqueued {n} chunk tasks; run `python manage.py db_worker` (or rqworker) to process them"
            )
            return
        try:
            job = job_run_local(job=job, device=options["device"], progress=not options["no_progress"])
        except Exception as exc:
            raise CommandError(f"scoring stopped (rerun to continue; finished chunks are kept): {exc}") from None
        if job.status != Job.Status.DONE:
            held = job.chunks.filter(status=JobChunk.Status.RUNNING).count()
            detail = job.error or f"{held} chunks are still held by other workers; rerun once they finish or go stale"
            raise CommandError(f"job #{job.pk} is {job.status}: {detail}")
        self._report(dataset, job)

    def _report(self, dataset, job: Job) -> None:
        ids = [pk for c in job.chunks.all() for pk in c.payload["skeleton_ids"]]
        rows = dict(quality_scores(dataset=dataset, checkpoint=job.params["checkpoint"])
                    .filter(skeleton_id__in=ids).values_list("skeleton_id", "score"))  # fmt: skip
        scores = np.array([np.nan if rows.get(pk) is None else rows[pk] for pk in ids], dtype=np.float64)
        finite = scores[np.isfinite(scores)]
        self.stdout.write(f"scored {finite.size} of {len(ids)} skeletons (mean displacement, px; lower is better)")
        if finite.size:
            qs = np.quantile(finite, QUANTILES)
            self.stdout.write(
                "score quantiles: " + ", ".join(f"q{int(100 * q)} {v:.2f}" for q, v in zip(QUANTILES, qs))
            )
        truth = ground_truth_errors(skeleton_ids=ids, parts=SCORED_KEYPOINTS)
        if not truth:
            return
        err2d = np.array([truth.get(pk, (np.nan, np.nan))[0] for pk in ids])
        err3d = np.array([truth.get(pk, (np.nan, np.nan))[1] for pk in ids])
        if np.isfinite(err2d).any() and not np.nan_to_num(err2d).any():
            self.stdout.write("the scored skeletons are the ground truth: there is no true error to rank them by")
            return
        rho2d, rho3d, n = spearman(scores, err2d), spearman(scores, err3d), int(np.isfinite(err2d).sum())
        self.stdout.write(
            f"Spearman correlation of score with the true face+hand error: 2D {rho2d:.3f}, 3D {rho3d:.3f} "
            f"({n} skeletons with ground truth)"
        )
        keep = np.isfinite(scores) & np.isfinite(err2d)
        if keep.sum() >= 3:
            order = np.argsort(scores[keep], kind="stable")[: max(1, int(round(KEEP_FRACTION * keep.sum())))]
            for label, err, unit in (("2D", err2d[keep], "px"), ("3D", err3d[keep], "mm")):
                best = err[order].mean()
                self.stdout.write(
                    f"mean true {label} error: all {err.mean():.2f} {unit}, best two-thirds by score {best:.2f} {unit} "
                    f"({100 * (1 - best / err.mean()):.1f}% lower)"
                )
