"""The 2D detection job with the pretrained model on the tiny synthetic rig: detections stored per view and lifted,
resumed after a dead worker, bad images and boxes off the image skipped with their reason while the job goes on."""

from __future__ import annotations

import shutil
from datetime import timedelta
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from annotator import keypoints
from annotator.exceptions import ApplicationError
from annotator.models import Detection2D, Job, JobChunk, Skeleton3D, View
from annotator.selectors.detections import detection_job_report
from annotator.services.jobs import chunk_claim, job_run_local
from ml_services import detection_tasks
from ml_services.pretrained import MODEL_NAME
from tests.ml_services.rig import FRAMES, import_rig, unseen_rig_dir

VIEWS = 4 * FRAMES
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def rig(db):
    return import_rig()


def stored() -> dict[int, tuple[np.ndarray, np.ndarray]]:
    rows = Detection2D.objects.filter(detector=MODEL_NAME).values_list("view_id", "keypoints_2d", "scores")
    return {v: (p, s) for v, p, s in rows}


class DetectionJobTests:
    def test_resumed_after_a_dead_worker_and_lifted(self, rig):
        job, resumed = detection_tasks.detection_job_start(dataset=rig, chunk_size=4)
        assert not resumed and job.progress_total == VIEWS // 4 and job.params["detector"] == MODEL_NAME
        job_run_local(job=job, progress=False, max_chunks=1)
        dead = chunk_claim(job=job, worker="dead-worker")
        JobChunk.objects.filter(pk=dead.pk).update(started_at=timezone.now() - timedelta(hours=3))
        again, resumed = detection_tasks.detection_job_start(dataset=rig, chunk_size=4)
        assert resumed and again.pk == job.pk and again.progress_done == 1
        job = job_run_local(job=again, progress=False)
        assert job.status == Job.Status.DONE
        detections = stored()
        assert len(detections) == VIEWS  # every view once, the re-run chunk included
        for points, scores in detections.values():
            assert points.shape == (keypoints.NUM_KEYPOINTS, 2) and scores.shape == (keypoints.NUM_KEYPOINTS,)
            assert np.array_equal(np.isnan(points[:, 0]), scores == 0)
        report = detection_job_report(job=job)
        assert report["detected"] == VIEWS and report["skipped"] == 0 and report["found"]["body"] >= VIEWS - 2
        # H3WB step 1: the detections lift into triangulated skeletons.
        out = StringIO()
        call_command("lift_multiview", dataset=rig.name, detector=MODEL_NAME, no_progress=True, stdout=out)
        assert Skeleton3D.objects.filter(frame__sequence__subject__dataset=rig, source="triangulated").count() == FRAMES
        assert f"lifted {FRAMES} frames" in out.getvalue()

    def test_bad_images_and_boxes_off_the_image_are_skipped_and_reported(self, rig, tmp_path):
        views = list(View.objects.filter(frame__sequence__subject__dataset=rig).order_by("pk"))
        root = tmp_path / "images"  # a copy: the rig's own images are shared by every test of this process
        rig_image_root = rig.image_root
        shutil.copytree(rig_image_root, root)
        rig.image_root = str(root)
        rig.save()
        (root / views[0].image_path).write_bytes(b"not a jpeg")
        (root / views[1].image_path).unlink()
        # A skeleton version far away from every camera: its box lies off the images of its frame's views.
        frame = views[2].frame
        dataset_skeleton = Skeleton3D.objects.filter(frame=frame, source="dataset").latest("version")
        Skeleton3D.objects.create(frame=frame, version=dataset_skeleton.version + 10, source="triangulated",
                                  keypoints=dataset_skeleton.keypoints + np.array([1e6, 1e6, 0.0]))  # fmt: skip
        job, _ = detection_tasks.detection_job_start(dataset=rig, chunk_size=VIEWS, box_from="triangulated")
        job = job_run_local(job=job, progress=False)
        assert job.status == Job.Status.DONE
        report = detection_job_report(job=job)
        reasons = {entry["view"]: entry["reason"] for entry in report["skipped_views"]}
        assert "cannot read image" in reasons[views[0].pk] or "not a JPEG or PNG" in reasons[views[0].pk]
        assert "missing" in reasons[views[1].pk]
        off = [v.pk for v in views if v.frame_id == frame.pk and v.pk not in (views[0].pk, views[1].pk)]
        for pk in off:
            # Behind the camera, off the image, or squeezed into a few pixels (the far skeleton's vanishing point).
            assert "lies outside the image" in reasons[pk] or "too small" in reasons[pk], reasons[pk]
        # Frames without a triangulated skeleton have no box to look in: asked for boxes, they are skipped too.
        others = [v.pk for v in views if v.frame_id != frame.pk and v.pk not in (views[0].pk, views[1].pk)]
        assert all("no triangulated skeleton" in reasons[pk] for pk in others)
        assert report["detected"] == VIEWS - len(reasons) and set(stored()) == {v.pk for v in views} - set(reasons)
        assert "camera" in report["skipped_views"][0]["label"]
        # Once the images are back, the views still without a detection get one (this time without boxes).
        shutil.copyfile(Path(rig_image_root) / views[0].image_path, root / views[0].image_path)
        shutil.copyfile(Path(rig_image_root) / views[1].image_path, root / views[1].image_path)
        again, resumed = detection_tasks.detection_job_start(dataset=rig, chunk_size=VIEWS, missing_only=True)
        assert not resumed and again.params["views"] == len(reasons)
        job_run_local(job=again, progress=False)
        assert {views[0].pk, views[1].pk} <= set(stored()) and len(stored()) == VIEWS
        with pytest.raises(ApplicationError, match="every view of dataset rig has a detection"):
            detection_tasks.detection_job_start(dataset=rig, missing_only=True)

    def test_refusals_change_nothing(self, rig):
        with pytest.raises(ApplicationError, match="chunk size"):
            detection_tasks.detection_job_start(dataset=rig, chunk_size=0)
        with pytest.raises(ApplicationError, match="unknown box source"):
            detection_tasks.detection_job_start(dataset=rig, box_from="nowhere")
        rig.image_root = ""
        rig.save()
        with pytest.raises(ApplicationError, match="has no images"):
            detection_tasks.detection_job_start(dataset=rig)
        assert not Job.objects.exists() and not Detection2D.objects.filter(detector=MODEL_NAME).exists()


