"""The refinement network: one denoising step of a part's 2D keypoints, given an image crop.

Reads top to bottom like nanoGPT's ``model.py``: blocks, backbone, network, builder. The network
sees a square crop (B, 3, S, S) in [0, 1] and the part's current keypoints (B, K, 2) in crop
coordinates ([-1, 1], see ``ml_services.data``) and returns the keypoints one step of the noise
schedule closer to the truth. The backbone runs once per crop; iterating only re-samples its
feature map at the moved keypoints, so ``refine`` costs one backbone pass and ``iterations`` heads.

Imports torch and the layout only; no Django.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ml_services.config import RefinerConfig

#: Image normalisation: grey 0.5 to zero, a typical contrast to unit scale.
_MEAN, _STD = 0.5, 0.25
#: Stages with a stride of 2; later stages keep the resolution (crop_size / 4 for two).
_DOWNSAMPLING_STAGES = 2


class ConvBNReLU(nn.Sequential):
    """3x3 convolution, batch norm, ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
        )


class Backbone(nn.Module):
    """Stages of two conv-bn-relu blocks; the first ``_DOWNSAMPLING_STAGES`` halve the resolution."""

    def __init__(self, channels: tuple[int, ...]) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        c_in = 3
        for i, c in enumerate(channels):
            blocks += [ConvBNReLU(c_in, c, stride=2 if i < _DOWNSAMPLING_STAGES else 1), ConvBNReLU(c, c)]
            c_in = c
        self.blocks = nn.Sequential(*blocks)
        self.out_channels = c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)  # (B, C, h, w)


class Refiner(nn.Module):
    """Keypoint-conditioned refinement: sample features at the keypoints, mix all keypoints, add offsets."""

    def __init__(self, config: RefinerConfig) -> None:
        super().__init__()
        self.config = config
        K, C = config.num_keypoints, config.channels[-1]
        self.backbone = Backbone(config.channels)
        self.embedding = nn.Parameter(torch.randn(K, config.embed_dim) * 0.1)  # which keypoint a token is
        # A keypoint's token: Linear over [sampled feature (C), position (2), embedding (E), pooled (C)], ReLU.
        self.token = nn.Sequential(nn.Linear(C + 2 + config.embed_dim + C, config.token_dim), nn.ReLU(inplace=True))
        self.local_head = nn.Linear(config.token_dim, 2)
        self.mix = nn.Sequential(
            nn.Linear(K * config.token_dim, config.hidden),
            nn.ReLU(inplace=True),
            nn.Linear(config.hidden, K * 2),
        )
        # Start as the identity map: the first steps of training need not undo random offsets.
        for layer in (self.local_head, self.mix[-1]):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, S, S) in [0, 1] -> feature map (B, C, h, w) and its global average (B, C)."""
        fmap = self.backbone((images - _MEAN) / _STD)
        return fmap, fmap.mean(dim=(2, 3))

    def static_tokens(self, pooled: torch.Tensor) -> torch.Tensor:
        """(B, C) pooled features -> (B, K, D): the token layer's share of the inputs that do not move
        (keypoint embedding, global feature, bias), computed once per crop instead of once per step."""
        C, E = self.config.channels[-1], self.config.embed_dim
        layer = self.token[0]
        w_embed, w_pooled = layer.weight[:, C + 2 : C + 2 + E], layer.weight[:, C + 2 + E :]  # (D, E), (D, C)
        return (self.embedding @ w_embed.T)[None] + (pooled @ w_pooled.T)[:, None] + layer.bias  # (B, K, D)

    def step(
        self, fmap: torch.Tensor, pooled: torch.Tensor, q: torch.Tensor, static: torch.Tensor | None = None
    ) -> torch.Tensor:
        """One denoising step: (B, K, 2) crop coordinates -> (B, K, 2).

        The token layer is one Linear over [sampled feature, q, embedding, pooled], applied by blocks of
        its weight so that the static part (``static_tokens``) is reused across steps.
        """
        B, K, _ = q.shape
        C = self.config.channels[-1]
        sampled = F.grid_sample(fmap, q.detach()[:, :, None, :], align_corners=False)  # (B, C, K, 1)
        sampled = sampled[..., 0].transpose(1, 2)  # (B, K, C)
        if static is None:
            static = self.static_tokens(pooled)
        w = self.token[0].weight  # (D, C + 2 + E + C)
        h = torch.relu(sampled @ w[:, :C].T + q @ w[:, C : C + 2].T + static)  # (B, K, D)
        offsets = self.local_head(h) + self.mix(h.reshape(B, -1)).reshape(B, K, 2)  # (B, K, 2)
        return q + offsets

    def forward(self, images: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S), (B, K, 2) -> (B, K, 2): the keypoints one step closer to the truth."""
        if images.ndim != 4 or images.shape[1] != 3 or q.shape[1:] != (self.config.num_keypoints, 2):
            raise ValueError(f"expected images (B, 3, S, S) and q (B, {self.config.num_keypoints}, 2), "
                             f"got {tuple(images.shape)} and {tuple(q.shape)}")  # fmt: skip
        fmap, pooled = self.features(images)
        return self.step(fmap, pooled, q)

    @torch.no_grad()
    def refine(self, images: torch.Tensor, q: torch.Tensor, iterations: int | None = None) -> torch.Tensor:
        """Iterate ``step`` (``config.iterations`` times by default): (B, 3, S, S), (B, K, 2) -> (B, K, 2)."""
        fmap, pooled = self.features(images)
        static = self.static_tokens(pooled)
        for _ in range(self.config.iterations if iterations is None else iterations):
            q = self.step(fmap, pooled, q, static)
        return q


def build_refiner(config: RefinerConfig) -> Refiner:
    """A fresh network for ``config`` (weights from torch's current random state)."""
    return Refiner(config)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
