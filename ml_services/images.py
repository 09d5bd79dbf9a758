"""Reading camera images for the refiners: path in, (H, W, 3) uint8 RGB array out, with a clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError


def load_rgb(path: str | Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB pixels of the image file at ``path``; ``ValueError`` names a missing or bad file."""
    try:
        with Image.open(path) as img:
            return np.array(img.convert("RGB"))
    except FileNotFoundError:
        raise ValueError(f"image file not found: {path}") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"cannot read image {path}: {exc}") from None
