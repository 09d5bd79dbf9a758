"""Exports of a dataset in another keypoint layout (COCO-17 on the 6-camera ring): the generic format carries
its layout through an export and a re-import; the formats that are COCO-WholeBody's refuse it clearly and write
nothing, from the service, the command line and the API."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from rest_framework import status
from rest_framework.test import APIClient

from annotator import keypoints
from annotator.exceptions import NotApplicableError
from annotator.exporters import WHOLEBODY_FORMATS, write_export
from annotator.models import Dataset, Export, Job, Skeleton3D
from annotator.services.exports import export_create
from annotator.services.multiview_imports import dataset_import_multiview
from tests.multiview_files import write_multiview

COCO17 = keypoints.layout_get("coco-17")


@pytest.fixture
def coco17(db, tmp_path):
    written = write_multiview(tmp_path / "in", layout="coco-17")
    dataset_import_multiview(dataset_name="ring17", path=written.path)
    return written


@pytest.mark.django_db
class LayoutExportTests:
    def test_the_generic_format_round_trips_a_coco17_dataset(self, coco17, tmp_path):
        dataset = Dataset.objects.get(name="ring17")
        assert dataset.layout is COCO17
        out = tmp_path / "out" / "ring17.jsonl"
        summary = write_export(dataset=dataset, fmt="multiview", version="dataset", out=out)
        assert summary.samples == 18
        lines = out.read_text().splitlines()
        header = json.loads(lines[0])
        assert (header["layout"], header["keypoints"]) == ("coco-17/v1", 17)
        assert all(len(json.loads(line)["keypoints_3d"]) == 17 for line in lines[1:])
        provenance = json.loads((tmp_path / "out" / "ring17.provenance.json").read_text())
        assert provenance["layout_version"] == "coco-17/v1"
        # No part of COCO-17 records validity: the records say so, not the whole body's face and hands.
        assert {json.dumps(r["part_valid"]) for r in provenance["samples"]} == {"{}"}

        dataset_import_multiview(dataset_name="ring17-back", path=out)
        back = Dataset.objects.get(name="ring17-back")
        assert back.layout_version == "coco-17/v1"
        for key, X in coco17.world.items():
            stored = Skeleton3D.objects.get(
                frame__sequence__subject__dataset=back, frame__sequence__subject__name=key[0],
                frame__sequence__action=key[1], frame__index=key[2], source=Skeleton3D.Source.DATASET,
            )  # fmt: skip
            np.testing.assert_allclose(stored.keypoints, X, atol=1e-3)

    @pytest.mark.parametrize("fmt", sorted(WHOLEBODY_FORMATS))
    def test_wholebody_formats_are_refused_and_write_nothing(self, coco17, tmp_path, fmt):
        out = tmp_path / "out" / f"x.{fmt}"
        with pytest.raises(NotApplicableError) as caught:
            write_export(dataset=Dataset.objects.get(name="ring17"), fmt=fmt, version="dataset", out=out)
        assert caught.value.message == (
            f"{WHOLEBODY_FORMATS[fmt]} applies to the COCO-WholeBody layout (coco-wholebody-133/v1) only; "
            "this data uses COCO-17 (coco-17/v1)"
        )
        assert not out.parent.exists() or list(out.parent.iterdir()) == []
        with pytest.raises(NotApplicableError):
            export_create(dataset_name="ring17", fmt=fmt, version="dataset")
        assert (Export.objects.count(), Job.objects.count()) == (0, 0)

    def test_the_command_line_says_why(self, coco17, tmp_path):
        out = tmp_path / "x.json"
        with pytest.raises(CommandError, match=r"nothing was written: the H3WB JSON export applies to the "
                                               r"COCO-WholeBody layout .* this data uses COCO-17"):  # fmt: skip
            call_command("export_dataset", "--dataset", "ring17", "--format", "h3wb", "--version", "dataset",
                         "--out", str(out), "--no-progress", stdout=StringIO())  # fmt: skip
        assert not out.exists()

    def test_the_api_says_why(self, coco17, users):
        client = APIClient()
        client.force_authenticate(users["reviewer"])
        response = client.post("/api/exports/", {"dataset": "ring17", "format": "h3wb-npz"}, format="json")
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        body = response.json()
        assert body["message"].startswith("the H3WB npz export applies to the COCO-WholeBody layout")
        assert body["extra"] == {"layout": "coco-17/v1", "needed": "coco-wholebody-133/v1"}
        assert Export.objects.count() == 0
        ok = client.post("/api/exports/", {"dataset": "ring17", "format": "multiview"}, format="json")
        assert ok.status_code == status.HTTP_201_CREATED, ok.json()
