"""Provenance side file: per sample and keypoint, original / corrected / model-assisted / re-triangulated, flags."""

from __future__ import annotations

import json

import numpy as np
import pytest

from annotator.exporters import write_export
from annotator.exporters.provenance import provenance_path
from annotator.exporters.versions import MissingVersionError, parse_version, resolve
from annotator.models import Dataset, QualityScore
from tests.annotator.exporters.export_data import MODEL, MOVE_PX, MOVED, OCCLUDED, UNSURE, accepted_task


def _export(tmp_path, version="latest-accepted", fmt="h3wb"):
    out = tmp_path / "out.json"
    write_export(dataset=Dataset.objects.get(name="tasks-test"), fmt=fmt, version=version, out=out)
    return json.loads(out.read_text()), json.loads(provenance_path(out).read_text())


@pytest.mark.django_db
class ProvenanceTests:
    def test_path(self, tmp_path):
        assert provenance_path(tmp_path / "a.json") == tmp_path / "a.provenance.json"
        assert provenance_path(tmp_path / "a") == tmp_path / "a.provenance.json"

    def test_accepted_corrections(self, frames, users, tmp_path):
        accepted = accepted_task(frames, users)
        exported, prov = _export(tmp_path)
        assert prov["version"] == "latest-accepted" and prov["dataset"] == "tasks-test"
        assert set(prov["keypoint_statuses"]) == {"original", "corrected", "model_assisted", "retriangulated"}
        by_view = {r["view"]: r for r in prov["samples"]}
        views = [v.pk for v in accepted.data.views]
        first = by_view[views[0]]
        assert first["skeleton"]["task"] == accepted.task.pk
        assert first["skeleton"]["id"] == accepted.task.result_skeleton_id
        assert first["skeleton"]["source"] == "corrected"
        moved = first["keypoints"][str(MOVED)]
        assert moved["status"] == "corrected" and moved["author"] == "ann" and moved["at"].endswith("Z")
        assert moved["moved_px"] == pytest.approx(MOVE_PX, abs=1e-3)
        task = accepted.task
        task.refresh_from_db()
        moved_mm = np.linalg.norm(task.result_skeleton.keypoints[MOVED] - task.base_skeleton.keypoints[MOVED])
        assert moved_mm > 1.0 and moved["moved_mm"] == pytest.approx(moved_mm, abs=1e-3)
        assert first["keypoints"][str(UNSURE)]["flag"] == "unsure"
        assert by_view[views[1]]["keypoints"][str(MODEL)]["status"] == "model_assisted"
        # Corrected in view 0 only: in the other views it moved because it was re-triangulated.
        assert by_view[views[1]]["keypoints"][str(MOVED)]["status"] == "retriangulated"
        assert by_view[views[2]]["keypoints"][str(OCCLUDED)]["flag"] == "occluded"
        assert by_view[views[3]]["part_valid"]["left_hand"] is False
        # The exported 2D keeps the annotator's click in the corrected view.
        sample = exported[str(first["id"])]
        x, y = accepted.data.project(0, accepted.data.world)[MOVED]
        assert [sample["keypoints_2d"][str(MOVED)][a] for a in "xy"] == pytest.approx([x + MOVE_PX, y], abs=1e-3)
        # Frames without a task are the dataset's, untouched.
        others = [r for r in prov["samples"] if r["view"] not in views]
        assert others and all(r["skeleton"]["source"] == "dataset" and r["keypoints"] == {} for r in others)
        assert all(r["fbi_labels"] == [] for r in prov["samples"])

    def test_dataset_version_is_all_original(self, frames, users, tmp_path):
        accepted_task(frames, users)
        _, prov = _export(tmp_path, version="dataset")
        assert all(r["keypoints"] == {} and r["skeleton"]["task"] is None for r in prov["samples"])

    def test_corrected_source_finds_its_task(self, frames, users):
        accepted = accepted_task(frames, users)
        frame_id = accepted.data.frame.pk
        found = resolve(parse_version("corrected"), [frame_id], str)[frame_id]
        assert (found.id, found.task_id) == (accepted.task.result_skeleton_id, accepted.task.pk)
        with pytest.raises(MissingVersionError, match=f"frame {frames[1].frame.pk} has no corrected skeleton"):
            resolve(parse_version("corrected"), [frame_id, frames[1].frame.pk], str)

    def test_quality_scores(self, frames, users, tmp_path):
        accepted = accepted_task(frames, users)
        QualityScore.objects.create(skeleton=accepted.task.result_skeleton, model_name="m", checkpoint="abc",
                                    score=1.5, per_part={"face": 1.0})  # fmt: skip
        _, prov = _export(tmp_path)
        scored = [r for r in prov["samples"] if r["quality_scores"]]
        assert len(scored) == len(accepted.data.views)
        assert scored[0]["quality_scores"][0] == {"model": "m", "checkpoint": "abc", "score": 1.5,
                                                  "per_part": {"face": 1.0}}  # fmt: skip
        assert np.isfinite(scored[0]["quality_scores"][0]["score"])
