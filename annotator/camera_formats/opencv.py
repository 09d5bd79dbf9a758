"""OpenCV-style calibration in JSON or YAML: per camera its intrinsics, distortion and world-to-camera pose.

The schema (README, "Camera formats") is a ``cameras`` list (or a mapping from camera name to camera)::

    {"cameras": [{"name": "A", "size": [1920, 1080],
                  "K": [[fx, 0, cx], [0, fy, cy], [0, 0, 1]],
                  "dist": [k1, k2, p1, p2, k3],
                  "rvec": [rx, ry, rz],           # or "R": a 3x3 rotation matrix
                  "t": [tx, ty, tz]}, ...]}

Conventions are OpenCV's, as ``cv2.calibrateCamera``, ``cv2.solvePnP`` and ``cv2.projectPoints`` use
them: ``X_cam = R X_world + t`` (world-to-camera), ``rvec`` a Rodrigues vector (``cv2.Rodrigues``), K
``cameraMatrix`` and ``dist`` ``distCoeffs`` in OpenCV's order (4, 5 or 8 coefficients; the rational
k4..k6 must be zero), image size (width, height). The names OpenCV's own sample programs and
``cv::FileStorage`` users write are accepted too: ``camera_matrix``, ``distortion_coefficients``,
``image_size`` or ``image_width`` and ``image_height``, ``T`` or ``tvec``; a matrix may be nested
lists, a flat row-major list, or a ``cv::FileStorage`` matrix (``{"type_id": "opencv-matrix", "rows",
"cols", "dt", "data"}`` in JSON, ``!!opencv-matrix`` in YAML, whose ``%YAML:1.0`` first line is
accepted). YAML aliases are refused (they can make a small file expand without bound).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml

from annotator import geometry
from annotator.camera_formats import checks
from annotator.camera_formats.base import CameraFormat, read_text
from annotator.camera_formats.checks import CameraFormatError

FORMAT = "opencv"
#: Accepted names of each field, the documented one first.
ALIASES: dict[str, tuple[str, ...]] = {
    "K": ("K", "camera_matrix", "cameraMatrix"),
    "dist": ("dist", "distortion_coefficients", "distCoeffs"),
    "rvec": ("rvec",),
    "R": ("R",),
    "t": ("t", "T", "tvec"),
    "size": ("size", "image_size"),
}
_MATRIX_TAG = "tag:yaml.org,2002:opencv-matrix"


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, plus OpenCV's ``!!opencv-matrix`` tag, minus aliases."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise CameraFormatError(f"YAML aliases are not accepted (line {event.start_mark.line + 1})")
        return super().compose_node(parent, index)


_Loader.add_constructor(_MATRIX_TAG, lambda loader, node: dict(loader.construct_mapping(node, deep=True)))


def _parse(path: Path, text: str):
    yaml_like = path.suffix.lower() in (".yaml", ".yml") or text.lstrip().startswith("%YAML")
    try:
        if not yaml_like:
            return json.loads(text)
        lines = text.splitlines()
        if lines and lines[0].strip().replace(" ", ":").startswith("%YAML:"):
            lines = lines[1:]  # OpenCV writes "%YAML:1.0", which is not a YAML 1.1 directive
        return yaml.load("\n".join(lines), Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except json.JSONDecodeError as exc:
        raise CameraFormatError(f"{path.name}: not valid JSON: {exc}") from None
    except yaml.YAMLError as exc:
        raise CameraFormatError(f"{path.name}: not valid YAML: {str(exc)[:300]}") from None
    except RecursionError:
        raise CameraFormatError(f"{path.name}: nested too deeply to be a calibration") from None


def _field(where: str, camera: dict, name: str, required: bool = True):
    found = [a for a in ALIASES[name] if a in camera]
    if len(found) > 1:
        raise CameraFormatError(f"{where} gives {name} twice ({', '.join(found)})")
    if not found:
        if required:
            raise CameraFormatError(f"{where} has no {' / '.join(ALIASES[name])}")
        return None
    return _matrix_data(f"{where} {found[0]}", camera[found[0]])


def _matrix_data(where: str, value):
    """A cv::FileStorage matrix ({rows, cols, dt, data}) as nested lists; anything else unchanged."""
    if not isinstance(value, dict):
        return value
    if "data" not in value or "rows" not in value or "cols" not in value:
        raise CameraFormatError(f"{where} must be a list or an OpenCV matrix with rows, cols and data")
    rows = checks.number(f"{where} rows", value["rows"], low=1, high=16)
    cols = checks.number(f"{where} cols", value["cols"], low=1, high=16)
    data = value["data"]
    if not isinstance(data, list) or len(data) != rows * cols:
        raise CameraFormatError(f"{where} data must hold rows x cols = {int(rows * cols)} numbers")
    if rows == 1 or cols == 1:
        return list(data)
    return [list(data[r * int(cols) : (r + 1) * int(cols)]) for r in range(int(rows))]


def _flat(value):
    # A 3x1 or 1x5 matrix written as nested lists is a vector.
    if isinstance(value, list) and value and all(isinstance(v, list) and len(v) == 1 for v in value):
        return [v[0] for v in value]
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        return value[0]
    return value


def _size(where: str, camera: dict):
    size = _field(where, camera, "size", required=False)
    if size is None and ("image_width" in camera or "image_height" in camera):
        size = [camera.get("image_width"), camera.get("image_height")]
    if size is None:
        raise CameraFormatError(f"{where} has no size ([width, height]) or image_width and image_height")
    return checks.size(f"{where} size", _flat(size))


def _camera(where: str, camera, default_name: str | None, mm_per_unit: float) -> geometry.Camera:
    if not isinstance(camera, dict):
        raise CameraFormatError(f"{where} must be an object (name, size, K, dist, R or rvec, t)")
    name = camera.get("name", default_name)
    if name is None:
        raise CameraFormatError(f"{where} has no name")
    if default_name is not None and "name" in camera and camera["name"] != default_name:
        raise CameraFormatError(f"{where} is named {camera['name']!r} under the key {default_name!r}")
    name = checks.name(f"{where} name", name)
    K = checks.intrinsics(f"{where} K", checks.matrix(f"{where} K", _field(where, camera, "K"), 3, 3,
                                                      bound=checks.MAX_INTRINSIC_PX))  # fmt: skip
    rvec, R = _field(where, camera, "rvec", required=False), _field(where, camera, "R", required=False)
    if (rvec is None) == (R is None):
        raise CameraFormatError(f"{where} must give exactly one of rvec (a Rodrigues vector) and R (a 3x3 matrix)")
    if rvec is not None:
        R = checks.rodrigues(f"{where} rvec", checks.vector(f"{where} rvec", _flat(rvec), 3, bound=1e3))
    else:
        R = checks.rotation(f"{where} R", checks.matrix(f"{where} R", R, 3, 3, bound=2.0))
    bound = checks.MAX_TRANSLATION_MM / mm_per_unit
    t = checks.vector(f"{where} t", _flat(_field(where, camera, "t")), 3, bound=bound) * mm_per_unit
    dist = checks.distortion(f"{where} dist", _flat(_field(where, camera, "dist", required=False)))
    return geometry.Camera(K=K, R=R, t=t, dist=dist, size=_size(where, camera), model="opencv", name=name)


def read(path: Path, mm_per_unit: float) -> list[geometry.Camera]:
    """The cameras of an OpenCV-style JSON or YAML calibration, in file order; translations converted to mm."""
    data = _parse(path, read_text(path))
    if not isinstance(data, dict) or "cameras" not in data:
        raise CameraFormatError(f"{path.name} must be an object with a 'cameras' list (or mapping name -> camera)")
    cameras = data["cameras"]
    if isinstance(cameras, dict):
        return [_camera(f"{path.name} camera {k!r:.40}", c, str(k), mm_per_unit) for k, c in cameras.items()]
    if not isinstance(cameras, list):
        raise CameraFormatError(f"{path.name}: 'cameras' must be a list or a mapping from name to camera")
    return [_camera(f"{path.name} cameras[{i}]", c, None, mm_per_unit) for i, c in enumerate(cameras)]


def dumps(cameras: list[geometry.Camera]) -> str:
    """The documented JSON form of ``cameras`` (translations in mm)."""
    out = []
    for cam in cameras:
        if cam.model != "opencv":
            raise CameraFormatError(f"camera {cam.name}: the {cam.model} lens model is not OpenCV's")
        out.append({"name": cam.name, "size": list(cam.size), "K": cam.K.tolist(), "dist": cam.dist.tolist(),
                    "R": cam.R.tolist(), "t": np.asarray(cam.t).tolist()})  # fmt: skip
    return json.dumps({"units": "mm", "cameras": out}, indent=1) + "\n"


def write(cameras: list[geometry.Camera], path: Path) -> None:
    """Write ``cameras`` as the documented OpenCV-style JSON (translations in mm)."""
    path.write_text(dumps(cameras), encoding="utf-8")


SPEC = CameraFormat(
    key=FORMAT,
    label="OpenCV-style JSON/YAML",
    suffixes=(".json", ".yaml", ".yml"),
    read=read,
    write=write,
)
