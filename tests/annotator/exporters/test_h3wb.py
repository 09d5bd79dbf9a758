"""H3WB export: an uncorrected import comes back number for number; corrected versions; atomic failure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from annotator import geometry, h3wb_format, keypoints
from annotator.exporters import write_export
from annotator.exporters.versions import MissingVersionError, UnknownVersionError
from annotator.exporters.writer import TEMP_SUFFIX
from annotator.importers.h3wb import read_samples
from annotator.models import Dataset, Skeleton3D
from annotator.services.imports import dataset_import_h3wb
from tests.h3wb_files import write_release

FRAMES = [("S1", "Walking 1", 10), ("S1", "Walking 1", 20), ("S5", "Eating 2", 30), ("S5", "Eating 2", 7)]
TOLERANCE = 1e-3


@pytest.fixture
def imported(db, tmp_path):
    written = write_release(tmp_path / "release.json", FRAMES)
    dataset_import_h3wb(dataset_name="rt", annotations=written.path)
    return written, Dataset.objects.get(name="rt")


def _numbers(block: dict) -> np.ndarray:
    return np.array([list(p.values()) for p in block.values()], dtype=np.float64)


class H3WBExportTests:
    def test_dataset_version_reproduces_the_imported_file(self, imported, tmp_path):
        written, dataset = imported
        out = tmp_path / "out" / "export.json"
        summary = write_export(dataset=dataset, fmt="h3wb", version="dataset", out=out)
        original = json.loads(written.path.read_text())
        exported = json.loads(out.read_text())
        assert summary.samples == len(original) == len(exported)
        assert list(exported) == list(original)  # same keys, same order: the views of an instant together
        for key, sample in original.items():
            got = exported[key]
            assert got["image_path"] == sample["image_path"]
            assert got["bbox"] == sample["bbox"]
            for field in ("keypoints_2d", "keypoints_3d"):
                assert list(got[field]) == list(h3wb_format.JOINT_KEYS)
                np.testing.assert_allclose(_numbers(got[field]), _numbers(sample[field]), atol=TOLERANCE, rtol=0)

    def test_the_release_reader_reads_the_export(self, imported, tmp_path):
        _, dataset = imported
        out = tmp_path / "export.json"
        write_export(dataset=dataset, fmt="h3wb", version="dataset", out=out)
        samples = read_samples(out)
        assert samples.keypoints_3d.shape == (4 * len(FRAMES), keypoints.NUM_KEYPOINTS, 3)
        assert samples.image_refs[0].subject == "S1"

    def test_subjects_filter_keeps_the_source_sample_ids(self, imported, tmp_path):
        """A subset export used to renumber its keys, so most of them named another sample of the release."""
        written, dataset = imported
        out = tmp_path / "s5.json"
        write_export(dataset=dataset, fmt="h3wb", version="dataset", out=out, subjects=["S5"])
        exported = json.loads(out.read_text())
        s5 = [k for k, v in written.data.items() if v["image_path"].startswith("S5/")]
        assert sorted(exported, key=int) == sorted(s5, key=int) and "0" not in exported
        assert all(sample["image_path"] == written.data[key]["image_path"] for key, sample in exported.items())
        # Renumbering is an explicit option.
        write_export(dataset=dataset, fmt="h3wb", version="dataset", out=out, subjects=["S5"], renumber=True)
        assert list(json.loads(out.read_text())) == [str(i) for i in range(8)]

    def test_other_version_is_projected_and_rotated(self, imported, tmp_path):
        written, dataset = imported
        frame = Skeleton3D.objects.filter(source="dataset").order_by("frame__sequence__subject__name").first().frame
        moved = written.world[("S1", "Walking 1", frame.index)] + [10.0, 0.0, 0.0]
        for f in dataset.subjects.get(name="S1").sequences.get().frames.all():
            Skeleton3D.objects.create(
                frame=f,
                version=9,
                source="triangulated",
                keypoints=moved if f == frame else written.world[("S1", "Walking 1", f.index)],
            )
        out = tmp_path / "tri.json"
        write_export(dataset=dataset, fmt="h3wb", version="9", out=out, subjects=["S1"])
        exported = json.loads(out.read_text())
        view = frame.views.order_by("sample_id").first()
        sample = exported[str(list(frame.views.order_by("sample_id")).index(view) + (0 if frame.index == 10 else 4))]
        cam = view.camera.as_geometry()
        np.testing.assert_allclose(_numbers(sample["keypoints_3d"]), moved @ cam.R.T, atol=TOLERANCE)
        np.testing.assert_allclose(_numbers(sample["keypoints_2d"]), geometry.project(cam, moved), atol=TOLERANCE)

    def test_missing_version_names_the_frame_and_leaves_no_file(self, imported, tmp_path):
        _, dataset = imported
        # Version 9 exists for every frame except the last one exported: the export fails on the last chunk.
        frames = list(dataset.subjects.get(name="S1").sequences.get().frames.all())
        for f in frames:
            Skeleton3D.objects.create(
                frame=f, version=9, source="triangulated", keypoints=np.zeros((keypoints.NUM_KEYPOINTS, 3))
            )
        out = tmp_path / "fails" / "export.json"
        with pytest.raises(MissingVersionError, match="S5 / Eating 2 / frame"):
            write_export(dataset=dataset, fmt="h3wb", version="9", out=out)
        assert not out.exists()
        assert not out.with_suffix(".provenance.json").exists()
        assert [p.name for p in out.parent.iterdir()] == []

    def test_failure_in_the_last_chunk_leaves_no_partial_file(self, imported, tmp_path, monkeypatch):
        _, dataset = imported
        from annotator.exporters import samples

        monkeypatch.setattr(samples, "CHUNK_FRAMES", 1)  # one frame per chunk: the last chunk comes last
        last = Skeleton3D.objects.get(source="dataset", frame__sequence__subject__name="S5", frame__index=7)
        Skeleton3D.objects.filter(frame=last.frame).update(source="triangulated")
        out = tmp_path / "export.json"
        out.write_text("previous export")
        with pytest.raises(MissingVersionError, match="S5 / Eating 2 / frame 7"):
            write_export(dataset=dataset, fmt="h3wb", version="dataset", out=out)
        assert out.read_text() == "previous export"  # the final path keeps what it had
        assert not any(p.name.endswith(TEMP_SUFFIX) for p in Path(tmp_path).iterdir())

    def test_unknown_version(self, imported, tmp_path):
        _, dataset = imported
        with pytest.raises(UnknownVersionError, match="unknown version 'newest'"):
            write_export(dataset=dataset, fmt="h3wb", version="newest", out=tmp_path / "x.json")
        assert list(tmp_path.iterdir()) == [tmp_path / "release.json"]


@pytest.mark.django_db(transaction=True)
def test_worker_processes_write_the_same_file(tmp_path):
    written = write_release(tmp_path / "release.json", FRAMES)
    dataset_import_h3wb(dataset_name="rt", annotations=written.path)
    dataset = Dataset.objects.get(name="rt")
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}.json"
        write_export(dataset=dataset, fmt="h3wb", version="dataset", out=out, workers=workers)
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]
