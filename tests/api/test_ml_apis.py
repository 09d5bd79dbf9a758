"""The ML endpoints on the tiny synthetic rig (real images): the editor's refinement suggestions, model-assisted
corrections, and the reviewers' scoring jobs and quality report; permissions and bad input (4xx, nothing stored)."""

from __future__ import annotations

import numpy as np
import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework import status
from rest_framework.test import APIClient

from annotator import geometry, keypoints
from annotator.models import Correction, Frame, Job, QualityScore, Skeleton3D
from annotator.selectors.refine import refine_input
from annotator.services.annotations import correction_create, part_validity_set
from annotator.services.tasks import task_create
from ml_services.suggestions import part_suggestions
from tests.ml_services.rig import FRAMES, import_rig

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
FACE = keypoints.PARTS["face"]


def _as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def rig(db):
    return import_rig()


@pytest.fixture
def rig_task(rig, users):
    frame = Frame.objects.filter(sequence__subject__dataset=rig).order_by("pk").first()
    return task_create(frame=frame, assignee=users["annotator"])


def _views(task) -> list:
    return list(task.views.select_related("camera").order_by("camera__name"))


def _refine(user, task, **body):
    return _as(user).post(f"/api/tasks/{task.pk}/refine/", body, format="json")


def _truth_2d(task, view) -> np.ndarray:
    truth = Skeleton3D.objects.get(frame=task.frame, source=Skeleton3D.Source.GROUND_TRUTH).keypoints
    return geometry.project(view.camera.as_geometry(), truth)


