"""The generic multi-view export: what it writes is what the importer reads back (rig file beside it, or the
Human3.6M preset), corrections included; a failed export leaves no file; the API offers the rig for download."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rest_framework.test import APIClient

from annotator import camera_formats, multiview_format
from annotator.exceptions import ApplicationError
from annotator.exporters import write_export
from annotator.models import Camera, Dataset, Export, Frame, Job, Skeleton3D, View
from annotator.services.multiview_imports import dataset_import_multiview
from annotator.tasks import job_chunk_task
from tests.annotator.exporters.export_data import MOVED, accepted_task
from tests.multiview_files import write_multiview


def _frames(name: str) -> dict:
    """(subject, sequence, index) -> (dataset skeleton, {camera: (image path, 2D)}) of a dataset."""
    out = {}
    for frame in Frame.objects.filter(sequence__subject__dataset__name=name).select_related("sequence__subject"):
        skeleton = frame.skeletons.filter(source=Skeleton3D.Source.DATASET).order_by("-version").first()
        views = {v.camera.name: (v.image_path, v.keypoints_2d) for v in frame.views.select_related("camera")}
        out[(frame.sequence.subject.name, frame.sequence.action, frame.index)] = (skeleton.keypoints, views)
    return out


@pytest.mark.django_db
class MultiviewExportTests:
    def test_a_ring_dataset_round_trips_with_its_anipose_rig(self, tmp_path):
        written = write_multiview(tmp_path / "in")
        dataset_import_multiview(dataset_name="ring", path=written.path)
        out = tmp_path / "out" / "ring.jsonl"
        summary = write_export(dataset=Dataset.objects.get(name="ring"), fmt="multiview", version="dataset", out=out)
        assert summary.samples == 18 and summary.frames == 3
        header = json.loads(out.read_text().splitlines()[0])
        assert header["rig"] == {"format": "anipose", "file": "ring.rig.toml"}
        assert header["units"] == "mm" and header["keypoints_2d_convention"] == "distorted"
        assert (tmp_path / "out" / "ring.provenance.json").is_file()
        rig = camera_formats.read_rig(tmp_path / "out" / "ring.rig.toml")
        for a, b in zip(rig.cameras, written.cameras, strict=True):
            np.testing.assert_allclose(a.P, b.P, rtol=1e-12, atol=1e-9)

        dataset_import_multiview(dataset_name="ring-back", path=out)
        before, after = _frames("ring"), _frames("ring-back")
        assert before.keys() == after.keys()
        for key, (X, views) in before.items():
            np.testing.assert_allclose(after[key][0], X, atol=1e-4)
            assert after[key][1].keys() == views.keys()
            for cam, (path, xy) in views.items():
                assert after[key][1][cam][0] == path
                np.testing.assert_allclose(after[key][1][cam][1], xy, atol=1e-4)

    def test_corrections_are_exported_and_come_back_as_the_dataset(self, tmp_path, users, frames):
        """An H3WB dataset (the Human3.6M preset, pinhole 2D): the accepted version's clicks and 3D round trip."""
        done = accepted_task(frames, users)
        out = tmp_path / "h3wb.jsonl"
        write_export(
            dataset=Dataset.objects.get(name="tasks-test"), fmt="multiview", version="latest-accepted", out=out
        )
        lines = out.read_text().splitlines()
        header = multiview_format.parse_header(json.loads(lines[0]))
        assert header.rig_format == "h36m" and header.rig_file is None
        assert not list(tmp_path.glob("*.rig.*"))
        dataset_import_multiview(dataset_name="back", path=out)
        frame = done.task.frame
        corrected = done.task.current_keypoints
        back = Skeleton3D.objects.get(frame__sequence__subject__dataset__name="back", frame__index=frame.index,
                                      frame__sequence__action=frame.sequence.action, source="dataset")  # fmt: skip
        np.testing.assert_allclose(back.keypoints, corrected, atol=1e-3)
        first_view = done.data.views[0]
        clicked = View.objects.get(frame__sequence__subject__dataset__name="back", frame__index=frame.index,
                                   frame__sequence__action=frame.sequence.action,
                                   camera__name=first_view.camera.name)  # fmt: skip
        exported = json.loads(lines[1])["views"][first_view.camera.name]["keypoints_2d"][MOVED]
        np.testing.assert_allclose(clicked.keypoints_2d[MOVED], exported, atol=1e-9)
        for cam in Camera.objects.filter(subject__dataset__name="back"):
            original = Camera.objects.get(subject__dataset__name="tasks-test", subject__name=cam.subject.name,
                                          name=cam.name)  # fmt: skip
            np.testing.assert_allclose(cam.as_geometry().P, original.as_geometry().P)

    def test_a_failed_export_leaves_no_file(self, tmp_path):
        dataset_import_multiview(dataset_name="ring", path=write_multiview(tmp_path / "in").path)
        out = tmp_path / "out" / "ring.jsonl"
        with pytest.raises(ApplicationError, match="has no ground_truth skeleton"):
            write_export(dataset=Dataset.objects.get(name="ring"), fmt="multiview", version="ground_truth", out=out)
        assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


@pytest.mark.django_db
def test_the_api_offers_the_rig_beside_the_export(tmp_path, users, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    dataset_import_multiview(dataset_name="ring", path=write_multiview(tmp_path / "in").path)
    client = APIClient()
    client.force_authenticate(users["reviewer"])
    created = client.post("/api/exports/", {"dataset": "ring", "format": "multiview", "version": "dataset"},
                          format="json").json()  # fmt: skip
    assert job_chunk_task.call(Export.objects.get(pk=created["id"]).job_id, 0)["job"] == Job.Status.DONE
    row = client.get("/api/exports/").json()[0]
    assert row["rig_url"] == f"/api/exports/{created['id']}/download/?file=rig"
    rig = client.get(row["rig_url"])
    assert rig.status_code == 200 and rig["Content-Type"] == "application/toml"
    assert b"".join(rig.streaming_content).startswith(b'[cam_0]\nname = "A"')
    data = b"".join(client.get(row["download_url"]).streaming_content).decode()
    assert json.loads(data.splitlines()[0])["rig"]["file"].endswith(".rig.toml")
