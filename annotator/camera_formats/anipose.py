"""Anipose / aniposelib ``calibration.toml``: the calibration Anipose writes and reads.

The layout (aniposelib ``CameraGroup.dump`` and ``Camera.get_dict``, read with ``CameraGroup.load``)
is one TOML table per camera, ``[cam_0]``, ``[cam_1]``, ..., and a ``[metadata]`` table::

    [cam_0]
    name = "A"
    size = [ 1920, 1080,]                      # width, height (px)
    matrix = [ [ fx, 0.0, cx,], [ 0.0, fy, cy,], [ 0.0, 0.0, 1.0,],]
    distortions = [ k1, k2, p1, p2, k3,]       # OpenCV's order and lens model
    rotation = [ rx, ry, rz,]                  # world-to-camera Rodrigues vector (cv2.Rodrigues)
    translation = [ tx, ty, tz,]               # world-to-camera, in the calibration board's units

Conventions are OpenCV's (aniposelib projects with ``cv2.projectPoints(X, rotation, translation,
matrix, distortions)``): ``X_cam = R(rotation) X_world + translation``. Translations are in the unit of
the board's square length (often mm, sometimes m: the importer's ``units``). Cameras are taken in the
order of their table number (aniposelib sorts the table names as strings, which puts ``cam_10``
before ``cam_2``; the names, not the order, identify cameras). ``fisheye = true`` cameras
(``cv2.fisheye``'s model) are refused: the tool's lens models are OpenCV's k1 k2 p1 p2 k3 and
Human3.6M's.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np

from annotator import geometry
from annotator.camera_formats import checks
from annotator.camera_formats.base import CameraFormat, read_text
from annotator.camera_formats.checks import CameraFormatError

FORMAT = "anipose"
#: What a camera table must hold (aniposelib's ``Camera.load_dict`` reads all six).
FIELDS = ("name", "size", "matrix", "distortions", "rotation", "translation")
_TABLE = re.compile(r"^cam_(\d{1,4})$")


def _order(key: str) -> tuple[int, int | str]:
    match = _TABLE.match(key)
    return (0, int(match[1])) if match else (1, key)


def read(path: Path, mm_per_unit: float) -> list[geometry.Camera]:
    """The cameras of an Anipose ``calibration.toml``, in table order; translations converted to mm."""
    text = read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CameraFormatError(f"{path.name}: not valid TOML: {exc}") from None
    except RecursionError:
        raise CameraFormatError(f"{path.name}: nested too deeply to be a calibration") from None
    keys = sorted((k for k in data if k != "metadata"), key=_order)
    cameras = []
    for key in keys:
        where = f"{path.name} [{key}]"
        table = data[key]
        if not isinstance(table, dict):
            raise CameraFormatError(f"{where} must be a table of a camera ({', '.join(FIELDS)}), got {table!r:.60}")
        if table.get("fisheye"):
            raise CameraFormatError(
                f"{where} is a fisheye camera (cv2.fisheye's lens model), which the tool does not model; the lens "
                "models it supports are OpenCV's k1 k2 p1 p2 k3 and Human3.6M's"
            )
        missing = [f for f in FIELDS if f not in table]
        if missing:
            raise CameraFormatError(f"{where} has no {', '.join(missing)} (a camera has {', '.join(FIELDS)})")
        name = checks.name(f"{where} name", table["name"])
        K = checks.intrinsics(f"{where} matrix", checks.matrix(f"{where} matrix", table["matrix"], 3, 3,
                                                                bound=checks.MAX_INTRINSIC_PX))  # fmt: skip
        rvec = checks.vector(f"{where} rotation", table["rotation"], 3, bound=1e3)
        t = checks.vector(
            f"{where} translation", table["translation"], 3, bound=checks.MAX_TRANSLATION_MM / mm_per_unit
        )
        cameras.append(
            geometry.Camera(
                K=K,
                R=checks.rodrigues(f"{where} rotation", rvec),
                t=t * mm_per_unit,
                dist=checks.distortion(f"{where} distortions", table["distortions"], (4, 5, 8)),
                size=checks.size(f"{where} size", table["size"]),
                model="opencv",
                name=name,
            )
        )
    if not cameras:
        raise CameraFormatError(f"{path.name} has no camera tables ([cam_0], [cam_1], ...)")
    return cameras


def _number(x: float) -> str:
    # As the ``toml`` package aniposelib dumps with writes floats.
    return repr(float(x)).replace("e+0", "e+").replace("e-0", "e-")


def _array(values) -> str:
    return "[ " + " ".join(f"{v}," for v in values) + "]"


def dumps(cameras: list[geometry.Camera]) -> str:
    """The TOML text aniposelib's ``CameraGroup.dump`` writes for ``cameras`` (translations in mm)."""
    parts = []
    for i, cam in enumerate(cameras):
        if cam.model != "opencv":
            raise CameraFormatError(f"camera {cam.name}: the {cam.model} lens model has no Anipose form")
        name = cam.name.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(
            f"[cam_{i}]\n"
            f'name = "{name}"\n'
            f"size = {_array(cam.size)}\n"
            f"matrix = {_array(_array(map(_number, row)) for row in cam.K)}\n"
            f"distortions = {_array(map(_number, cam.dist))}\n"
            f"rotation = {_array(map(_number, checks.rotation_vector(cam.R)))}\n"
            f"translation = {_array(map(_number, np.asarray(cam.t)))}\n"
        )
    parts.append("[metadata]\n")
    return "\n".join(parts)


def write(cameras: list[geometry.Camera], path: Path) -> None:
    """Write ``cameras`` as an Anipose ``calibration.toml`` (translations in mm)."""
    path.write_text(dumps(cameras), encoding="utf-8")


SPEC = CameraFormat(
    key=FORMAT,
    label="Anipose calibration.toml",
    suffixes=(".toml",),
    read=read,
    write=write,
)