class TaskRefineApiTests:
    def test_face_suggestions_move_towards_the_truth(self, rig_task, users):
        view = _views(rig_task)[0]
        response = _refine(users["annotator"], rig_task, view=view.pk, part="face")
        assert response.status_code == status.HTTP_200_OK
        body = response.json()
        assert (body["view"], body["part"], body["model"], body["iterations"]) == (view.pk, "face", "face.pt", 10)
        assert len(body["checkpoint"]) == 16
        # The shipped refiner was trained on synthetic ground truth and the rig is synthetic: the default fits.
        assert body["source"] == "refiner" and body["score"] is None
        assert body["reason"].startswith("default: the face refiner (face.pt) was trained on synthetic ground truth")
        assert sorted(int(k) for k in body["suggestions"]) == FACE.tolist()
        start = refine_input(task=rig_task, view=view.pk, part="face").points[FACE]
        suggested = np.array([body["suggestions"][str(k)] for k in FACE])
        truth = _truth_2d(rig_task, view)[FACE]
        assert np.abs(suggested - start).max() < 20  # a nudge, not a jump
        before = np.linalg.norm(start - truth, axis=1).mean()
        after = np.linalg.norm(suggested - truth, axis=1).mean()
        assert after < before, (before, after)
        assert not Correction.objects.exists()  # suggesting writes nothing

    def test_left_hand_is_refined_mirrored_and_reviewers_may_ask(self, rig_task, users):
        view = _views(rig_task)[1]
        body = _refine(users["reviewer"], rig_task, view=view.pk, part="left_hand").json()
        assert sorted(int(k) for k in body["suggestions"]) == keypoints.PARTS["left_hand"].tolist()
        assert body["model"] == "hand.pt"
        start = refine_input(task=rig_task, view=view.pk, part="left_hand").points
        for k, xy in body["suggestions"].items():
            assert np.hypot(*(np.array(xy) - start[int(k)])) < 20

    def test_starts_from_the_annotators_drops(self, rig_task, users):
        view = _views(rig_task)[0]
        k = int(FACE[30])
        before = refine_input(task=rig_task, view=view.pk, part="face").points
        x, y = before[k] + (6.0, -4.0)
        correction_create(task=rig_task, user=users["annotator"], view=view, keypoint=k, x=x, y=y, base_revision=0)
        after = refine_input(task=rig_task, view=view.pk, part="face").points
        np.testing.assert_allclose(after[k], (x, y))
        untouched = [i for i in FACE if i != k]
        # The other face points follow the re-triangulated skeleton: unchanged, as only keypoint k moved.
        np.testing.assert_allclose(after[untouched], before[untouched], atol=1e-6)

    @pytest.mark.parametrize("case", ["unknown_part", "body", "invalid_part", "other_view", "missing_view"])
    def test_bad_input_is_a_400(self, rig_task, users, case):
        view = _views(rig_task)[0]
        body = {"view": view.pk, "part": "face"}
        if case == "unknown_part":
            body["part"] = "tail"
        elif case == "body":
            body["part"] = "body"
        elif case == "invalid_part":
            part_validity_set(task=rig_task, user=users["annotator"], view=view, part="face", valid=False,
                              base_revision=0)  # fmt: skip
        elif case == "other_view":
            body["view"] = Frame.objects.exclude(pk=rig_task.frame_id).first().views.first().pk
        else:
            body["view"] = 10**9
        response = _refine(users["annotator"], rig_task, **body)
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        message = response.json()["message"]
        expected = {"unknown_part": "part", "body": "part", "invalid_part": "marked not annotatable",
                    "other_view": "is not one of task", "missing_view": "is not one of task"}[case]  # fmt: skip
        assert expected in message

    def test_someone_elses_task_is_a_404_and_anonymous_is_refused(self, rig_task, users):
        view = _views(rig_task)[0]
        response = _refine(users["other"], rig_task, view=view.pk, part="face")
        assert response.status_code == status.HTTP_404_NOT_FOUND
        assert response.json() == {"message": f"no task {rig_task.pk}", "extra": {}}
        anonymous = APIClient().post(f"/api/tasks/{rig_task.pk}/refine/", {"view": view.pk, "part": "face"})
        assert anonymous.status_code in (status.HTTP_401_UNAUTHORIZED, status.HTTP_403_FORBIDDEN)

    def test_no_image_is_a_400(self, db, users):
        dataset = import_rig("no-images", images=False)
        task = task_create(frame=Frame.objects.filter(sequence__subject__dataset=dataset).first(),
                           assignee=users["annotator"])  # fmt: skip
        response = _refine(users["annotator"], task, view=_views(task)[0].pk, part="face")
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert "cannot refine without the image" in response.json()["message"]

    def test_no_checkpoint_is_a_400_when_the_refiner_is_asked_for(self, rig_task, users, tmp_path):
        with override_settings(ANNOTATOR={**settings.ANNOTATOR, "REFINER_CHECKPOINT_DIR": tmp_path}):
            view = _views(rig_task)[0].pk
            response = _refine(users["annotator"], rig_task, view=view, part="right_hand", model="refiner")
            assert response.status_code == status.HTTP_400_BAD_REQUEST
            body = response.json()
            assert "no hand refiner is available" in body["message"] and body["extra"] == {"reason": "no_checkpoint"}
            # By default the pretrained model answers instead, and says why (in the views where it finds the hand:
            # a hand it cannot find near the drawn one is no suggestion, never a guess).
            answers = [_refine(users["annotator"], rig_task, view=v.pk, part=part).json()
                       for v in _views(rig_task) for part in ("right_hand", "left_hand")]  # fmt: skip
            found = [a for a in answers if "source" in a]
            assert found, answers
            assert all(a["source"] == "pretrained" and "no trained hand refiner is installed" in a["reason"]
                       for a in found)  # fmt: skip
            assert all("finds no" in a["message"] for a in answers if "source" not in a)

    def test_unknown_model_is_a_400(self, rig_task, users):
        response = _refine(users["annotator"], rig_task, view=_views(rig_task)[0].pk, part="face", model="oracle")
        assert response.status_code == status.HTTP_400_BAD_REQUEST and "model" in response.json()["message"]


