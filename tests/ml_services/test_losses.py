"""Keypoint losses: values, weights, and gradcheck in double precision."""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck

from ml_services.losses import keypoint_distance, keypoint_smooth_l1


class KeypointLossTests:
    def test_distance_value_and_weights(self):
        pred = torch.tensor([[[3.0, 4.0], [0.0, 0.0]]])
        target = torch.zeros(1, 2, 2)
        assert keypoint_distance(pred, target) == pytest.approx(2.5, abs=1e-4)
        assert keypoint_distance(pred, target, torch.tensor([[0.0, 1.0]])) == pytest.approx(0.0, abs=1e-4)

    def test_smooth_l1_is_quadratic_then_linear(self):
        target = torch.zeros(1, 1, 2)
        assert keypoint_smooth_l1(torch.tensor([[[0.01, 0.0]]]), target, beta=0.02) == pytest.approx(0.0025)
        assert keypoint_smooth_l1(torch.tensor([[[1.0, 0.0]]]), target, beta=0.02) == pytest.approx(0.99)

    @pytest.mark.parametrize("loss", [keypoint_distance, keypoint_smooth_l1])
    def test_gradcheck(self, loss):
        torch.manual_seed(0)
        pred = torch.randn(2, 5, 2, dtype=torch.float64, requires_grad=True)
        target = torch.randn(2, 5, 2, dtype=torch.float64)
        weight = torch.rand(2, 5, dtype=torch.float64)
        assert gradcheck(lambda p: loss(p, target, weight), (pred,), eps=1e-6, atol=1e-5)

    def test_shape_mismatch_is_refused(self):
        with pytest.raises(ValueError, match="share a"):
            keypoint_distance(torch.zeros(1, 3, 2), torch.zeros(1, 4, 2))
        with pytest.raises(ValueError, match="weight must have shape"):
            keypoint_smooth_l1(torch.zeros(1, 3, 2), torch.zeros(1, 3, 2), torch.ones(3))
