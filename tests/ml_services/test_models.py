"""The refiner network: shapes, size, identity at initialisation, and no Django import."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from ml_services.config import RefinerConfig
from ml_services.models import build_refiner, parameter_count

TINY = {"channels": (8, 16), "token_dim": 8, "hidden": 16, "embed_dim": 4, "crop_size": 16, "context_size": 32}


class RefinerTests:
    @pytest.mark.parametrize("part", ["face", "hand"])
    def test_shapes(self, part):
        config = RefinerConfig(part=part, **TINY)
        model = build_refiner(config).eval()
        images, q = torch.rand(3, 3, 16, 16), torch.rand(3, config.num_keypoints, 2) * 2 - 1
        assert model(images, q).shape == (3, config.num_keypoints, 2)
        assert model.refine(images, q, iterations=2).shape == (3, config.num_keypoints, 2)
        fmap, pooled = model.features(images)
        assert fmap.shape == (3, 16, 4, 4) and pooled.shape == (3, 16)

    @pytest.mark.parametrize("part", ["face", "hand"])
    def test_default_size_is_small(self, part):
        assert 200_000 <= parameter_count(build_refiner(RefinerConfig(part=part))) <= 1_000_000

    def test_starts_as_the_identity(self):
        config = RefinerConfig(part="hand", **TINY)
        q = torch.rand(2, config.num_keypoints, 2) * 2 - 1
        assert torch.equal(build_refiner(config).eval()(torch.rand(2, 3, 16, 16), q), q)

    def test_step_is_one_linear_over_the_concatenated_token_inputs(self):
        torch.manual_seed(1)
        config = RefinerConfig(part="face", **TINY)
        model = build_refiner(config).eval()
        for p in model.parameters():  # leave the identity start
            torch.nn.init.normal_(p, std=0.2)
        images, q = torch.rand(2, 3, 16, 16), torch.rand(2, config.num_keypoints, 2) * 2 - 1
        fmap, pooled = model.features(images)
        sampled = torch.nn.functional.grid_sample(fmap, q[:, :, None], align_corners=False)[..., 0].transpose(1, 2)
        K = config.num_keypoints
        tokens = torch.cat([sampled, q, model.embedding.expand(2, -1, -1), pooled[:, None].expand(-1, K, -1)], -1)
        h = model.token(tokens)
        expected = q + model.local_head(h) + model.mix(h.reshape(2, -1)).reshape(2, K, 2)
        assert torch.allclose(model.step(fmap, pooled, q), expected, atol=1e-5)

    def test_wrong_shapes_are_refused(self):
        model = build_refiner(RefinerConfig(part="face", **TINY))
        with pytest.raises(ValueError, match="expected images"):
            model(torch.rand(2, 3, 16, 16), torch.rand(2, 5, 2))

    def test_networks_import_without_django(self):
        code = ("import sys; import ml_services.models, ml_services.losses, ml_services.scoring, ml_services.train, "
                "ml_services.checkpoints; assert 'django.conf' not in sys.modules, 'django imported'")  # fmt: skip
        subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": "."})
