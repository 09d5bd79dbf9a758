"""``python manage.py score_quality --dataset NAME``: multi-crop quality scores of a dataset's skeletons.

``--model refiner`` (default) scores with the trained face/hand refiners; ``--model pretrained`` with the
pretrained whole-body model's face and hand networks (``ml_services.pretrained.scoring``), which have seen
photographs; their scores are stored side by side (under different checkpoints).

By default the chunks run here with a progress bar; a rerun continues an unfinished job (finished
chunks are skipped, chunks of dead workers are taken over). With ``--enqueue`` the job's chunks
become django-tasks tasks for the workers (``manage.py db_worker``, or ``rqworker`` with Redis).
At the end the command prints the score distribution and, where the frames have a ground truth,
how well the score ranks the skeletons' true face and hand error (Spearman, overall and per subject,
marking the people the refiners were trained on: no held-out figure there) and how much keeping
the best two-thirds lowers the mean true error (``selectors.quality.quality_report``, which the review
dashboard draws too).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotator.exceptions import ApplicationError
from annotator.models import Job, JobChunk, Skeleton3D
from annotator.selectors.datasets import dataset_get
from annotator.selectors.quality import quality_report
from annotator.services.jobs import job_run_local
from annotator.tasks import job_enqueue
from ml_services.device import DEVICE_CHOICES
from ml_services.heldout import trained_subjects
from ml_services.tasks import DEFAULT_CHUNK_SIZE, SCORERS, scoring_job_start


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
        parser.add_argument("--model", default="refiner", choices=SCORERS,
                            help="the scorer: the trained face/hand refiners, or the pretrained whole-body model's "
                                 "face and hand networks (which have seen photographs)")  # fmt: skip
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
                scorer=options["model"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        verb = "resuming" if resumed else "created"
        self.stdout.write(f"{verb} job #{job.pk}: {job.params['skeletons']} {options['source']} skeletons in "
                          f"{job.progress_total} chunks ({job.progress_done} done), scored by the "
                          f"{options['model']} model")  # fmt: skip
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
        self._report(job)

    @staticmethod
    def _trained_on(job: Job) -> tuple[str, ...] | None:
        """The people the job's refiners were trained on; () for the pretrained model, None where they do not say."""
        if job.params.get("scorer") == "pretrained":
            return ()
        try:
            return tuple(sorted({s for net in ("face", "hand") for s in trained_subjects(job.params[net])}))
        except (KeyError, FileNotFoundError, ValueError):
            return None

    def _report(self, job: Job) -> None:
        report = quality_report(job=job, limit=0)
        self.stdout.write(f"scored {report['n_scored']} of {report['n_skeletons']} skeletons "
                          "(mean displacement, px; lower is better)")  # fmt: skip
        if report["quantiles"]:
            self.stdout.write(
                "score quantiles: " + ", ".join(f"q{int(100 * q['q'])} {q['value']:.2f}" for q in report["quantiles"])
            )
        truth = report["truth"]
        if truth is None:
            return
        if truth["scored_is_truth"]:
            self.stdout.write("the scored skeletons are the ground truth: there is no true error to rank them by")
            return
        rho = {key: "nan" if truth[key] is None else f"{truth[key]:.3f}" for key in ("spearman_2d", "spearman_3d")}
        self.stdout.write(
            f"Spearman correlation of score with the true face+hand error: 2D {rho['spearman_2d']}, "
            f"3D {rho['spearman_3d']} ({truth['n']} skeletons with ground truth)"
        )
        seen = self._trained_on(job)
        for subject, figures in truth["per_subject"].items():
            value = "nan" if figures["spearman_2d"] is None else f"{figures['spearman_2d']:.3f}"
            note = ""
            if seen is None:
                note = " (the refiners do not say who they were trained on: not a held-out figure)"
            elif subject in seen:
                note = " (the refiners were trained on this person: not a held-out figure)"
            self.stdout.write(f"  {subject}: 2D {value} ({figures['n']} skeletons){note}")
        for label, key, unit in (("2D", "mean_true_2d_px", "px"), ("3D", "mean_true_3d_mm", "mm")):
            if truth[key] is None:
                continue
            everything, best = truth[key]["all"], truth[key]["kept"]
            self.stdout.write(
                f"mean true {label} error: all {everything:.2f} {unit}, best two-thirds by score {best:.2f} {unit} "
                f"({100 * (1 - best / everything):.1f}% lower)"
            )
