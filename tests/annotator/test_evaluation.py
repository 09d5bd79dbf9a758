"""Evaluation of H3WB-format 3D predictions: the reference convention, the protocol's numbers, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from annotator import h3wb_format, metrics
from annotator.evaluation import (
    COLUMNS,
    PredictionsError,
    evaluate,
    evaluate_predictions,
    evaluation_pairs,
    format_text,
    in_task,
    task_from_filename,
)
from annotator.exporters.versions import UnknownVersionError
from annotator.models import Dataset
from annotator.services.imports import dataset_import_h3wb
from fixtures.synthetic import generate
from tests.h3wb_files import write_release

FRAMES = [("S1", "Walking 1", 10), ("S1", "Walking 1", 20), ("S5", "Eating 2", 30)]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic")
    manifest = generate(out, subjects=("S1",), frames=4, workers=1, progress=False)
    return out, manifest


@pytest.fixture
def release(db, tmp_path):
    written = write_release(tmp_path / "release.json", FRAMES)
    # Not the release's own numbering (source format "test"): 2d/i2d take the blocks of 4, rgb every sample.
    dataset_import_h3wb(dataset_name="ev", annotations=written.path, source_format="test")
    return written, Dataset.objects.get(name="ev")


def _predictions(path, data: dict) -> str:
    path.write_text(json.dumps({k: {"keypoints_3d": v["keypoints_3d"]} for k, v in data.items()}))
    return str(path)


class TaskTests:
    def test_task_from_filename(self):
        assert task_from_filename("RGBto3D_test_pred.json") == "rgb"
        assert task_from_filename("I2Dto3D_test_pred.json") == "i2d"
        assert task_from_filename("2Dto3D_test_pred.json") == "2d"
        assert task_from_filename("preds.json") == "2d"  # the official default

    def test_id_blocks(self):
        assert [i for i in range(16) if in_task("2d", i)] == [0, 1, 2, 3, 8, 9, 10, 11]
        assert [i for i in range(16) if in_task("i2d", i)] == [4, 5, 6, 7, 12, 13, 14, 15]


@pytest.mark.django_db
class SyntheticRigTests:
    def test_dataset_against_ground_truth_gives_the_realised_error(self, synthetic, tmp_path):
        out, manifest = synthetic
        dataset_import_h3wb(dataset_name="syn", annotations=out / "h3wb.json", ground_truth=out / "ground_truth.json")
        dataset = Dataset.objects.get(name="syn")
        # The release file's keypoints_3d are the dataset skeleton, R_cam @ X_world: a submission of the dataset.
        pairs = evaluation_pairs(dataset=dataset, predictions=out / "h3wb.json", version="ground_truth")
        # The generator's realised error is the plain mean 3D distance (no alignment). Rotating both sides by the
        # same camera rotation keeps distances, so the unaligned per-keypoint error of the pairs is that number.
        unaligned = metrics.part_summary(metrics.keypoint_errors_3d(pairs.pred, pairs.gt))
        for part, value in manifest["realised_error_mm"].items():
            assert unaligned[part]["mean"] == pytest.approx(value, abs=2e-3)
        # The protocol aligns on the pelvis first: the same errors minus the pelvis error, a different number
        # (a dataset offset common to the whole body drops out), so only its order of magnitude is comparable.
        report = evaluate_predictions(dataset=dataset, predictions=out / "h3wb.json", version="ground_truth")
        assert report["overall"]["samples"] == manifest["num_samples"]
        assert report["overall"]["all"] != pytest.approx(manifest["realised_error_mm"]["all"], abs=1e-3)
        assert 0 < report["overall"]["all"] < 3 * manifest["realised_error_mm"]["all"]
        assert set(report["subjects"]) == {"S1"}
        # The dataset against itself: every metric is zero.
        zero = evaluate_predictions(dataset=dataset, predictions=out / "h3wb.json", version="dataset")
        assert all(abs(zero["overall"][key]) < 1e-6 for key, _ in COLUMNS)


@pytest.mark.django_db
class EvaluateTests:
    def test_translation_is_free_and_tables_match_metrics(self, release, tmp_path):
        written, dataset = release
        rng = np.random.default_rng(1)
        data = {}
        for key, sample in written.data.items():
            X = np.array([list(p.values()) for p in sample["keypoints_3d"].values()])
            noisy = X + rng.normal(scale=20.0, size=X.shape) + [1000.0, -500.0, 3000.0]
            data[key] = {"keypoints_3d": h3wb_format.points_3d_json(noisy)}
        path = _predictions(tmp_path / "RGB_pred.json", data)
        pairs = evaluation_pairs(dataset=dataset, predictions=path)
        report = evaluate(pairs)
        assert report["overall"]["all"] == pytest.approx(metrics.h3wb_mpjpe(pairs.pred, pairs.gt)["all"])
        assert 20 < report["overall"]["all"] < 40  # noise only: the translation is aligned away
        assert report["subjects"]["S1"]["samples"] == 8 and report["subjects"]["S5"]["samples"] == 4
        text = format_text({"dataset": "ev", "version": "dataset", "task": "rgb", **report})
        lines = text.splitlines()
        assert lines[1].split()[:3] == ["subject", "samples", "all"]
        assert [line.split()[0] for line in lines[2:]] == ["S1", "S5", "all"]
        assert len({len(line) for line in lines[1:]}) == 1  # aligned columns

    def test_task_subset(self, release, tmp_path):
        written, dataset = release
        two_d = {k: v for k, v in written.data.items() if in_task("2d", int(k))}
        report = evaluate_predictions(dataset=dataset, predictions=_predictions(tmp_path / "2Dto3D_pred.json", two_d))
        assert report["task"] == "2d" and report["overall"]["samples"] == 8

    def test_missing_sample(self, release, tmp_path):
        written, dataset = release
        data = dict(written.data)
        del data["5"]
        with pytest.raises(PredictionsError, match=r"sample 5 of dataset ev \(rgb\) is missing"):
            evaluation_pairs(dataset=dataset, predictions=_predictions(tmp_path / "RGB_p.json", data))

    def test_unknown_sample(self, release, tmp_path):
        written, dataset = release
        data = {**written.data, "99": written.data["0"]}
        with pytest.raises(PredictionsError, match=r"sample 99 is not one of the 12 samples of dataset ev \(rgb\)"):
            evaluation_pairs(dataset=dataset, predictions=_predictions(tmp_path / "RGB_p.json", data))

    def test_wrong_keypoint_count(self, release, tmp_path):
        written, dataset = release
        data = json.loads(json.dumps(written.data))
        del data["3"]["keypoints_3d"]["7"]
        with pytest.raises(PredictionsError, match=r"sample 3: keypoints_3d must have joints .*missing \['7'\]"):
            evaluation_pairs(dataset=dataset, predictions=_predictions(tmp_path / "RGB_p.json", data))

    def test_nan(self, release, tmp_path):
        written, dataset = release
        path = tmp_path / "RGB_p.json"
        _predictions(path, written.data)  # noqa
        text = path.read_text()
        # NaN is not JSON: the reader stops there and names the last good sample.
        at = text.index('"x": ', text.index('"5": {"keypoints_3d"')) + len('"x": ')
        path.write_text(text[:at] + "NaN" + text[text.index(",", at) :])
        with pytest.raises(PredictionsError, match="not valid JSON after sample 4"):
            evaluation_pairs(dataset=dataset, predictions=path)
        # null (what NaN becomes in most JSON writers) names the sample and joint.
        path.write_text(text[:at] + "null" + text[text.index(",", at) :])
        with pytest.raises(PredictionsError, match=r"sample 5: keypoints_3d\['0'\] must be an object with numeric"):
            evaluation_pairs(dataset=dataset, predictions=path)

    def test_malformed_json(self, release, tmp_path):
        _, dataset = release
        path = tmp_path / "RGB_p.json"
        path.write_text('{"0": {"keypoints_3d": {')
        with pytest.raises(PredictionsError, match="not valid JSON|truncated"):
            evaluation_pairs(dataset=dataset, predictions=path)

    def test_no_3d(self, release, tmp_path):
        written, dataset = release
        path = tmp_path / "RGB_p.json"
        path.write_text(json.dumps({k: {"keypoints_2d": v["keypoints_2d"]} for k, v in written.data.items()}))
        with pytest.raises(PredictionsError, match="sample 0 has no keypoints_3d"):
            evaluation_pairs(dataset=dataset, predictions=path)

    def test_unknown_version(self, release, tmp_path):
        written, dataset = release
        with pytest.raises(UnknownVersionError):
            evaluation_pairs(dataset=dataset, predictions=_predictions(tmp_path / "RGB_p.json", written.data),
                             version="best")  # fmt: skip


class OtherLayoutTests:
    """``evaluate`` in another layout: face and hand columns say why they are empty; H3WB-format predictions
    against a dataset of another layout are refused before anything is read."""

    def test_a_coco17_evaluation_by_hand(self):
        from annotator import keypoints
        from annotator.evaluation import EvaluationPairs

        coco17 = keypoints.layout_get("coco-17")
        gt = np.random.default_rng(3).normal(0, 300, (2, 17, 3))
        pred = gt + [50.0, 0.0, 0.0]  # a translation costs nothing ...
        pred[:, coco17.index("left_hip")] += [6.0, 0.0, 0.0]  # ... a hip moved 6 mm puts every joint 3 mm off
        report = evaluate(EvaluationPairs(np.arange(2), ["S1", "S9"], pred, gt), coco17)
        assert report["layout_version"] == "coco-17/v1"
        assert report["overall"]["all"] == pytest.approx(3.0) and report["subjects"]["S9"]["body"] == pytest.approx(3.0)
        assert report["overall"]["face"] is None and report["overall"]["hand_root_aligned"] is None
        assert report["not_applicable"]["face"] == "COCO-17 has no face keypoints"
        text = format_text({"ground_truth": "x.json", "task": "2d", **report})
        assert "- face/nose: COCO-17 has no face keypoints" in text.splitlines()
        assert "not_applicable" not in evaluate(EvaluationPairs(np.arange(2), ["", ""], pred[:, :17], gt[:, :17]),
                                                coco17)["subjects"]  # fmt: skip

    def test_predictions_against_a_coco17_dataset_are_refused(self, release, tmp_path):
        from annotator.exceptions import NotApplicableError
        from tests.coco17 import as_coco17

        written, dataset = release
        path = _predictions(tmp_path / "RGB_pred.json", written.data)
        as_coco17(dataset.name)
        dataset.refresh_from_db()
        with pytest.raises(NotApplicableError, match="H3WB evaluation against .* applies to the COCO-WholeBody"):
            evaluation_pairs(dataset=dataset, predictions=path)
