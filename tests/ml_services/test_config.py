"""RefinerConfig: part sizes from the layout, the noise schedule, dict round trip and refusals."""

from __future__ import annotations

import pytest

from annotator import keypoints
from ml_services.config import RETIRED_FIELDS, RefinerConfig, part_size


class RefinerConfigTests:
    def test_part_sizes_come_from_the_layout(self):
        assert part_size("face") == len(keypoints.PARTS["face"])
        assert part_size("hand") == len(keypoints.PARTS["left_hand"]) == len(keypoints.PARTS["right_hand"])
        with pytest.raises(ValueError, match="unknown refiner part 'foot'"):
            RefinerConfig(part="foot")

    def test_noise_schedule_grows_from_zero(self):
        sigma = RefinerConfig(noise_steps=5, noise_min=0.03, noise_max=0.15).noise_schedule()
        assert sigma[0] == 0 and sigma[1] == pytest.approx(0.03) and sigma[-1] == pytest.approx(0.15)
        assert len(sigma) == 6 and all(a < b for a, b in zip(sigma, sigma[1:]))

    def test_dict_round_trip(self):
        config = RefinerConfig(part="hand", channels=(8, 16), epochs=2)
        again = RefinerConfig.from_dict(config.to_dict())
        assert again == config and again.num_keypoints == config.num_keypoints

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"crop_size": 8}, "crop_size"),
            ({"crop_scale": (2.0, 1.5)}, "crop_scale"),
            ({"noise_min": 0.0}, "noise_steps"),
            ({"shared_noise": 2.0}, "shared_noise"),
        ],
    )
    def test_bad_values(self, kwargs, message):
        with pytest.raises(ValueError, match=message):
            RefinerConfig(**kwargs)

    def test_unknown_fields_in_a_stored_config(self):
        with pytest.raises(ValueError, match="unknown RefinerConfig fields"):
            RefinerConfig.from_dict({"part": "face", "depth": 3})

    def test_a_checkpoint_of_the_frame_split_still_loads(self):
        """Checkpoints made before the subject split store ``held_out_fraction``; it shapes nothing and is dropped."""
        config = RefinerConfig.from_dict({"part": "face", "held_out_fraction": 0.2})
        assert config == RefinerConfig(part="face") and "held_out_fraction" in RETIRED_FIELDS

    def test_held_out_subjects(self):
        assert RefinerConfig().held_out_subjects == ("S9", "S11")
        config = RefinerConfig(held_out_subjects=["S7"])
        assert RefinerConfig.from_dict(config.to_dict()).held_out_subjects == ("S7",)
        for bad in ((), ("S9", "S9"), "S9"):
            with pytest.raises(ValueError, match="held_out_subjects"):
                RefinerConfig(held_out_subjects=bad)
