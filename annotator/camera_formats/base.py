"""What every camera format shares: the ``Rig`` and ``CameraFormat`` types, file reading, rig-wide checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from annotator import geometry
from annotator.camera_formats.checks import CameraFormatError

#: Fewest and most cameras a rig may have.
MIN_CAMERAS, MAX_CAMERAS = 2, 16
#: Largest calibration file read (16 cameras take a few kB).
MAX_FILE_BYTES = 1 << 20
#: Millimetres per unit of the translations (and 3D keypoints) a file may be written in.
UNITS: dict[str, float] = {"mm": 1.0, "cm": 10.0, "m": 1000.0}


@dataclass(frozen=True)
class Rig:
    """Calibrated cameras, in file order: one set every subject shares, or one set per subject (Human3.6M)."""

    format: str
    cameras: tuple[geometry.Camera, ...] = ()
    per_subject: Mapping[str, tuple[geometry.Camera, ...]] = field(default_factory=dict)
    source: str = ""

    def cameras_for(self, subject: str) -> tuple[geometry.Camera, ...]:
        """The cameras that filmed ``subject`` (CameraFormatError when the rig has no calibration for them)."""
        if not self.per_subject:
            return self.cameras
        if subject not in self.per_subject:
            raise CameraFormatError(
                f"the {self.format} rig has no calibration for subject {subject!r} "
                f"(it has {', '.join(sorted(self.per_subject))})"
            )
        return self.per_subject[subject]

    @property
    def first(self) -> tuple[geometry.Camera, ...]:
        """The shared cameras, or the first subject's (for names and reports)."""
        return self.cameras or next(iter(self.per_subject.values()))


@dataclass(frozen=True)
class CameraFormat:
    """One kind of calibration: how to read it (and write it), and what it is called."""

    key: str
    label: str
    #: File name endings this format is recognised by (empty for a preset).
    suffixes: tuple[str, ...] = ()
    #: (file, mm per unit of its translations) -> the cameras in file order; None for a preset.
    read: Callable[[Path, float], list[geometry.Camera]] | None = None
    #: (cameras, file) -> writes them in this format, translations in mm; None when the format is not written.
    write: Callable[[list[geometry.Camera], Path], None] | None = None
    #: The preset's rig; None for formats read from a file.
    preset: Callable[[], Rig] | None = None


def spread(cameras) -> str:
    """Where the cameras stand, for reports: their distances from their centroid (a wrong unit shows here)."""
    centres = np.stack([c.center for c in cameras])
    dist = np.linalg.norm(centres - centres.mean(axis=0), axis=1)
    return f"camera centres {dist.min() / 1000:.2f} to {dist.max() / 1000:.2f} m from their centroid"


def read_text(path: Path) -> str:
    """A calibration file's text: at most ``MAX_FILE_BYTES``, UTF-8."""
    if not path.is_file():
        raise CameraFormatError(f"{path}: no such file")
    with path.open("rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise CameraFormatError(f"{path.name} is larger than {MAX_FILE_BYTES // 1024} kB: not a calibration file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CameraFormatError(f"{path.name} is not UTF-8 text (byte {exc.start})") from None


def check_cameras(cameras: list[geometry.Camera], where: str) -> list[geometry.Camera]:
    """The rig-wide checks: 2..MAX_CAMERAS cameras, unique names, no coincident centres."""
    if not MIN_CAMERAS <= len(cameras) <= MAX_CAMERAS:
        raise CameraFormatError(f"{where}: a rig has {MIN_CAMERAS} to {MAX_CAMERAS} cameras, this one {len(cameras)}")
    seen: dict[str, int] = {}
    for i, cam in enumerate(cameras):
        if cam.name in seen:
            raise CameraFormatError(f"{where}: cameras {seen[cam.name]} and {i} are both named {cam.name!r}")
        seen[cam.name] = i
    try:
        geometry.rig_cameras(cameras)
    except ValueError as exc:
        raise CameraFormatError(f"{where}: {exc}") from None
    return cameras
