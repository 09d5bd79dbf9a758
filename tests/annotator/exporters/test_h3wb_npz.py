"""H3WB npz: the official layouts import (train, test sets, mmpose's bbox variant), and exports read back with
transcriptions of PAFUSE's and mmpose's loaders; the npz reader never unpickles code."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from annotator import h3wb_format, h36m, keypoints
from annotator.exceptions import ImportFormatError
from annotator.exporters import write_export
from annotator.importers.npz import NpzError, load_npz
from annotator.models import Dataset, Skeleton3D, View
from annotator.services.imports import dataset_import_h3wb
from tests.h3wb_release import write_release
from tests.transcriptions.mmpose_h3wb import H36MWholeBodyData
from tests.transcriptions.pafuse import Human3WBData


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return write_release(tmp_path_factory.mktemp("release"), seed=11)


@pytest.mark.django_db
class NpzImportTests:
    def test_training_npz_imports_like_the_json_release(self, release):
        report = dataset_import_h3wb(dataset_name="npz", annotations=release.path("h3wb_train.npz"))
        assert "npz training file" in report.kind and report.samples == len(release.train)
        assert any("camera_3d follows R X + T" in note for note in report.notes)
        dataset = Dataset.objects.get(name="npz")
        assert dataset.sample_ids == Dataset.SampleIds.TRAIN and dataset.keypoints_2d_convention == "pinhole"
        assert dataset.keypoints_2d_residual_px["pinhole"] < 1e-6 < dataset.keypoints_2d_residual_px["distorted"]
        for sid, sample in list(release.train.items())[:8]:
            view = View.objects.select_related("frame__sequence__subject", "camera").get(sample_id=sid)
            assert (view.frame.sequence.subject.name, view.frame.sequence.action, view.frame.index,
                    view.camera.name) == (sample.ref.subject, sample.ref.action, sample.ref.frame_index,
                                          sample.ref.camera_id)  # fmt: skip
            skeleton = Skeleton3D.objects.get(frame=view.frame, source="dataset")
            np.testing.assert_allclose(skeleton.keypoints, sample.world, atol=1e-6)
            np.testing.assert_allclose(view.keypoints_2d, sample.points_2d, atol=1e-6)
            assert view.bbox is not None  # mmpose's bbox member

    def test_test_sets(self, release):
        dataset_import_h3wb(dataset_name="t", annotations=release.path("task1_test_3d.npz"))
        dataset_import_h3wb(dataset_name="t", annotations=release.path("task2_test_3d.npz"))
        dataset = Dataset.objects.get(name="t")
        assert dataset.sample_ids == Dataset.SampleIds.LIFTING_TEST
        ids = set(View.objects.filter(frame__sequence__subject__dataset=dataset).values_list("sample_id", flat=True))
        assert ids == set(release.test_2d) | set(release.test_i2d)

    def test_one_sample_id_per_sequence_is_not_taken_for_frame_ids(self, tmp_path):
        release = write_release(tmp_path, seed=2, train_instants=24)  # several frames per subject and action
        members = {k: v.item() for k, v in np.load(release.path("h3wb_train.npz"), allow_pickle=True).items()}
        for actions in members["train_data"].values():
            for block in actions.values():
                for camera_id in h36m.CAMERA_IDS:
                    block[camera_id]["sample_id"] = np.int64(block[camera_id]["sample_id"][0])
        path = tmp_path / "h3wb_train.npz"
        np.savez(path, **members)
        report = dataset_import_h3wb(dataset_name="scalar", annotations=path)
        assert report.samples == len(release.train) and any("not used" in note for note in report.notes)

    def test_malicious_pickle_is_refused_and_not_run(self, tmp_path):
        marker = tmp_path / "ran"

        class Exploit:
            def __reduce__(self):
                return (os.system, (f"touch {marker}",))

        path = tmp_path / "h3wb_train.npz"
        np.savez(path, train_data=np.array(Exploit(), dtype=object))
        with pytest.raises(ImportFormatError, match=r"refused to load (posix|os)\.system: the file asks for code"):
            dataset_import_h3wb(dataset_name="evil", annotations=path)
        assert not marker.exists() and not Dataset.objects.filter(name="evil").exists()

    @pytest.mark.parametrize(
        "damage, message",
        [
            ("bool-coordinates", r"S1 / Directions 1 / 54138969: camera_3d must be a numeric array, got array of bool"),
            ("huge", r"camera_3d\[0, 0, 0\] = .* is not finite within 100000"),
            ("nul-action", r"action contains a control character"),
            ("long-action", r"action is 300 characters long; the limit is 100"),
            ("frame", r"frame_id must be distinct non-negative frame indices"),
            ("metadata", r"metadata / S1 / 54138969: T differs from the shipped Human3.6M calibration"),
        ],
    )
    def test_every_value_is_checked(self, release, tmp_path, damage, message):
        members = {k: v.item() for k, v in np.load(release.path("h3wb_train.npz"), allow_pickle=True).items()}
        action = members["train_data"]["S1"]["Directions 1"]
        if damage == "bool-coordinates":
            action["54138969"]["camera_3d"] = action["54138969"]["camera_3d"] > 0
        elif damage == "huge":
            action["54138969"]["camera_3d"][0, 0, 0] = 1e300
        elif damage in ("nul-action", "long-action"):
            name = "Dir\x00ections" if damage == "nul-action" else "A" * 300
            members["train_data"]["S1"][name] = members["train_data"]["S1"].pop("Directions 1")
        elif damage == "frame":
            action["frame_id"][:] = -1
        elif damage == "metadata":
            members["metadata"]["S1"]["54138969"]["T"] = members["metadata"]["S1"]["54138969"]["T"] + 0.5
        path = tmp_path / "h3wb_train.npz"
        np.savez(path, **members)
        with pytest.raises(ImportFormatError, match=message):
            dataset_import_h3wb(dataset_name="bad", annotations=path)
        assert not Dataset.objects.filter(name="bad").exists()


def test_zip_bomb_and_deep_nesting_are_refused(tmp_path):
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, data=np.zeros(50_000_000, dtype=np.uint8))  # 50 MB of zeros in ~50 kB
    with pytest.raises(NpzError, match="inflate"):
        load_npz(path)
    nested: list = []
    for _ in range(50):
        nested = [nested]
    deep = tmp_path / "deep.npz"
    array = np.empty((), dtype=object)
    array[()] = nested
    with open(deep, "wb") as fh:  # np.savez of the pickled object array, written by hand to keep it small
        np.savez(fh, data=array)
    with pytest.raises(NpzError, match="nested deeper than 8 levels"):
        load_npz(deep)
    assert pickle.loads(pickle.dumps(nested)) == nested  # the structure itself is fine; only the limit refuses it


@pytest.mark.django_db
class NpzExportTests:
    @pytest.fixture
    def exported(self, release, tmp_path):
        dataset_import_h3wb(dataset_name="src", annotations=release.path("RGBto3D_train.json"),
                            keypoints_2d=release.path("2Dto3D_train.json"))  # fmt: skip
        out = tmp_path / "h3wb_train.npz"
        summary = write_export(dataset=Dataset.objects.get(name="src"), fmt="h3wb-npz", version="dataset", out=out)
        assert summary.samples == len(release.train) and summary.provenance.name == "h3wb_train.provenance.json"
        return out

    def test_pafuse_loader_reads_it(self, release, exported):
        data = Human3WBData(str(exported))  # PAFUSE adds its pelvis root: 134 joints
        assert set(data._data) == set(s.ref.subject for s in release.train.values())
        assert len(data.joints_left) == len(data.joints_right) > 0
        for subject, actions in data._data.items():
            for action, seq in actions.items():
                for i, cam_id in enumerate(Human3WBData.camera_order_id):
                    cam = h36m.camera(subject, cam_id)
                    samples = sorted((s for s in release.train.values() if (s.ref.subject, s.ref.action,
                                      s.ref.camera_id) == (subject, action, cam_id)),
                                     key=lambda s: s.ref.frame_index)  # fmt: skip
                    truth_3d = np.stack([s.world @ cam.R.T + cam.t for s in samples])
                    truth_2d = np.stack([s.points_2d for s in samples])
                    # PAFUSE squeezes: one frame comes back as (134, D); joint 0 is its added pelvis.
                    got_3d, got_2d = (
                        x[None] if x.ndim == 2 else x for x in (seq["positions_3d"][i], seq["pose_2d"][i])
                    )
                    np.testing.assert_allclose(got_3d[:, 1:], truth_3d, atol=1e-3)
                    np.testing.assert_allclose(got_2d[:, 1:], truth_2d, atol=1e-3)
        # The part indices PAFUSE builds cover the 134 joints once.
        parts = sorted(i for idx in data.parts_joint_indices.values() for i in idx)
        assert parts == list(range(keypoints.NUM_KEYPOINTS + 1))

    def test_mmpose_loader_reads_it(self, release, exported):
        subjects = sorted({s.ref.subject for s in release.train.values()})
        data = H36MWholeBodyData(str(exported), subjects)
        assert len(data.instance_list) == len(release.train)
        first = data.instance_list[0]
        assert first["keypoints_3d"].shape == (1, keypoints.NUM_KEYPOINTS, 3) and first["bbox"].shape == (1, 4)
        f = first["camera_param"][0]["f"]
        assert f[0] == pytest.approx(h36m.camera(subjects[0], "54138969").K[0, 0], abs=1e-2)

    def test_round_trip_through_the_importer(self, release, exported):
        dataset_import_h3wb(dataset_name="back", annotations=exported)
        for sid, sample in list(release.train.items())[:8]:
            view = View.objects.get(sample_id=sid, frame__sequence__subject__dataset__name="back")
            np.testing.assert_allclose(Skeleton3D.objects.get(frame=view.frame, source="dataset").keypoints,
                                       sample.world, atol=1e-6)  # fmt: skip


@pytest.mark.django_db
def test_exports_write_2d_in_the_dataset_convention(release, tmp_path):
    """A pinhole dataset (the H3WB release) gets pinhole projections for every version, not the distorted pixels."""
    import json

    from annotator import geometry

    dataset_import_h3wb(dataset_name="pin", annotations=release.path("RGBto3D_train.json"),
                        keypoints_2d=release.path("2Dto3D_train.json"))  # fmt: skip
    for skeleton in Skeleton3D.objects.filter(frame__sequence__subject__dataset__name="pin"):
        Skeleton3D.objects.create(frame=skeleton.frame, version=skeleton.version + 1, source="triangulated",
                                  keypoints=skeleton.keypoints)  # fmt: skip
    out = tmp_path / "tri.json"
    write_export(dataset=Dataset.objects.get(name="pin"), fmt="h3wb", version="triangulated", out=out)
    exported = json.loads(out.read_text())
    assert sorted(exported, key=int) == [str(i) for i in sorted(release.train)]
    worst = 0.0
    for key, sample in release.train.items():
        xy = np.array([[p["x"], p["y"]] for p in exported[str(key)]["keypoints_2d"].values()])
        np.testing.assert_allclose(xy, sample.points_2d, atol=1e-3)  # the release's own (pinhole) 2D
        worst = max(worst, float(np.abs(xy - geometry.project(sample.camera(), sample.world)).max()))
    assert worst > 1.0  # the distorted projection would have been pixels away
    provenance = json.loads(out.with_suffix(".provenance.json").read_text())
    assert provenance["keypoints_2d_convention"].startswith("pinhole")


@pytest.mark.django_db
def test_h3wb_json_export_reads_back_with_the_official_loader(release, tmp_path):
    """Import RGBto3D_train.json + 2Dto3D_train.json, export H3WB JSON, read it with the authors' json_loader."""
    import shutil

    from tests.transcriptions.h3wb_utils import json_loader

    dataset_import_h3wb(dataset_name="rt", annotations=release.path("RGBto3D_train.json"),
                        keypoints_2d=release.path("2Dto3D_train.json"))  # fmt: skip
    folder = tmp_path / "json"
    folder.mkdir()
    write_export(dataset=Dataset.objects.get(name="rt"), fmt="h3wb", version="dataset",
                 out=folder / "RGBto3D_train.json")  # fmt: skip
    shutil.copy(folder / "RGBto3D_train.json", folder / "2Dto3D_train.json")  # it holds the 2D as well
    paths, targets, boxes = json_loader(str(folder), task=3)
    inputs_2d, targets_2d = json_loader(str(folder), task=1)
    for i, sample in release.train.items():  # the same sample behind every id, as the release has it
        assert paths[i] == h3wb_format.format_image_path(sample.ref)
        np.testing.assert_allclose(targets[i][0].numpy(), sample.points_3d, atol=1e-2)  # float32, 4 decimals
        np.testing.assert_allclose(inputs_2d[i][0].numpy(), sample.points_2d, atol=1e-2)
        np.testing.assert_allclose(targets_2d[i][0].numpy(), sample.points_3d, atol=1e-2)
