"""The photographs of people the pretrained-model tests use (extracted by ``make install-dev``), with boxes
measured by eye on them (continuous pixels: x0, y0, x1, y1)."""

from __future__ import annotations

from functools import cache

import numpy as np

from ml_services.images import load_rgb
from ml_services.pretrained.assets import TEST_PHOTOS, asset_path

#: NASA's portrait of Eileen Collins (public domain): hair to chin, ear to ear.
ASTRONAUT_FACE = (165, 40, 292, 188)
#: Her gloved right hand, cut by the bottom edge of the frame (MediaPipe's own Holistic finds no hand there).
ASTRONAUT_GLOVE = (105, 470, 200, 512)
#: The man at the tripod camera (CC0): his face, in three-quarter view.
CAMERA_FACE = (180, 95, 268, 210)


@cache
def photo(name: str) -> np.ndarray:
    image = load_rgb(asset_path(TEST_PHOTOS, name))
    image.flags.writeable = False
    return image


def inside(points: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """(K,) whether each (K, 2) pixel-centre point lies in ``box`` (continuous pixels)."""
    x, y = points[:, 0] + 0.5, points[:, 1] + 0.5
    return (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])
