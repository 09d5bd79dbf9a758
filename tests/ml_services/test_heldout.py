"""Held-out figures: who a checkpoint was trained on and the refusal to measure on them, the true error a score
ranks (worked by hand), and a figure's spread over seeds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from annotator import keypoints
from annotator.geometry import Camera
from ml_services.checkpoints import default_checkpoint, save_checkpoint
from ml_services.config import REFINER_PARTS, RefinerConfig
from ml_services.heldout import (
    SCORED_KEYPOINTS,
    Spread,
    require_unseen,
    subject_order,
    trained_subjects,
    true_errors,
)
from ml_services.models import build_refiner

TINY = {"channels": (8, 16), "token_dim": 8, "hidden": 16, "embed_dim": 4, "crop_size": 16, "context_size": 32}


def _checkpoint(path, metrics):
    torch.manual_seed(0)
    return save_checkpoint(build_refiner(RefinerConfig(part="face", **TINY)), path, metrics)


class TrainedSubjectsTests:
    def test_read_from_the_checkpoint_and_refused_as_test_people(self, tmp_path):
        path = _checkpoint(tmp_path / "face.pt", {"train_subjects": ["S1", "S5"]})
        assert trained_subjects(path) == ("S1", "S5")
        require_unseen(["S9", "S11"], {"face": path})
        with pytest.raises(ValueError, match=r"the face refiner \(.*face.pt\) was trained on S5: figures on them are "
                                             "not held-out"):  # fmt: skip
            require_unseen(["S9", "S5"], {"face": path})

    def test_a_checkpoint_that_does_not_say_is_refused(self, tmp_path):
        """Checkpoints of the frame split do not record their people: nothing measured with them is held-out."""
        path = _checkpoint(tmp_path / "old.pt", {"dataset": "synthetic-train"})
        with pytest.raises(ValueError, match="does not say which people it was trained on"):
            require_unseen(["S9"], {"face": path})

    @pytest.mark.parametrize("part", REFINER_PARTS)
    def test_the_shipped_refiners_name_their_people_and_the_default_held_out_ones_are_not_among_them(self, part):
        trained = trained_subjects(default_checkpoint(part))
        assert trained and not set(trained) & set(RefinerConfig().held_out_subjects)


def test_subjects_sort_naturally():
    assert sorted(["S11", "S9", "S1", "S10b"], key=subject_order) == ["S1", "S9", "S10b", "S11"]


class TrueErrorTests:
    def test_hand_worked(self):
        """A face moved 10 mm along the optical axis and the hands 4 mm sideways, seen by one camera 1 m away."""
        cam = Camera(K=np.array([[1000.0, 0, 500], [0, 1000, 500], [0, 0, 1]]), R=np.eye(3), t=np.zeros(3))
        truth = np.zeros((keypoints.NUM_KEYPOINTS, 3))
        truth[:, 2] = 1000.0
        estimate = truth.copy()
        face, hands = keypoints.METRIC_PARTS["face"], keypoints.METRIC_PARTS["hand"]
        estimate[face, 2] += 10.0  # along the ray: 10 mm in 3D, 0 px in 2D
        estimate[hands, 0] += 4.0  # 4 mm at 1 m with f = 1000 px: 4 px
        err2d, err3d = true_errors(estimate, truth, [cam, cam], SCORED_KEYPOINTS)
        n_face, n_hand = len(face), len(hands)
        assert err3d == pytest.approx((10.0 * n_face + 4.0 * n_hand) / (n_face + n_hand))
        assert err2d == pytest.approx(4.0 * n_hand / (n_face + n_hand))

    def test_shapes_are_checked(self):
        with pytest.raises(ValueError, match="estimate and truth must be"):
            true_errors(np.zeros((3, 3)), np.zeros((4, 3)), [], np.arange(3))


class SpreadTests:
    def test_mean_sample_std_and_range(self):
        s = Spread.of([0.6, 0.7, 0.8, float("nan"), None])
        assert (s.mean, s.lo, s.hi, s.n) == (pytest.approx(0.7), 0.6, 0.8, 3)
        assert s.std == pytest.approx(0.1)  # ddof 1: sqrt((0.01 + 0 + 0.01) / 2)
        assert s.format(2) == "0.70 ± 0.10 (0.60..0.80)"
        assert Spread.of([]).format() == "-" and Spread.of([2.0]).std == 0.0
