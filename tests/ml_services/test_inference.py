"""refine_pixels: pixels in, pixels out, through crop coordinates, in batches."""

from __future__ import annotations

import torch

from ml_services import inference
from ml_services.config import RefinerConfig
from ml_services.models import build_refiner

TINY = {"channels": (8, 16), "token_dim": 8, "hidden": 16, "embed_dim": 4, "crop_size": 16, "context_size": 32}


class RefinePixelsTests:
    def test_identity_network_returns_the_input_in_any_batch_size(self, monkeypatch):
        config = RefinerConfig(part="hand", **TINY)
        model = build_refiner(config).eval()  # starts as the identity
        monkeypatch.setattr(inference, "CPU_BATCH", 3)
        points = torch.rand(7, config.num_keypoints, 2) * 40 + 100
        boxes = torch.tensor([120.0, 120.0, 60.0]).expand(7, 3)
        mirror = torch.tensor([True, False, True, False, True, False, True])
        out = inference.refine_pixels(model, torch.rand(7, 3, 16, 16), boxes, mirror, points)
        assert out.shape == points.shape and torch.allclose(out, points, atol=1e-4)

    def test_cuda_batches_are_larger(self):
        assert inference.batch_size_for(torch.device("cuda")) > inference.batch_size_for(torch.device("cpu"))
