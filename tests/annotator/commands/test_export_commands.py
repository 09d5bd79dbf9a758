"""``export_dataset`` and ``evaluate_predictions`` on the command line: output, and clear errors that write nothing."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotator.services.imports import dataset_import_h3wb
from tests.h3wb_files import write_release

FRAMES = [("S1", "Walking 1", 10), ("S5", "Eating 2", 30)]


@pytest.fixture
def release(db, tmp_path):
    written = write_release(tmp_path / "release.json", FRAMES)
    dataset_import_h3wb(dataset_name="cmd", annotations=written.path)
    return written


def _call(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
class ExportDatasetCommandTests:
    @pytest.mark.parametrize("fmt", ["h3wb", "coco-wholebody"])
    def test_writes_file_and_provenance(self, release, tmp_path, fmt):
        out = tmp_path / "out" / "x.json"
        text = _call("export_dataset", "--dataset", "cmd", "--format", fmt, "--version", "dataset", "--out", str(out),
                     "--no-progress")  # fmt: skip
        assert "wrote 8 samples of 2 frames" in text
        assert json.loads(out.read_text())
        assert json.loads((tmp_path / "out" / "x.provenance.json").read_text())["format"] == fmt

    def test_latest_accepted_is_the_default_and_falls_back_to_the_dataset(self, release, tmp_path):
        out = tmp_path / "x.json"
        _call("export_dataset", "--dataset", "cmd", "--format", "h3wb", "--out", str(out), "--subjects", "S5",
              "--no-progress")  # fmt: skip
        prov = json.loads(out.with_suffix(".provenance.json").read_text())
        assert prov["version"] == "latest-accepted" and prov["subjects"] == ["S5"]
        assert {r["skeleton"]["source"] for r in prov["samples"]} == {"dataset"}

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--dataset", "nope"], "no dataset named 'nope'"),
            (["--version", "best"], "unknown version 'best'"),
            (["--version", "7"], "has no version 7"),
            (["--subjects", "S9"], "has no subject S9"),
        ],
    )
    def test_errors_write_nothing(self, release, tmp_path, args, message):
        out = tmp_path / "err" / "x.json"
        base = {"--dataset": "cmd", "--format": "h3wb", "--version": "dataset", "--out": str(out)}
        base.update(dict(zip(args[::2], args[1::2])))
        with pytest.raises(CommandError, match=message):
            _call("export_dataset", *[x for kv in base.items() for x in kv], "--no-progress")
        assert not out.exists() and not (out.parent.exists() and any(out.parent.iterdir()))


@pytest.mark.django_db
class EvaluatePredictionsCommandTests:
    def test_text_and_json(self, release, tmp_path):
        path = tmp_path / "RGBto3D_pred.json"
        path.write_text(json.dumps({k: {"keypoints_3d": v["keypoints_3d"]} for k, v in release.data.items()}))
        text = _call("evaluate_predictions", "--dataset", "cmd", "--predictions", str(path))
        assert "H3WB benchmark" in text and "PA-MPJPE" in text
        report = json.loads(_call("evaluate_predictions", "--dataset", "cmd", "--predictions", str(path),
                                  "--format", "json", "--version", "dataset"))  # fmt: skip
        assert report["overall"]["samples"] == 8 and report["overall"]["all"] == pytest.approx(0, abs=1e-6)
        assert set(report["subjects"]) == {"S1", "S5"}

    def test_error_names_the_sample(self, release, tmp_path):
        path = tmp_path / "p.json"
        path.write_text(json.dumps({k: {"keypoints_3d": v["keypoints_3d"]} for k, v in release.data.items()
                                    if k != "6"}))  # fmt: skip
        with pytest.raises(CommandError, match=r"sample 6 of dataset cmd \(2d\) is missing"):
            _call("evaluate_predictions", "--dataset", "cmd", "--predictions", str(path))