class DetectCommandTests:
    @override_settings(TASKS=IMMEDIATE_TASKS)
    def test_enqueue_then_rerun_reports(self, rig, django_capture_on_commit_callbacks):
        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):  # the tasks are sent once the job is committed
            call_command("detect_2d", dataset=rig.name, chunk_size=8, enqueue=True, stdout=out)
        assert "enqueued 2 chunk tasks" in out.getvalue() and len(stored()) == VIEWS  # the immediate backend ran them
        out = StringIO()
        call_command("detect_2d", dataset=rig.name, chunk_size=8, no_progress=True, stdout=out)
        text = out.getvalue()
        assert "resuming job" in text and f"detected {VIEWS} of {VIEWS} views" in text
        assert f"lift_multiview --dataset {rig.name} --detector {MODEL_NAME}" in text
        with pytest.raises(CommandError, match="no dataset|not found|unknown"):
            call_command("detect_2d", dataset="nope", stdout=StringIO())


class PretrainedTrainingSourceTests:
    def test_train_refiner_on_the_pretrained_models_confident_hands(self, rig, tmp_path, capsys):
        from annotator.selectors.detections import PRETRAINED_DETECTOR
        from annotator.selectors.quality import PRETRAINED_TRUSTED_SCORE, refiner_training_views
        from ml_services.checkpoints import read_checkpoint

        assert PRETRAINED_DETECTOR == MODEL_NAME
        with pytest.raises(ApplicationError, match="run `python manage.py detect_2d --dataset rig` first"):
            refiner_training_views(dataset=rig, source="pretrained")
        job, _ = detection_tasks.detection_job_start(dataset=rig, chunk_size=VIEWS)
        job_run_local(job=job, progress=False)
        views = refiner_training_views(dataset=rig, source="pretrained")
        detections = stored()
        assert views and {v.view_id for v in views} <= set(detections)
        for v in views:
            points, scores = detections[v.view_id]
            body = np.concatenate([keypoints.PARTS["body"], keypoints.PARTS["feet"]])
            assert np.isnan(v.points[body]).all()  # only faces and hands are trusted
            for part in keypoints.VALIDITY_PARTS:
                idx = keypoints.PARTS[part]
                if np.isfinite(v.points[idx]).any():
                    # A confident detection of this part, or of the other hand found lying on this one.
                    same = [p for p in (("face",) if part == "face" else ("left_hand", "right_hand"))
                            if np.array_equal(v.points[idx], points[keypoints.PARTS[p]])]  # fmt: skip
                    assert same and (scores[keypoints.PARTS[same[0]]] >= PRETRAINED_TRUSTED_SCORE).all()
        out = tmp_path / "hand.pt"
        # Held-out means other people: the one-person rig has nobody to hold out, so it is refused ...
        with pytest.raises(CommandError, match="none of the held-out subjects S9, S11 is in the data"):
            call_command("train_refiner", part="hand", dataset=rig.name, source="pretrained", epochs=1, out=out,
                         no_progress=True)  # fmt: skip
        assert not out.exists()
        # ... and two people train on one and report on the other.
        unseen = import_rig("unseen", folder=unseen_rig_dir())  # S9 and S11
        job, _ = detection_tasks.detection_job_start(dataset=unseen, chunk_size=VIEWS)
        job_run_local(job=job, progress=False)
        call_command("train_refiner", part="hand", dataset=unseen.name, source="pretrained", epochs=1, out=out,
                     held_out_subjects="S11", no_progress=True)  # fmt: skip
        assert "held-out of S11 (other people)" in capsys.readouterr().out
        metrics = read_checkpoint(out, "hand")["metrics"]
        assert metrics["source"] == "pretrained" and metrics["train_subjects"] == ["S9"]


class OtherLayoutTests:
    """The pretrained detector predicts COCO-WholeBody's keypoints: a COCO-17 dataset is refused at the job start,
    the command and the worker's chunk entry (a job queued before), and nothing is written."""

    def test_detecting_in_a_coco17_dataset_is_refused(self, rig):
        from annotator.exceptions import NotApplicableError
        from tests.coco17 import as_coco17

        job, _ = detection_tasks.detection_job_start(dataset=rig, chunk_size=VIEWS)
        as_coco17(rig.name)
        rig.refresh_from_db()
        with pytest.raises(NotApplicableError, match="2D detection with the pretrained whole-body model .* COCO-17"):
            detection_tasks.detection_job_start(dataset=rig)
        with pytest.raises(NotApplicableError, match="COCO-17"):
            detection_tasks.detect_chunk_run(job=Job.objects.get(pk=job.pk), chunk=chunk_claim(job=job))
        with pytest.raises(CommandError, match="2D detection .* COCO-17"):
            call_command("detect_2d", dataset=rig.name, stdout=StringIO())
        assert Job.objects.count() == 1 and not Detection2D.objects.filter(detector=MODEL_NAME).exists()
