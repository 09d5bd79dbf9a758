"""Export and evaluation endpoints: reviewers only, a job with progress and a download, 4xx in one format."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework import status
from rest_framework.test import APIClient

from annotator import evaluation
from annotator.models import Export, Job
from annotator.tasks import job_chunk_task
from tests.annotator.exporters.export_data import accepted_task


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
class ExportApiTests:
    def test_annotators_may_not_export(self, users, frames):
        response = _client(users["annotator"]).post("/api/exports/", {"dataset": "tasks-test", "format": "h3wb"})
        assert response.status_code == status.HTTP_403_FORBIDDEN
        assert set(response.json()) == {"message", "extra"}

    def test_create_run_list_download(self, users, frames, django_capture_on_commit_callbacks):
        accepted_task(frames, users)
        client = _client(users["reviewer"])
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = client.post("/api/exports/", {"dataset": "tasks-test", "format": "coco-wholebody"},
                                   format="json")  # fmt: skip
        assert response.status_code == status.HTTP_201_CREATED, response.json()
        created = response.json()
        assert created["status"] == "queued" and created["version"] == "latest-accepted"
        assert callbacks  # the task is enqueued once the transaction commits
        assert client.get(created["download_url"]).status_code == status.HTTP_404_NOT_FOUND

        result = job_chunk_task.call(Export.objects.get(pk=created["id"]).job_id, 0)
        assert result["job"] == Job.Status.DONE
        listed = client.get("/api/exports/").json()
        assert listed[0]["id"] == created["id"] and listed[0]["status"] == "done"
        assert listed[0]["samples"] == 4 * len(frames)
        assert listed[0]["progress_done"] == listed[0]["progress_total"]
        download = client.get(created["download_url"])
        assert download.status_code == status.HTTP_200_OK
        content = b"".join(download.streaming_content)
        assert listed[0]["size_bytes"] == len(content)
        data = json.loads(content)
        assert len(data["annotations"]) == 4 * len(frames)
        prov = json.loads(b"".join(client.get(created["provenance_url"]).streaming_content))
        assert prov["version"] == "latest-accepted"
        assert client.get(f"/api/exports/{created['id']}/download/?file=x").status_code == 404

    @pytest.mark.parametrize(
        ("body", "code", "message"),
        [
            ({"dataset": "nope", "format": "h3wb"}, 404, "no dataset named 'nope'"),
            ({"dataset": "tasks-test", "format": "csv"}, 400, "format"),
            ({"dataset": "tasks-test", "format": "h3wb", "version": "best"}, 400, "unknown version 'best'"),
            ({"dataset": "tasks-test", "format": "h3wb", "subjects": ["S9"]}, 404, "has no subject S9"),
        ],
    )
    def test_bad_requests(self, users, frames, body, code, message):
        response = _client(users["reviewer"]).post("/api/exports/", body, format="json")
        assert response.status_code == code
        assert message in response.json()["message"] and "extra" in response.json()
        assert not Export.objects.exists()

    def test_a_frame_without_the_version_fails_the_job(self, users, frames):
        client = _client(users["admin"])
        created = client.post("/api/exports/", {"dataset": "tasks-test", "format": "h3wb", "version": "ground_truth"},
                              format="json").json()  # fmt: skip
        job_chunk_task.call(Export.objects.get(pk=created["id"]).job_id, 0)
        row = client.get("/api/exports/").json()[0]
        assert row["status"] == "failed" and "has no ground_truth skeleton" in row["error"]
        response = client.get(created["download_url"])
        assert response.status_code == 404 and response.json()["extra"]["status"] == "failed"


@pytest.mark.django_db
class EvaluationApiTests:
    def _upload(self, frames, name="pred.json", content=None):
        from annotator.models import View

        if content is None:
            data = {}
            for view in View.objects.select_related("camera").order_by("sample_id"):
                d = next(d for d in frames if d.frame.pk == view.frame_id)
                X = d.world @ view.camera.as_geometry().R.T
                data[str(view.sample_id)] = {"keypoints_3d": {str(j): dict(zip("xyz", p)) for j, p in
                                                              enumerate(X.tolist())}}  # fmt: skip
            content = json.dumps(data).encode()
        return SimpleUploadedFile(name, content, content_type="application/json")

    def test_evaluate(self, users, frames):
        response = _client(users["reviewer"]).post(
            "/api/evaluations/", {"predictions": self._upload(frames), "dataset": "tasks-test"}, format="multipart"
        )
        assert response.status_code == status.HTTP_200_OK, response.json()
        report = response.json()
        assert report["overall"]["samples"] == 4 * len(frames)
        assert report["overall"]["all"] == pytest.approx(0, abs=1e-6)

    def test_the_uploaded_name_gives_task_and_fold(self, users, frames):
        """As the official evaluator reads its path: here the uploaded name only, never the server's temp folder."""
        upload = self._upload(frames, name="RGBto3D_cv1_pred.json")
        data = json.loads(upload.read())
        fold = {k: v for k, v in data.items() if int(k) < len(data) // 5}  # fold 1: the first fifth of the ids
        response = _client(users["reviewer"]).post(
            "/api/evaluations/",
            {"predictions": self._upload(frames, name="RGBto3D_cv1_pred.json", content=json.dumps(fold).encode()),
             "dataset": "tasks-test"},
            format="multipart",
        )  # fmt: skip
        assert response.status_code == status.HTTP_200_OK, response.json()
        report = response.json()
        assert (report["task"], report["cv"], report["predictions"]) == ("rgb", 1, "RGBto3D_cv1_pred.json")
        assert report["overall"]["samples"] == len(fold)

    def test_bad_predictions_name_the_sample(self, users, frames):
        response = _client(users["reviewer"]).post(
            "/api/evaluations/",
            {"predictions": self._upload(frames, content=b'{"0": {"keypoints_3d": 5}}'), "dataset": "tasks-test"},
            format="multipart",
        )
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert "sample 0" in response.json()["message"]

    @pytest.mark.parametrize(
        "content, message",
        [
            # Issue 16 item 1: 80 kB nested 40,000 deep cost the web process 4 GB; now refused before it is parsed.
            (b'{"0": {"keypoints_3d": ' + b"[" * 40_000 + b"]" * 40_000 + b"}}", "nested deeper than 8 levels"),
            (b'{"0": {"keypoints_3d": ' + b"1" * 200_000 + b"}}", "longer than|of 65536 bytes or more"),
            (b'{"0": {"keypoints_3d": {"0": {"x": true, "y": 1, "z": 2}}}}', "sample 0: keypoints_3d must have"),
        ],
    )
    def test_hostile_uploads_are_refused_with_a_4xx(self, users, frames, content, message):
        import resource

        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        response = _client(users["reviewer"]).post(
            "/api/evaluations/", {"predictions": self._upload(frames, content=content), "dataset": "tasks-test"},
            format="multipart",
        )  # fmt: skip
        assert response.status_code == status.HTTP_400_BAD_REQUEST, response.json()
        assert re.search(message, response.json()["message"]), response.json()["message"]
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # kB: no gigabytes

    def test_too_large(self, users, frames, monkeypatch):
        monkeypatch.setattr(evaluation, "MAX_PREDICTIONS_BYTES", 10)
        response = _client(users["reviewer"]).post(
            "/api/evaluations/", {"predictions": self._upload(frames), "dataset": "tasks-test"}, format="multipart"
        )
        assert response.status_code == status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        assert "limit" in response.json()["message"]

    def test_annotators_may_not_evaluate(self, users, frames):
        response = _client(users["annotator"]).post(
            "/api/evaluations/", {"predictions": self._upload(frames), "dataset": "tasks-test"}, format="multipart"
        )
        assert response.status_code == status.HTTP_403_FORBIDDEN