class PretrainedSuggestionTests:
    def test_pretrained_hand_suggestions_land_on_the_hand(self, rig_task, users):
        """On views where the rig's hand is visible, the pretrained model's suggestions lie near the true hand."""
        errors = []
        for view in _views(rig_task):
            response = _refine(users["annotator"], rig_task, view=view.pk, part="right_hand", model="pretrained")
            if response.status_code == status.HTTP_400_BAD_REQUEST:
                assert "finds no right hand near the drawn one" in response.json()["message"]
                continue
            body = response.json()
            assert (body["source"], body["model"], body["iterations"]) == ("pretrained", "mediapipe-0.10.14", None)
            assert body["checkpoint"] == "mediapipe==0.10.14" and 0.5 <= body["score"] <= 1
            assert body["reason"].startswith("chosen by the annotator") and "MediaPipe" in body["label"]
            hand = keypoints.PARTS["right_hand"]
            suggested = np.array([body["suggestions"][str(k)] for k in hand])
            errors.append(np.linalg.norm(suggested - _truth_2d(rig_task, view)[hand], axis=1).mean())
        assert len(errors) >= 2 and np.mean(errors) < 4.0, errors
        assert not Correction.objects.exists()

    def test_default_is_the_pretrained_model_where_no_refiner_fits(self, rig_task, users):
        Skeleton3D.objects.filter(source=Skeleton3D.Source.GROUND_TRUTH).delete()  # now it looks like real data
        body = _refine(users["annotator"], rig_task, view=_views(rig_task)[1].pk, part="left_hand").json()
        assert body["source"] == "pretrained"
        assert body["reason"].startswith("default: no trained hand refiner fits rig (the installed one was trained")
        body = _refine(users["annotator"], rig_task, view=_views(rig_task)[1].pk, part="left_hand",
                       model="refiner").json()  # fmt: skip
        assert body["source"] == "refiner" and body["model"] == "hand.pt"


class ModelAssistedCorrectionTests:
    def test_source_model_is_stored_and_in_the_history(self, rig_task, users):
        view = _views(rig_task)[0]
        suggestions = part_suggestions(task=rig_task, view=view.pk, part="face")
        k, (x, y) = next(iter(suggestions.points.items()))
        client = _as(users["annotator"])
        body = {"view": view.pk, "keypoint": k, "x": x, "y": y, "source": "model", "base_revision": 0}
        response = client.post(f"/api/tasks/{rig_task.pk}/corrections/", body, format="json")
        assert response.status_code == status.HTTP_201_CREATED
        assert response.json()["correction"]["source"] == "model"
        manual = {**body, "keypoint": k + 1, "base_revision": 1}
        manual.pop("source")
        assert client.post(f"/api/tasks/{rig_task.pk}/corrections/", manual, format="json").status_code == 201
        history = client.get(f"/api/tasks/{rig_task.pk}/history/").json()
        assert [(h["keypoint"], h["source"]) for h in history] == [(k, "model"), (k + 1, "manual")]
        # Undoing a model-assisted correction keeps its provenance.
        client.post(f"/api/tasks/{rig_task.pk}/undo/", {"base_revision": 2}, format="json")
        client.post(f"/api/tasks/{rig_task.pk}/undo/", {"base_revision": 3}, format="json")
        assert Correction.objects.order_by("revision").last().source == Correction.Source.MODEL

    def test_unknown_source_is_refused(self, rig_task, users):
        body = {"view": _views(rig_task)[0].pk, "keypoint": 5, "x": 10.0, "y": 10.0, "source": "robot",
                "base_revision": 0}  # fmt: skip
        response = _as(users["annotator"]).post(f"/api/tasks/{rig_task.pk}/corrections/", body, format="json")
        assert response.status_code == status.HTTP_400_BAD_REQUEST and "source" in response.json()["message"]
        assert not Correction.objects.exists()


@pytest.fixture
def immediate_tasks(settings):
    """Run enqueued tasks inside the request (django-tasks' immediate backend), as a worker would."""
    settings.TASKS = IMMEDIATE_TASKS


