"""H3WB evaluation is COCO-WholeBody's protocol: against a dataset of another layout (COCO-17) it is refused
clearly, from the service, the command line and the API, before the predictions are read."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from rest_framework import status
from rest_framework.test import APIClient

from annotator.evaluation import evaluate_predictions
from annotator.exceptions import NotApplicableError
from annotator.models import Dataset
from annotator.services.multiview_imports import dataset_import_multiview
from tests.multiview_files import write_multiview

MESSAGE = (
    "H3WB evaluation against dataset ring17 applies to the COCO-WholeBody layout (coco-wholebody-133/v1) only; "
    "this data uses COCO-17 (coco-17/v1)"
)


@pytest.fixture
def predictions(db, tmp_path):
    dataset_import_multiview(dataset_name="ring17", path=write_multiview(tmp_path / "mv", layout="coco-17").path)
    path = tmp_path / "preds.json"
    path.write_text(json.dumps({"0": {"keypoints_3d": {str(j): {"x": 0, "y": 0, "z": 0} for j in range(17)}}}))
    return path


@pytest.mark.django_db
class EvaluationOtherLayoutTests:
    def test_the_service_refuses(self, predictions):
        with pytest.raises(NotApplicableError) as caught:
            evaluate_predictions(predictions=predictions, dataset=Dataset.objects.get(name="ring17"))
        assert caught.value.message == MESSAGE

    def test_the_command_line_says_why(self, predictions):
        with pytest.raises(CommandError) as caught:
            call_command("evaluate_predictions", "--predictions", str(predictions), "--dataset", "ring17",
                         stdout=StringIO())  # fmt: skip
        assert str(caught.value) == MESSAGE

    def test_the_api_says_why(self, predictions, users):
        client = APIClient()
        client.force_authenticate(users["reviewer"])
        upload = SimpleUploadedFile("preds.json", predictions.read_bytes(), content_type="application/json")
        response = client.post("/api/evaluations/", {"predictions": upload, "dataset": "ring17"}, format="multipart")
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert response.json()["message"] == MESSAGE
