"""Saving and loading refiner checkpoints: ``{model, model_args, layout_version, part, metrics}``.

A checkpoint rebuilds its own network from ``model_args`` (the ``RefinerConfig`` as a dict), and
refuses to load into a different keypoint layout or part. Writes are atomic (temporary file, then
rename), so a worker never reads half a checkpoint. The repository ships ``checkpoints/face.pt``
and ``checkpoints/hand.pt``; ``checkpoints/README.md`` says how they were made.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import torch

from annotator import keypoints
from ml_services.config import REFINER_PARTS, RefinerConfig
from ml_services.models import Refiner, build_refiner

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
#: Keys every checkpoint file carries.
CHECKPOINT_KEYS = ("model", "model_args", "layout_version", "part", "metrics")


def default_checkpoint(part: str) -> Path:
    """The shipped checkpoint of ``part`` (``face`` or ``hand``)."""
    if part not in REFINER_PARTS:
        raise ValueError(f"unknown refiner part {part!r}; choose one of {', '.join(REFINER_PARTS)}")
    return CHECKPOINT_DIR / f"{part}.pt"


def save_checkpoint(model: Refiner, path: str | Path, metrics: dict | None = None) -> Path:
    """Write ``model`` to ``path`` atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {
        "model": state,
        "model_args": model.config.to_dict(),
        "layout_version": keypoints.LAYOUT_VERSION,
        "part": model.config.part,
        "metrics": metrics or {},
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_checkpoint(path: str | Path, part: str | None = None) -> dict:
    """The checkpoint dict at ``path``, checked against the current layout and (if given) ``part``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"refiner checkpoint not found: {path}; train one with `python manage.py train_refiner --part "
            f"{part or '<face|hand>'} --dataset <name> --out {path}`"
        )
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path} is not a readable refiner checkpoint: {exc}") from None
    if not isinstance(data, dict) or any(k not in data for k in CHECKPOINT_KEYS):
        raise ValueError(f"{path} is not a refiner checkpoint (expected keys {', '.join(CHECKPOINT_KEYS)})")
    if data["layout_version"] != keypoints.LAYOUT_VERSION:
        raise ValueError(
            f"{path} was trained for keypoint layout {data['layout_version']!r}, but this tool uses "
            f"{keypoints.LAYOUT_VERSION!r}; retrain it with train_refiner"
        )
    if part is not None and data["part"] != part:
        raise ValueError(f"{path} is a {data['part']!r} refiner, but a {part!r} refiner was asked for")
    return data


def load_checkpoint(path: str | Path, part: str | None = None, device: torch.device | str = "cpu") -> Refiner:
    """Rebuild the network stored at ``path`` (in eval mode, on ``device``)."""
    data = read_checkpoint(path, part)
    config = RefinerConfig.from_dict(data["model_args"])
    if config.part != data["part"]:
        raise ValueError(f"{path}: model_args part {config.part!r} disagrees with part {data['part']!r}")
    model = build_refiner(config)
    model.load_state_dict(data["model"])
    return model.to(device).eval()


def checkpoint_hash(*paths: str | Path) -> str:
    """Short content hash of one or more checkpoint files (identifies the models behind a score)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]
