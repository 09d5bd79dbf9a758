"""Checkpoints: round trip, refusals of another layout or part, missing files, and the shipped pair."""

from __future__ import annotations

import pytest
import torch

from annotator import keypoints
from ml_services.checkpoints import (
    checkpoint_hash,
    default_checkpoint,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from ml_services.config import REFINER_PARTS, RefinerConfig
from ml_services.models import build_refiner

TINY = {"channels": (8, 16), "token_dim": 8, "hidden": 16, "embed_dim": 4, "crop_size": 16, "context_size": 32}
#: The shipped checkpoints must stay small enough to live in the repository.
MAX_SHIPPED_BYTES = 5 * 2**20


@pytest.fixture
def saved(tmp_path):
    """A network whose every weight was moved off its initial value, saved: a freshly built one differs."""
    torch.manual_seed(0)
    model = build_refiner(RefinerConfig(part="hand", **TINY)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    path = save_checkpoint(model, tmp_path / "hand.pt", {"held_out_error_px": 1.0})
    return model, path


class CheckpointTests:
    def test_round_trip_rebuilds_the_model(self, saved):
        model, path = saved
        loaded = load_checkpoint(path, "hand")
        assert loaded.config == model.config
        images, q = torch.rand(2, 3, 16, 16), torch.rand(2, model.config.num_keypoints, 2)
        assert torch.equal(loaded(images, q), model(images, q))
        # A loader that skipped the saved weights would answer like a new network, which here moves the points.
        fresh = build_refiner(model.config).eval()
        assert not torch.allclose(fresh(images, q), model(images, q), atol=1e-3)
        for name, value in model.state_dict().items():
            assert torch.equal(loaded.state_dict()[name], value), name
        data = read_checkpoint(path)
        assert data["layout_version"] == keypoints.LAYOUT_VERSION and data["metrics"] == {"held_out_error_px": 1.0}
        assert not list(path.parent.glob("*.tmp"))

    def test_other_layout_version_is_refused(self, saved):
        _, path = saved
        data = torch.load(path, weights_only=True)
        data["layout_version"] = f"{keypoints.LAYOUT_VERSION}-old"
        torch.save(data, path)
        with pytest.raises(ValueError, match=f"trained for keypoint layout '{keypoints.LAYOUT_VERSION}-old'"):
            load_checkpoint(path)

    def test_other_part_is_refused(self, saved):
        with pytest.raises(ValueError, match="is a 'hand' refiner, but a 'face' refiner was asked for"):
            load_checkpoint(saved[1], "face")

    def test_missing_and_foreign_files(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="refiner checkpoint not found: .*train_refiner --part face"):
            load_checkpoint(tmp_path / "nope.pt", "face")
        (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
        with pytest.raises(ValueError, match="not a readable refiner checkpoint"):
            load_checkpoint(tmp_path / "junk.pt")
        torch.save({"model": {}}, tmp_path / "partial.pt")
        with pytest.raises(ValueError, match="is not a refiner checkpoint"):
            load_checkpoint(tmp_path / "partial.pt")

    def test_hash_changes_with_the_content(self, saved, tmp_path):
        _, path = saved
        other = save_checkpoint(build_refiner(RefinerConfig(part="hand", **TINY)), tmp_path / "other.pt")
        assert checkpoint_hash(path) == checkpoint_hash(path) != checkpoint_hash(other)
        assert len(checkpoint_hash(path, other)) == 16

    @pytest.mark.parametrize("part", REFINER_PARTS)
    def test_shipped_checkpoints_load_and_are_small(self, part):
        path = default_checkpoint(part)
        assert path.stat().st_size < MAX_SHIPPED_BYTES
        model = load_checkpoint(path, part)
        assert model.config.part == part and not model.training
        errors = read_checkpoint(path)["metrics"]["held_out_error_px"]
        assert errors["schedule_max"]["refined"] < errors["schedule_max"]["input"]
