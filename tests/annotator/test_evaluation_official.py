"""Evaluation equals the official ``test_score`` on every task and a cross-validation fold, against official
answer files (JSON and npz) read without importing them, and against imported datasets; bad input is refused."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from annotator import h3wb_format, metrics
from annotator.evaluation import (
    PredictionsError,
    evaluate_predictions,
    official_ids,
    official_task,
)
from annotator.exceptions import ApplicationError
from annotator.models import Dataset
from annotator.services.imports import dataset_import_h3wb
from tests.h3wb_release import write_release
from tests.transcriptions.h3wb_leaderboard import test_score as official_test_score

KEYS = ("all", "body", "face", "hand", "face_nose_aligned", "hand_root_aligned")


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return write_release(tmp_path_factory.mktemp("release"), seed=3)


def _predictions(path, samples: dict, rng: np.random.Generator | None, scale: float = 30.0, shift=(0, 0, 0)) -> str:
    data = {}
    for sid, s in samples.items():
        X = s.points_3d + np.asarray(shift, dtype=float)
        if rng is not None:
            X = X + rng.normal(scale=scale, size=X.shape)
        data[str(sid)] = {"keypoints_3d": h3wb_format.points_3d_json(X)}
    path.write_text(json.dumps(data))
    return str(path)


def _official(release, tmp_path, pred_path: str) -> dict:
    # The official evaluator finds its answers in one folder under their official names.
    return official_test_score(pred_path, str(release.folder))


class OfficialRulesTests:
    def test_task_and_fold_from_the_path(self):
        assert official_task("RGBto3D_test_pred.json") == ("rgb", 0)
        assert official_task("I2Dto3D_pred.json") == ("i2d", 0)
        assert official_task("2Dto3D_pred.json") == ("2d", 0)
        assert official_task("preds.json") == ("2d", 0)  # the official default, not RGB
        assert official_task("runs/task3/preds.json") == ("rgb", 0)
        assert official_task("task2_cv3.json") == ("i2d", 3)

    def test_ids(self):
        assert official_ids("2d", 8).tolist() == [0, 1, 2, 3, 8, 9, 10, 11]
        assert official_ids("i2d", 8).tolist() == [4, 5, 6, 7, 12, 13, 14, 15]
        assert official_ids("rgb", 3).tolist() == [0, 1, 2]
        assert official_ids("2d", 80_000, fold=2).tolist() == list(range(16_000, 32_000))


@pytest.mark.django_db
class AnswerFileTests:
    @pytest.mark.parametrize(
        "name, answers, npz",
        [
            ("2Dto3D_pred.json", "2Dto3D_test_3d.json", "task1_test_3d.npz"),
            ("I2Dto3D_pred.json", "I2Dto3D_test_3d.json", "task2_test_3d.npz"),
            ("RGBto3D_pred.json", "RGBto3D_test_3d.json", None),
        ],
    )
    def test_equals_the_official_test_score(self, release, tmp_path, name, answers, npz):
        samples = {"2Dto3D_test_3d.json": release.test_2d, "I2Dto3D_test_3d.json": release.test_i2d,
                   "RGBto3D_test_3d.json": release.test_rgb}[answers]  # fmt: skip
        pred = _predictions(tmp_path / name, samples, np.random.default_rng(1), shift=(500, -200, 4000))
        ours = evaluate_predictions(predictions=pred, ground_truth=release.path(answers))
        official = _official(release, tmp_path, pred)
        for key in KEYS:
            assert ours["overall"][key] == pytest.approx(official[key], abs=1e-3), key
        assert ours["overall"]["samples"] == len(samples)
        if npz:  # the npz test set gives the same numbers
            from_npz = evaluate_predictions(predictions=pred, ground_truth=release.path(npz))
            for key in KEYS:
                assert from_npz["overall"][key] == pytest.approx(ours["overall"][key], abs=1e-6), key
        perfect = _predictions(tmp_path / name, samples, None)
        zero = evaluate_predictions(predictions=perfect, ground_truth=release.path(answers))
        assert all(zero["overall"][k] == 0.0 for k in KEYS), zero["overall"]
        assert all(v == 0.0 for v in _official(release, tmp_path, perfect).values())
        # Translated: zero up to the float32 rounding both evaluators read the numbers with.
        shifted = _predictions(tmp_path / name, samples, None, shift=(10, 20, 30))
        near = evaluate_predictions(predictions=shifted, ground_truth=release.path(answers))
        assert all(near["overall"][k] < 1e-4 for k in KEYS), near["overall"]

    @pytest.mark.parametrize("task, answers", [("2d", "2Dto3D_train.json"), ("rgb", "RGBto3D_train.json")])
    def test_cross_validation_fold(self, release, tmp_path, task, answers):
        fold_ids = official_ids(task, len(release.train), fold=2)
        prefix = "RGBto3D" if task == "rgb" else "2Dto3D"
        pred = _predictions(tmp_path / f"{prefix}_cv2.json", {i: release.train[i] for i in fold_ids.tolist()},
                            np.random.default_rng(2))  # fmt: skip
        ours = evaluate_predictions(predictions=pred, ground_truth=release.path(answers))
        assert ours["cv"] == 2 and ours["overall"]["samples"] == len(fold_ids)
        official = _official(release, tmp_path, pred)
        for key in KEYS:
            assert ours["overall"][key] == pytest.approx(official[key], abs=1e-3), key
        # The npz training file: the same fold by its sample_id arrays.
        from_npz = evaluate_predictions(predictions=pred, ground_truth=release.path("h3wb_train.npz"))
        assert from_npz["overall"]["all"] == pytest.approx(ours["overall"]["all"], abs=1e-6)

    def test_subjects_where_the_answers_name_them(self, release, tmp_path):
        pred = _predictions(tmp_path / "RGBto3D_p.json", release.test_rgb, np.random.default_rng(3))
        report = evaluate_predictions(predictions=pred, ground_truth=release.path("RGBto3D_test_3d.json"))
        assert set(report["subjects"]) == {"S8"}


@pytest.mark.django_db
class BadPredictionsTests:
    def _data(self, release):
        return {str(i): {"keypoints_3d": h3wb_format.points_3d_json(s.points_3d)} for i, s in release.test_2d.items()}

    def _refused(self, release, tmp_path, data, match, raw=None):
        path = tmp_path / "2Dto3D_pred.json"
        path.write_text(raw if raw is not None else json.dumps(data))
        with pytest.raises(PredictionsError, match=match):
            evaluate_predictions(predictions=path, ground_truth=release.path("2Dto3D_test_3d.json"))

    def test_absurd_magnitudes_are_refused_naming_the_sample(self, release, tmp_path):
        data = self._data(release)
        for sample in data.values():  # 1e20 mm everywhere: pred - gt loses gt, and the pelvis alignment gives 0.0
            for point in sample["keypoints_3d"].values():
                point.update(x=1e20, y=1e20, z=1e20)
        self._refused(
            release,
            tmp_path,
            data,
            r"sample 0: keypoints_3d\['0'\] = \{'x': 1e\+20.* is not a finite number of at most 1e\+05 mm",
        )

    def test_metrics_refuse_what_float64_cannot_compare(self):
        gt = np.zeros((1, 133, 3))
        with pytest.raises(ValueError, match="cannot be represented"):
            metrics.h3wb_mpjpe(gt + 1e20, gt)

    def test_missing_unknown_nan_and_wrong_task(self, release, tmp_path):
        data = self._data(release)
        del data["9"]
        self._refused(release, tmp_path, data, r"sample 9 of 2Dto3D_test_3d.json \(2d\) is missing")
        data = self._data(release)
        data["4"] = data["0"]  # an I2D->3D id
        self._refused(release, tmp_path, data, r"sample 4 is not one of the \d+ samples of 2Dto3D_test_3d.json")
        data = self._data(release)
        data["8"]["keypoints_3d"]["17"] = {"x": None, "y": None, "z": None}
        self._refused(release, tmp_path, data, r"sample 8: keypoints_3d\['17'\] is missing \(null or NaN\)")
        self._refused(release, tmp_path, None, r"not valid JSON", raw='{"0": {"keypoints_3d": NaN}}')
        with pytest.raises(PredictionsError, match="sample 4 of the official i2d test ids is not in it"):
            pred = _predictions(tmp_path / "I2Dto3D_p.json", release.test_i2d, None)
            evaluate_predictions(predictions=pred, ground_truth=release.path("2Dto3D_test_3d.json"))


@pytest.mark.django_db
class DatasetReferenceTests:
    def test_rgb_test_ids_do_not_answer_2d_predictions(self, release, tmp_path):
        """The defect: 2D->3D predictions looked up in an RGB test import scored 228 mm when perfect."""
        dataset_import_h3wb(dataset_name="rgb-test", annotations=release.path("RGBto3D_test_3d.json"))
        dataset = Dataset.objects.get(name="rgb-test")
        assert dataset.sample_ids == Dataset.SampleIds.RGB_TEST
        pred = _predictions(tmp_path / "2Dto3D_pred.json", release.test_2d, None)
        with pytest.raises(ApplicationError, match="do not line up with the 2d test ids.*2Dto3D_test_3d.json"):
            evaluate_predictions(predictions=pred, dataset=dataset)
        rgb = _predictions(tmp_path / "RGBto3D_pred.json", release.test_rgb, np.random.default_rng(5))
        ours = evaluate_predictions(predictions=rgb, dataset=dataset)
        official = _official(release, tmp_path, rgb)
        assert ours["overall"]["all"] == pytest.approx(official["all"], abs=1e-3)

    def test_lifting_test_import_scores_as_the_answer_file(self, release, tmp_path):
        dataset_import_h3wb(dataset_name="lift-test", annotations=release.path("2Dto3D_test_3d.json"))
        dataset_import_h3wb(dataset_name="lift-test", annotations=release.path("I2Dto3D_test_3d.json"))
        dataset = Dataset.objects.get(name="lift-test")
        assert dataset.sample_ids == Dataset.SampleIds.LIFTING_TEST and dataset.keypoints_2d_convention == "pinhole"
        for name, samples in (("2Dto3D_p.json", release.test_2d), ("I2Dto3D_p.json", release.test_i2d)):
            pred = _predictions(tmp_path / name, samples, np.random.default_rng(6))
            ours = evaluate_predictions(predictions=pred, dataset=dataset)
            official = _official(release, tmp_path, pred)
            for key in KEYS:
                assert ours["overall"][key] == pytest.approx(official[key], abs=1e-3), (name, key)

    def test_train_fold_against_a_dataset(self, release, tmp_path):
        dataset_import_h3wb(dataset_name="train", annotations=release.path("RGBto3D_train.json"),
                            keypoints_2d=release.path("2Dto3D_train.json"))  # fmt: skip
        fold = official_ids("2d", len(release.train), fold=1)
        pred = _predictions(tmp_path / "2Dto3D_cv1.json", {i: release.train[i] for i in fold.tolist()},
                            np.random.default_rng(7))  # fmt: skip
        ours = evaluate_predictions(predictions=pred, dataset=Dataset.objects.get(name="train"))
        official = _official(release, tmp_path, pred)
        assert ours["cv"] == 1 and ours["overall"]["all"] == pytest.approx(official["all"], abs=1e-3)


@pytest.mark.django_db
def test_command_against_an_answer_file(release, tmp_path, capsys):
    pred = _predictions(tmp_path / "I2Dto3D_pred.json", release.test_i2d, np.random.default_rng(8))
    call_command("evaluate_predictions", "--predictions", pred, "--ground-truth",
                 str(release.path("I2Dto3D_test_3d.json")), "--format", "json")  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert report["task"] == "i2d" and report["ground_truth"] == "I2Dto3D_test_3d.json"
    assert set(KEYS) <= set(report["overall"])
    bad = tmp_path / "2Dto3D_bad.json"
    shutil.copy(pred, bad)
    with pytest.raises(CommandError, match="sample 0 of the official 2d test ids is not in it"):
        call_command("evaluate_predictions", "--predictions", str(bad), "--ground-truth",
                     str(release.path("I2Dto3D_test_3d.json")))  # fmt: skip
