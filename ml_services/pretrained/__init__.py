"""A pretrained whole-body keypoint model for real photographs: MediaPipe's networks on the whole-body layout.

``detect_wholebody(image, box=None) -> (J, 3)`` (J = ``keypoints.NUM_KEYPOINTS``) is the one interface
the tool's other code relies on: x, y in image pixels (pixel centres are integers, as everywhere in the
tool) and a score in [0, 1], with NaN coordinates and score 0 for keypoints the model did not predict
(``mapping.py`` says which output becomes which keypoint). The networks come from the pinned
``mediapipe`` wheel at install time (``assets.py``) and run on the CPU with ai-edge-litert
(``runtime.py``); ``pipeline.py`` cuts the face and hands from the body and looks again around the head
and wrists where the first crop missed them. No Django here: arrays in, arrays out.
"""

from __future__ import annotations

import numpy as np

from annotator import keypoints

#: The name detections and suggestions of this model go by (``Detection2D.detector``, the editor's panel);
#: the folder of its files (``assets.MEDIAPIPE.folder``, which a test keeps equal).
MODEL_NAME = "mediapipe-0.10.14"
#: What the editor's panel and reports say the model is.
MODEL_LABEL = "pretrained MediaPipe 0.10.14 whole-body (pose, face mesh, hands)"
#: Images (and person boxes) smaller than this on a side give crops of nothing: refused with a clear message.
MIN_IMAGE_SIDE = 8


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise ValueError(f"image must be an (H, W, 3) uint8 RGB array, got shape {shape} of {dtype}")
    if min(image.shape[:2]) < MIN_IMAGE_SIDE:
        raise ValueError(f"image is {image.shape[1]} x {image.shape[0]} px; at least {MIN_IMAGE_SIDE} px a side")
    return image


def _check_box(box, width: int, height: int) -> tuple[float, float, float, float] | None:
    if box is None:
        return None
    values = np.asarray(box, dtype=np.float64).ravel()
    if values.shape != (4,) or not np.isfinite(values).all():
        raise ValueError(f"box must be four finite numbers (x0, y0, x1, y1), got {box!r}")
    x0, y0, x1, y1 = values
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) is empty: x1 must exceed x0 and y1 exceed y0")
    if max(x1 - x0, y1 - y0) < MIN_IMAGE_SIDE:
        raise ValueError(f"box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) is too small to hold a person: an empty crop "
                         f"(at least {MIN_IMAGE_SIDE} px a side)")  # fmt: skip
    if x1 <= -0.5 or y1 <= -0.5 or x0 >= width - 0.5 or y0 >= height - 0.5:
        raise ValueError(f"box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) lies outside the {width} x {height} image")
    return float(x0), float(y0), float(x1), float(y1)


def detect_wholebody(image: np.ndarray, box: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """The whole-body keypoints of the person in ``image`` (inside ``box`` when given).

    Args:
        image: (H, W, 3) uint8 RGB.
        box: optional person box (x0, y0, x1, y1) in image pixels; without it the person detector finds one.
    Returns:
        (J, 3) float64: x, y (pixels) and score in [0, 1]; NaN, NaN, 0 where not predicted.
    Raises:
        ValueError: a malformed image or box (the message says what is wrong).
        FileNotFoundError: the model files or the runtime are not installed (the message says how).
    """
    from ml_services.pretrained.pipeline import detect

    image = _check_image(image)
    box = _check_box(box, image.shape[1], image.shape[0])
    out = detect(image, box).keypoints
    if out.shape != (keypoints.NUM_KEYPOINTS, 3):
        raise RuntimeError(f"the pretrained pipeline returned {out.shape}")
    return out


__all__ = ["MODEL_LABEL", "MODEL_NAME", "detect_wholebody"]
