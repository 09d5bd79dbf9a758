"""Hyperparameters of the refinement networks (one ``RefinerConfig`` per part), as plain dataclasses.

Checkpoints store ``asdict(config)`` as ``model_args`` and rebuild the network from it, so every
number that shapes the network or its training lives here, and nowhere else.

Noise is expressed in *part-relative* units: a standard deviation of 0.05 means 5 % of the side of
the part's square box (the box around its keypoints), so one schedule fits a 40 px face and a
400 px one. The default schedule, 0.03 to 0.15 of the part side over steps t = 1..5, is H3WB's
5..25 px (sec. 3.3) for a part about 170 px across; at the synthetic rig's typical face or hand (about
30 px across) it spans 0.9..4.5 px per axis, which brackets the dataset skeletons' own projection error
(mean 2.6 px on faces and 3.6 px on hands).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from annotator import keypoints

#: Human3.6M's test subjects (H3WB's too): the people a refiner is evaluated on and never trained on by default.
HELD_OUT_SUBJECTS: tuple[str, ...] = ("S9", "S11")
#: Fields older checkpoints store that no longer shape a network or its training; dropped when they load
#: (``held_out_fraction`` chose held-out frames by a hash, which put frames 0.1 s from training frames on
#: the held-out side).
RETIRED_FIELDS: frozenset[str] = frozenset({"held_out_fraction"})

#: The parts a refiner exists for; ``hand`` serves both hands (left hands are mirrored).
REFINER_PARTS: tuple[str, ...] = ("face", "hand")


def part_size(part: str) -> int:
    """Keypoints the ``part`` network predicts (a hand network predicts one hand)."""
    if part == "face":
        return len(keypoints.PARTS["face"])
    if part == "hand":
        return len(keypoints.PARTS["right_hand"])
    raise ValueError(f"unknown refiner part {part!r}; choose one of {', '.join(REFINER_PARTS)}")


@dataclass
class RefinerConfig:
    """Network, crop, noise and training settings of one part's refiner.

    Attributes:
        part: ``face`` or ``hand``.
        crop_size: side of the square network input, pixels.
        context_scale: side of the stored training context crop, in part-box sides.
        context_size: pixels of the stored training context crop.
        crop_scale: range of the crop side in part-box sides; scoring's corner crops lie inside it.
        min_box_px: smallest part box side (image pixels), so a collapsed part still gets a crop.
        channels: widths of the backbone stages; each stage is two conv-bn-relu blocks.
        token_dim: width of each keypoint's token after sampling the feature map.
        hidden: width of the MLP that mixes all keypoint tokens (the shape prior).
        embed_dim: width of the learned per-keypoint embedding.
        noise_steps: T; step t has spread noise_min + (t-1)/(T-1) (noise_max - noise_min).
        noise_min, noise_max: per-axis noise std of steps 1 and T, in part-box sides.
        shared_noise: fraction of the noise variance shared by the whole part (a rigid shift).
        iterations: refinement steps at inference (H3WB: 10).
        epochs, batch_size, lr, weight_decay, seed: training.
        held_out_subjects: the people kept out of training and evaluated on (default: Human3.6M's test
            subjects). Held-out means other people: frames of a training subject 0.1 s apart from a
            training frame would measure memory, not generalisation.
    """

    part: str = "face"
    crop_size: int = 48
    context_scale: float = 3.0
    context_size: int = 96
    crop_scale: tuple[float, float] = (1.25, 1.75)
    min_box_px: float = 12.0
    channels: tuple[int, ...] = (24, 48, 64)
    token_dim: int = 32
    hidden: int = 256
    embed_dim: int = 16
    noise_steps: int = 5
    noise_min: float = 0.03
    noise_max: float = 0.15
    shared_noise: float = 0.5
    iterations: int = 10
    epochs: int = 15
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    held_out_subjects: tuple[str, ...] = HELD_OUT_SUBJECTS
    num_keypoints: int = field(init=False)

    def __post_init__(self) -> None:
        self.num_keypoints = part_size(self.part)
        self.crop_scale = tuple(float(v) for v in self.crop_scale)
        self.channels = tuple(int(c) for c in self.channels)
        if isinstance(self.held_out_subjects, str):
            raise ValueError(f"held_out_subjects must be a sequence of subject names, got {self.held_out_subjects!r}")
        self.held_out_subjects = tuple(str(s) for s in self.held_out_subjects)
        if self.crop_size < 16 or self.context_size < self.crop_size:
            raise ValueError(f"crop_size must be >= 16 and <= context_size, got {self.crop_size}/{self.context_size}")
        if not 1.0 <= self.crop_scale[0] <= self.crop_scale[1] < self.context_scale / 1.5:
            raise ValueError(f"crop_scale must satisfy 1 <= low <= high < context_scale / 1.5, got {self.crop_scale}")
        if self.noise_steps < 1 or not 0 < self.noise_min <= self.noise_max:
            raise ValueError("noise_steps must be >= 1 and 0 < noise_min <= noise_max")
        if not 0.0 <= self.shared_noise <= 1.0:
            raise ValueError("shared_noise must be in [0, 1]")
        if not self.held_out_subjects or len(set(self.held_out_subjects)) != len(self.held_out_subjects):
            raise ValueError(f"held_out_subjects must name at least one subject, each once; got "
                             f"{self.held_out_subjects}")  # fmt: skip
        if not self.channels or min(self.channels) < 1 or self.iterations < 1:
            raise ValueError("channels must be positive and iterations >= 1")

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("num_keypoints")
        data["crop_scale"] = list(self.crop_scale)
        data["channels"] = list(self.channels)
        data["held_out_subjects"] = list(self.held_out_subjects)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> RefinerConfig:
        known = {f.name for f in fields(cls) if f.init}
        data = {k: v for k, v in data.items() if k not in RETIRED_FIELDS}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown RefinerConfig fields {unknown}")
        return cls(**data)

    def noise_schedule(self) -> list[float]:
        """Per-axis std of steps 1..T in part-box sides (index 0 is step 0, the truth: 0)."""
        T = self.noise_steps
        if T == 1:
            return [0.0, self.noise_max]
        return [0.0] + [self.noise_min + (t - 1) / (T - 1) * (self.noise_max - self.noise_min) for t in range(1, T + 1)]