@pytest.mark.usefixtures("immediate_tasks")
class ScoringJobApiTests:
    def test_reviewer_scores_a_dataset_and_reads_the_report(self, rig, users, django_capture_on_commit_callbacks):
        client = _as(users["reviewer"])
        with django_capture_on_commit_callbacks(execute=True):  # the chunks are sent once the job is committed
            response = client.post("/api/jobs/score/", {"dataset": "rig", "source": "dataset"}, format="json")
        assert response.status_code == status.HTTP_201_CREATED
        body = response.json()
        job = Job.objects.get()
        assert (body["job"], body["id"], body["resumed"], body["enqueued"]) == (job.pk, job.pk, False, 1)
        assert (body["status"], body["done"], body["total"]) == ("queued", 0, 1)
        # The immediate backend ran the chunk once the request's transaction committed.
        body = {**body, **client.get(f"/api/jobs/{job.pk}/").json()}
        assert (body["status"], body["done"], body["total"]) == ("done", 1, 1)
        assert body["label"] == f"quality_score#{job.pk}" and body["created_by"] == "rev"
        stored_scores = list(QualityScore.objects.values_list("score", flat=True))
        assert body["result"]["scored"] == FRAMES == len(stored_scores)
        assert body["result"]["mean"] == pytest.approx(np.mean(stored_scores))
        assert client.get("/api/jobs/").json()[0]["id"] == job.pk
        assert client.get("/api/jobs/?kind=fbi_labels").json() == []
        unknown = client.get("/api/jobs/?kind=scoring")
        assert unknown.status_code == status.HTTP_400_BAD_REQUEST and "kind" in unknown.json()["message"]
        assert client.get(f"/api/jobs/{job.pk}/").json()["status"] == "done"
        again = client.post("/api/jobs/score/", {"dataset": "rig"}, format="json").json()
        assert (again["job"], again["resumed"], again["enqueued"]) == (job.pk, True, 0)

        report = client.get("/api/datasets/rig/quality/?source=dataset&best=2&bins=5").json()
        assert (report["n_skeletons"], report["n_scored"], report["job"]["id"]) == (FRAMES, FRAMES, job.pk)
        assert sum(report["histogram"]["counts"]) == FRAMES and len(report["histogram"]["edges"]) == 6
        assert [q["q"] for q in report["quantiles"]] == [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]
        truth = report["truth"]
        assert truth["n"] == FRAMES and not truth["scored_is_truth"]
        # Spearman's rho of the table's own scores and true errors, ranked here (no ties in 4 floats).
        rows = report["frames"]["rows"]
        ranks = [np.argsort(np.argsort([r[key] for r in rows])) for key in ("score", "true_2d_px")]
        assert truth["spearman_2d"] == pytest.approx(np.corrcoef(*ranks)[0, 1])
        scores = [r["score"] for r in report["frames"]["rows"]]
        assert scores == sorted(scores, reverse=True) and report["frames"]["count"] == FRAMES
        # The worst row's true error, worked out here: its face and hand keypoints against the ground truth's,
        # projected into each view, averaged over the keypoints and then the views.
        worst = report["frames"]["rows"][0]
        skeleton = Skeleton3D.objects.get(pk=worst["skeleton"])
        truth = Skeleton3D.objects.get(frame=skeleton.frame, source=Skeleton3D.Source.GROUND_TRUTH).keypoints
        scored = np.concatenate([keypoints.METRIC_PARTS["face"], keypoints.METRIC_PARTS["hand"]])
        per_view = []
        for view in skeleton.frame.views.select_related("camera"):
            cam = view.camera.as_geometry()
            per_view.append(np.linalg.norm(geometry.project(cam, skeleton.keypoints[scored])
                                           - geometry.project(cam, truth[scored]), axis=1).mean())  # fmt: skip
        assert worst["true_2d_px"] == pytest.approx(np.mean(per_view), rel=1e-6)
        best = report["best"]["subjects"]["S1"]
        assert [r["score"] for r in best] == sorted(scores)[:2]
        ascending = client.get("/api/datasets/rig/quality/?sort=best&limit=2").json()["frames"]["rows"]
        assert [r["score"] for r in ascending] == sorted(scores)[:2]
        stored = QualityScore.objects.filter(checkpoint=report["checkpoint"]).count()
        assert stored == FRAMES

    def test_annotators_are_refused(self, rig, users):
        client = _as(users["annotator"])
        assert client.post("/api/jobs/score/", {"dataset": "rig"}, format="json").status_code == 403
        assert client.get("/api/jobs/").status_code == 403
        assert client.get("/api/jobs/1/").status_code == 403
        assert client.get("/api/datasets/rig/quality/").status_code == 403
        assert not Job.objects.exists()

    @pytest.mark.parametrize(
        "body, code, message",
        [
            ({"dataset": "nope"}, 404, "no dataset named 'nope'"),
            ({"dataset": "rig", "source": "guess"}, 400, "source"),
            ({"dataset": "no-images"}, 400, "has no images"),
        ],
    )
    def test_bad_job_requests_write_nothing(self, rig, users, body, code, message):
        import_rig("no-images", images=False)
        response = _as(users["admin"]).post("/api/jobs/score/", body, format="json")
        assert response.status_code == code and message in response.json()["message"]
        assert not Job.objects.exists()

    def test_report_before_scoring_and_bad_filters(self, rig, users):
        client = _as(users["reviewer"])
        response = client.get("/api/datasets/rig/quality/?source=dataset")
        assert response.status_code == 404
        assert response.json()["message"] == "the dataset skeletons of dataset rig have not been scored yet"
        assert client.get("/api/datasets/nope/quality/").status_code == 404
        assert client.get("/api/datasets/rig/quality/?bins=0").status_code == 400
        assert client.get("/api/datasets/rig/quality/?sort=random").status_code == 400
        assert client.get("/api/jobs/999999/").status_code == 404


