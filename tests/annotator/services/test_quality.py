"""Quality scoring end to end on the tiny synthetic rig: score writes, rankings, the resumable scoring job
(dead worker included), the score_quality and train_refiner commands, and their refusals."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from annotator.exceptions import ApplicationError
from annotator.models import Dataset, Job, JobChunk, QualityScore, Skeleton3D
from annotator.selectors.quality import quality_best_per_subject, quality_review_queue, scoring_skeleton_ids
from annotator.services.jobs import chunk_claim, job_run_local
from annotator.services.quality import ScoreRow, quality_scores_write
from annotator.tasks import job_chunk_task
from ml_services import tasks
from ml_services.checkpoints import read_checkpoint
from ml_services.heldout import trained_subjects
from ml_services.scoring import ScoringConfig
from tests.ml_services.rig import FRAMES, import_rig, unseen_rig_dir

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def rig(db):
    return import_rig()


def _stored(checkpoint: str) -> dict[int, float]:
    return dict(QualityScore.objects.filter(checkpoint=checkpoint).values_list("skeleton_id", "score"))


class QualityScoresWriteTests:
    def test_upserts_per_skeleton_and_checkpoint(self, rig):
        ids = scoring_skeleton_ids(dataset=rig, source="dataset")
        rows = [ScoreRow(pk, float(i), {"54138969": 1.0}, {"face": float("nan")}) for i, pk in enumerate(ids)]
        assert quality_scores_write(rows=rows, model_name="m", checkpoint="abc") == len(ids)
        quality_scores_write(rows=[ScoreRow(ids[0], 9.0, {}, {})], model_name="m", checkpoint="abc")
        assert QualityScore.objects.count() == len(ids)
        first = QualityScore.objects.get(skeleton_id=ids[0])
        assert first.score == 9.0 and first.per_view == {}
        assert QualityScore.objects.get(skeleton_id=ids[1]).per_part == {"face": None}

    def test_unknown_skeleton_is_refused(self, rig):
        with pytest.raises(ApplicationError, match="do not exist"):
            quality_scores_write(rows=[ScoreRow(10**9, 1.0, {}, {})], model_name="m", checkpoint="abc")
        assert not QualityScore.objects.exists()


class QualitySelectorTests:
    def test_best_per_subject_and_review_queue(self, rig):
        ids = scoring_skeleton_ids(dataset=rig, source="dataset")
        scores = [3.0, 1.0, 4.0, 2.0][: len(ids)]
        quality_scores_write(rows=[ScoreRow(pk, s, {}, {}) for pk, s in zip(ids, scores)], model_name="m",
                             checkpoint="abc")  # fmt: skip
        assert quality_best_per_subject(dataset=rig, checkpoint="abc", k=2) == {"S1": [ids[1], ids[3]]}
        frames = list(quality_review_queue(dataset=rig, checkpoint="abc"))
        by_skeleton = dict(Skeleton3D.objects.filter(pk__in=ids).values_list("frame_id", "pk"))
        assert [by_skeleton[f.pk] for f in frames] == [ids[2], ids[0], ids[3], ids[1]]
        with pytest.raises(ApplicationError, match="k must be at least 1"):
            quality_best_per_subject(dataset=rig, checkpoint="abc", k=0)


class ScoringJobTests:
    def test_resume_after_a_dead_worker_gives_the_uninterrupted_result(self, rig):
        job, resumed = tasks.scoring_job_start(dataset=rig, source="dataset", chunk_size=1)
        assert not resumed and job.progress_total == FRAMES
        job_run_local(job=job, progress=False, max_chunks=2)
        dead = chunk_claim(job=job, worker="dead-worker")
        JobChunk.objects.filter(pk=dead.pk).update(started_at=timezone.now() - timedelta(hours=3))
        # The rerun finds the unfinished job and finishes it, taking over the dead worker's chunk.
        again, resumed = tasks.scoring_job_start(dataset=rig, source="dataset", chunk_size=1)
        assert resumed and again.pk == job.pk and again.progress_done == 2
        job = job_run_local(job=again, progress=False)
        assert job.status == Job.Status.DONE and job.progress_done == FRAMES
        assert JobChunk.objects.get(pk=dead.pk).attempts == 2
        ids = scoring_skeleton_ids(dataset=rig, source="dataset")
        refiners = tasks._refiners(job.params["face"], job.params["hand"], "cpu")
        expected = {r.skeleton_id: r.score for r in tasks.score_skeleton_ids(ids, refiners)}
        stored = _stored(job.params["checkpoint"])
        assert stored.keys() == expected.keys()
        assert np.allclose([stored[k] for k in ids], [expected[k] for k in ids], rtol=1e-6)
        row = QualityScore.objects.get(skeleton_id=ids[0])
        assert set(row.per_view) == {"54138969", "55011271", "58860488", "60457274"}
        assert set(row.per_part) == {"face", "left_hand", "right_hand"}

    def test_a_job_keeps_the_score_definition_it_started_with(self, rig):
        """A job from before parts weighed their keypoints (no ``part_weighting``) finishes with the old definition
        and is not resumed by a new start, which scores every skeleton again with the new one."""
        job, _ = tasks.scoring_job_start(dataset=rig, source="dataset", chunk_size=2)
        assert job.params["part_weighting"] == "keypoints"
        params = dict(job.params)
        del params["part_weighting"]
        Job.objects.filter(pk=job.pk).update(params=params)
        job = job_run_local(job=Job.objects.get(pk=job.pk), progress=False)
        ids = scoring_skeleton_ids(dataset=rig, source="dataset")
        refiners = tasks._refiners(params["face"], params["hand"], "cpu")
        old = {
            r.skeleton_id: r.score
            for r in tasks.score_skeleton_ids(ids, refiners, ScoringConfig(part_weighting="parts"))
        }
        new = {r.skeleton_id: r.score for r in tasks.score_skeleton_ids(ids, refiners)}
        assert not np.allclose([old[k] for k in ids], [new[k] for k in ids], rtol=1e-3)
        assert np.allclose([_stored(params["checkpoint"])[k] for k in ids], [old[k] for k in ids], rtol=1e-6)
        again, resumed = tasks.scoring_job_start(dataset=rig, source="dataset", chunk_size=2)
        assert not resumed and again.pk != job.pk
        job_run_local(job=again, progress=False)
        assert np.allclose([_stored(params["checkpoint"])[k] for k in ids], [new[k] for k in ids], rtol=1e-6)

    @override_settings(TASKS=IMMEDIATE_TASKS)
    def test_enqueue_runs_one_task_per_chunk(self, rig, capsys, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):  # the tasks are sent once the job is committed
            call_command("score_quality", dataset="rig", chunk_size=2, enqueue=True, no_progress=True)
        out = capsys.readouterr().out
        assert "enqueued 2 chunk tasks" in out
        job = Job.objects.get()
        assert job.status == Job.Status.DONE and len(_stored(job.params["checkpoint"])) == FRAMES
        assert job_chunk_task.call(job.pk, 0) == {"skipped": True}


class ScoreQualityCommandTests:
    def test_prints_distribution_and_correlation(self, rig, capsys):
        call_command("score_quality", dataset="rig", chunk_size=3, no_progress=True)
        out = capsys.readouterr().out
        assert f"created job #{Job.objects.get().pk}: {FRAMES} dataset skeletons in 2 chunks" in out
        assert f"scored {FRAMES} of {FRAMES} skeletons" in out and "score quantiles: q0" in out
        assert "Spearman correlation of score with the true face+hand error: 2D" in out
        assert "best two-thirds by score" in out
        # The shipped refiners were trained on S1, so its figure is no held-out one, and the report says so.
        assert "  S1: 2D " in out and "(4 skeletons) (the refiners were trained on this person" in out
        # A rerun finds the finished job: nothing is scored again, the report is the same.
        call_command("score_quality", dataset="rig", chunk_size=3, no_progress=True)
        again = capsys.readouterr().out
        assert f"resuming job #{Job.objects.get().pk}: {FRAMES} dataset skeletons in 2 chunks (2 done)" in again
        assert again.splitlines()[1:] == out.splitlines()[1:]

    def test_ground_truth_skeletons_have_no_error_to_rank(self, rig, capsys):
        call_command("score_quality", dataset="rig", source="ground_truth", chunk_size=4, no_progress=True)
        assert "the scored skeletons are the ground truth" in capsys.readouterr().out

    @pytest.mark.parametrize("case", ["empty", "no_images", "bad_checkpoint", "unknown"])
    def test_refusals_write_nothing(self, db, case, tmp_path):
        options = {"dataset": "x", "no_progress": True}
        if case == "empty":
            Dataset.objects.create(name="x", image_root=str(tmp_path))
            message = "has no dataset skeletons to score"
        elif case == "no_images":
            import_rig("x", images=False)
            message = "has no images"
        elif case == "bad_checkpoint":
            import_rig("x")
            options["face_checkpoint"] = tmp_path / "missing.pt"
            message = "refiner checkpoint not found"
        else:
            message = "no dataset named 'x'"
        with pytest.raises(CommandError, match=message):
            call_command("score_quality", **options)
        assert not Job.objects.exists() and not QualityScore.objects.exists()


class TrainRefinerCommandTests:
    def test_trains_on_some_people_reports_on_others_and_writes_a_loadable_checkpoint(self, db, capsys, tmp_path):
        import_rig("unseen", folder=unseen_rig_dir())  # S9 and S11
        out = tmp_path / "hand.pt"
        call_command("train_refiner", part="hand", dataset="unseen", epochs=1, out=out, held_out_subjects="S11",
                     no_progress=True)  # fmt: skip
        text = capsys.readouterr().out
        assert "part crops of S9; " in text and "held-out of S11 (other people)" in text
        assert "held-out mean error (schedule_max start): input" in text and "(dataset start)" in text
        assert "    S11 (" in text
        data = read_checkpoint(out, "hand")
        metrics = data["metrics"]
        assert metrics["dataset"] == "unseen" and data["part"] == "hand"
        assert metrics["train_subjects"] == ["S9"] and metrics["held_out_subjects"] == ["S11"]
        assert data["model_args"]["held_out_subjects"] == ["S11"]
        assert set(metrics["per_subject_error_px"]) == {"S11"}
        assert trained_subjects(out) == ("S9",)

    @pytest.mark.parametrize("case", ["unknown", "no_images", "epochs", "one_person", "no_held_out"])
    def test_refusals_write_nothing(self, db, case, tmp_path):
        out = tmp_path / "face.pt"
        options = {"part": "face", "dataset": "x", "out": out, "no_progress": True}
        if case == "no_images":
            import_rig("x", images=False)
            message = "has no images"
        elif case == "epochs":
            options["epochs"] = 0
            message = "--epochs must be at least 1"
        elif case == "one_person":
            import_rig("x")  # S1 only: no one to hold out
            message = r"none of the held-out subjects S9, S11 is in the data \(it has S1\); held-out means other"
        elif case == "no_held_out":
            options["held_out_subjects"] = " , "
            message = "--held-out-subjects must name at least one subject"
        else:
            message = "no dataset named 'x'"
        with pytest.raises(CommandError, match=message):
            call_command("train_refiner", **options)
        assert not out.exists()


class OtherLayoutTests:
    """Scoring and refiner training crop COCO-WholeBody's faces and hands: a COCO-17 dataset is refused at the
    service, the command and the worker's chunk entry, and nothing is written."""

    def test_scoring_a_coco17_dataset_is_refused_everywhere(self, rig):
        from annotator.exceptions import NotApplicableError
        from tests.coco17 import as_coco17

        job, _ = tasks.scoring_job_start(dataset=rig, source="dataset", chunk_size=FRAMES)  # before the change
        as_coco17(rig.name)
        rig.refresh_from_db()
        for scorer in tasks.SCORERS:
            with pytest.raises(NotApplicableError, match="multi-crop quality scoring .* this data uses COCO-17"):
                tasks.scoring_job_start(dataset=rig, source="dataset", scorer=scorer)
        with pytest.raises(NotApplicableError, match="COCO-17"):
            scoring_skeleton_ids(dataset=rig, source="dataset")
        chunk = chunk_claim(job=job)
        with pytest.raises(NotApplicableError, match="COCO-17"):
            tasks.score_chunk_run(job=Job.objects.get(pk=job.pk), chunk=chunk)
        with pytest.raises(CommandError, match="multi-crop quality scoring .* COCO-17"):
            call_command("score_quality", dataset=rig.name, source="dataset")
        assert Job.objects.count() == 1 and not QualityScore.objects.exists()

    def test_training_a_refiner_on_a_coco17_dataset_is_refused(self, rig, tmp_path):
        from tests.coco17 import as_coco17

        as_coco17(rig.name)
        out = tmp_path / "face.pt"
        with pytest.raises(CommandError, match="training the face and hand refiners applies to the COCO-WholeBody"):
            call_command("train_refiner", part="face", dataset=rig.name, epochs=1, out=out, no_progress=True)
        assert not out.exists()
