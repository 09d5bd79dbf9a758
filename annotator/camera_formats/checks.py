"""Type and range checks for the numbers and names a calibration file holds, shared by every camera format.

Each check takes the value as parsed (lists, numbers, strings from TOML, JSON or YAML) and a ``where``
that names the file, camera and field, and either returns a clean value (floats as numpy arrays, a
name as ``str``) or raises ``CameraFormatError`` with that ``where`` in its message. Booleans are
never numbers (``true`` is not 1.0), NaN and infinities are refused, and every magnitude is bounded,
so nothing absurd reaches the geometry.
"""

from __future__ import annotations

import math
import re

import numpy as np

#: Largest accepted magnitude of an intrinsic (focal length, principal point), pixels.
MAX_INTRINSIC_PX = 1e6
#: Largest accepted image side, pixels.
MAX_IMAGE_SIDE_PX = 65535
#: Largest accepted magnitude of a camera translation after conversion to mm (1 km: any room, any stadium).
MAX_TRANSLATION_MM = 1e6
#: Largest accepted magnitude of a lens distortion coefficient (real lenses stay within a few units).
MAX_DISTORTION = 1e3
#: Longest camera name: ``Camera.name`` in the database.
MAX_NAME_CHARS = 40
#: How far from orthonormal (max |R R^T - I|) a rotation matrix may be; files keep about 1e-9.
ROTATION_TOLERANCE = 1e-6
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NUMBERS = (int, float)


class CameraFormatError(ValueError):
    """A calibration file does not follow its format; the message names the file, the camera and the field."""


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def number(where: str, value, *, low: float = -math.inf, high: float = math.inf) -> float:
    """A finite int or float (never a boolean) within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, _NUMBERS):
        raise CameraFormatError(f"{where} must be a number, got {_short(value)}")
    x = float(value)
    if not math.isfinite(x) or not low <= x <= high:
        raise CameraFormatError(f"{where} = {_short(value)} is not a finite number in [{low:g}, {high:g}]")
    return x


def vector(where: str, value, length: int | tuple[int, ...], *, bound: float) -> np.ndarray:
    """A flat list of ``length`` numbers (one of several lengths when a tuple) within +-bound, as float64."""
    lengths = (length,) if isinstance(length, int) else length
    if not isinstance(value, list | tuple) or len(value) not in lengths:
        wanted = " or ".join(str(n) for n in lengths)
        raise CameraFormatError(f"{where} must be a list of {wanted} numbers, got {_short(value)}")
    return np.array([number(f"{where}[{i}]", v, low=-bound, high=bound) for i, v in enumerate(value)])


def matrix(where: str, value, rows: int, cols: int, *, bound: float) -> np.ndarray:
    """A (rows, cols) matrix given as nested lists (or a flat row-major list), as float64."""
    if isinstance(value, list | tuple) and len(value) == rows * cols and not any(isinstance(r, list) for r in value):
        return vector(where, value, rows * cols, bound=bound).reshape(rows, cols)
    if not isinstance(value, list | tuple) or len(value) != rows:
        raise CameraFormatError(f"{where} must be a {rows}x{cols} matrix (a list of {rows} rows), got {_short(value)}")
    return np.stack([vector(f"{where}[{r}]", row, cols, bound=bound) for r, row in enumerate(value)])


def intrinsics(where: str, K: np.ndarray) -> np.ndarray:
    """A camera matrix: positive focal lengths, zeros under the diagonal, K[2, 2] = 1."""
    if K[0, 0] <= 0 or K[1, 1] <= 0:
        raise CameraFormatError(
            f"{where}: the focal lengths K[0][0], K[1][1] must be positive, got {K[0, 0]:g}, {K[1, 1]:g}"
        )
    if K[1, 0] or K[2, 0] or K[2, 1] or K[2, 2] != 1.0:
        raise CameraFormatError(f"{where} must be [[fx, s, cx], [0, fy, cy], [0, 0, 1]], got {K.tolist()}")
    return K


def rotation(where: str, R: np.ndarray) -> np.ndarray:
    """A rotation matrix: orthonormal within ``ROTATION_TOLERANCE`` and det +1 (no mirror)."""
    err = float(np.abs(R @ R.T - np.eye(3)).max())
    if err > ROTATION_TOLERANCE:
        raise CameraFormatError(f"{where} is not a rotation matrix (R R^T differs from I by {err:.2g})")
    if np.linalg.det(R) < 0:
        raise CameraFormatError(f"{where} is a reflection (determinant -1), not a rotation")
    return R


def rodrigues(where: str, rvec: np.ndarray) -> np.ndarray:
    """(3,) rotation vector (OpenCV's ``cv2.Rodrigues`` convention: axis times angle, radians) -> (3, 3)."""
    theta = float(np.linalg.norm(rvec))
    if theta > 1e3:
        raise CameraFormatError(f"{where} is a rotation vector of {theta:g} rad: not a calibration")
    if theta < 1e-15:
        return np.eye(3)
    k = rvec / theta
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + math.sin(theta) * kx + (1.0 - math.cos(theta)) * kx @ kx


def rotation_vector(R: np.ndarray) -> np.ndarray:
    """Inverse of ``rodrigues``: (3, 3) rotation -> (3,) axis times angle (angle in [0, pi])."""
    v = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]]) / 2.0  # sin(theta) * axis
    sin = float(np.linalg.norm(v))
    cos = (float(np.trace(R)) - 1.0) / 2.0
    theta = math.atan2(sin, cos)  # well conditioned at every angle, unlike acos near 0 and pi
    if sin > 1e-6:
        return v / sin * theta
    if cos > 0:
        return v  # theta ~ sin: first order is exact to 1e-18
    # Near a half turn sin(theta) vanishes: the axis comes from the symmetric part, (R + R^T) / 2 =
    # cos I + (1 - cos) k k^T, exactly (1 - cos is about 2 there); its sign from v.
    kk = ((R + R.T) / 2.0 - cos * np.eye(3)) / (1.0 - cos)
    i = int(np.argmax(np.diag(kk)))
    k = kk[:, i] / math.sqrt(kk[i, i])
    if k @ v < 0:
        k = -k
    return k * theta