class OtherLayoutRefusalTests:
    """Features that exist for COCO-WholeBody only answer a COCO-17 dataset with a 400 that says so, and write
    nothing (``keypoints.require_layout`` at the service or job start)."""

    def test_suggestions_are_not_offered_for_a_body_only_dataset(self, rig, users):
        from tests.coco17 import as_coco17

        as_coco17("rig")
        frame = Frame.objects.filter(sequence__subject__dataset=rig).order_by("pk").first()
        task = task_create(frame=frame, assignee=users["annotator"])
        view = _views(task)[0]
        for body in (
            {"part": "face"},
            {"part": "left_hand", "model": "pretrained"},
            {"part": "right_hand", "model": "refiner"},
        ):
            response = _refine(users["annotator"], task, view=view.pk, **body)
            assert response.status_code == status.HTTP_400_BAD_REQUEST, body
            message = response.json()["message"]
            assert message == ("suggesting positions (with the face and hand refiners or the pretrained whole-body "
                               "model) applies to the COCO-WholeBody layout (coco-wholebody-133/v1) only; this data "
                               "uses COCO-17 (coco-17/v1)")  # fmt: skip
            assert response.json()["extra"] == {"layout": "coco-17/v1", "needed": "coco-wholebody-133/v1"}
        assert not Correction.objects.exists()

    def test_scoring_and_its_report_refuse_a_coco17_dataset(self, rig, users):
        from tests.coco17 import as_coco17

        as_coco17("rig")
        client = _as(users["reviewer"])
        response = client.post("/api/jobs/score/", {"dataset": "rig"}, format="json")
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert response.json()["message"].startswith("multi-crop quality scoring (face and hand crops) applies to")
        assert "COCO-17" in response.json()["message"]
        assert not Job.objects.exists() and not QualityScore.objects.exists()
        response = client.get("/api/datasets/rig/quality/?source=dataset")
        assert response.status_code == status.HTTP_400_BAD_REQUEST and "COCO-17" in response.json()["message"]
