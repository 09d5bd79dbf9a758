"""The Exports page: reviewers only; the evaluation form renders the benchmark table or the error."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from annotator.services.imports import dataset_import_h3wb
from tests.h3wb_files import write_release


@pytest.fixture
def release(db, tmp_path):
    written = write_release(tmp_path / "rel.json", [("S1", "Walking 1", 5)])
    dataset_import_h3wb(dataset_name="page", annotations=written.path)
    return written


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
class ExportsPageTests:
    def test_reviewers_only(self, users, release):
        assert _client(users["annotator"]).get("/exports/").status_code == 403
        html = _client(users["reviewer"]).get("/exports/").content.decode()
        assert 'id="export-form"' in html and "latest-accepted" in html and "coco-wholebody" in html

    def test_evaluate_form(self, users, release):
        preds = {k: {"keypoints_3d": v["keypoints_3d"]} for k, v in release.data.items()}
        upload = SimpleUploadedFile("pred.json", json.dumps(preds).encode())
        response = _client(users["reviewer"]).post("/exports/", {"predictions": upload, "dataset": "page",
                                                                 "version": "dataset", "task": ""})  # fmt: skip
        html = response.content.decode()
        assert response.status_code == 200 and 'id="evaluation-table"' in html and "PA-MPJPE" in html

    def test_evaluate_error(self, users, release):
        upload = SimpleUploadedFile("pred.json", b"[1, 2]")
        response = _client(users["reviewer"]).post("/exports/", {"predictions": upload, "dataset": "page"})
        assert response.status_code == 400 and "one JSON object keyed by sample id" in response.content.decode()