def size(where: str, value) -> tuple[int, int]:
    """(width, height): two positive integers (integral floats accepted, as TOML writers may give them)."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise CameraFormatError(f"{where} must be [width, height], got {_short(value)}")
    out = []
    for i, v in enumerate(value):
        x = number(f"{where}[{i}]", v, low=1, high=MAX_IMAGE_SIDE_PX)
        if x != int(x):
            raise CameraFormatError(f"{where}[{i}] = {v!r} is not a whole number of pixels")
        out.append(int(x))
    return out[0], out[1]


def distortion(where: str, value, lengths: tuple[int, ...] = (0, 4, 5, 8)) -> np.ndarray:
    """OpenCV's coefficients k1 k2 p1 p2 [k3 [k4 k5 k6]] -> the (5,) k1 k2 p1 p2 k3 the geometry models.

    The rational terms k4..k6 are not modelled: a file with them non-zero is refused rather than
    projected wrongly.
    """
    if value is None:
        return np.zeros(5)
    coef = vector(where, value, lengths, bound=MAX_DISTORTION)
    if len(coef) == 8 and coef[5:].any():
        raise CameraFormatError(
            f"{where}: the rational coefficients k4, k5, k6 = {coef[5:].tolist()} are not supported (the tool models "
            "k1 k2 p1 p2 k3)"
        )
    out = np.zeros(5)
    out[: min(5, len(coef))] = coef[:5]
    return out


def name(where: str, value) -> str:
    """A camera name: a non-empty string of at most ``MAX_NAME_CHARS`` characters without control characters,
    and without blanks at either end (numbers, as some files give them, become their decimal text)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise CameraFormatError(f"{where} must be a string, got {_short(value)}")
    if not value or value != value.strip():
        raise CameraFormatError(f"{where} {value!r} must not be empty or start or end with blanks")
    if len(value) > MAX_NAME_CHARS:
        raise CameraFormatError(f"{where} is {len(value)} characters long; the limit is {MAX_NAME_CHARS}")
    bad = _CONTROL.search(value)
    if bad:
        raise CameraFormatError(f"{where} contains a control character ({bad.group()!r})")
    return value
