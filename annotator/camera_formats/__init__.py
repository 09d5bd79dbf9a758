"""Camera formats: the calibration files a dataset's rig is read from, one registry of kinds.

A rig is a set of 2 to ``MAX_CAMERAS`` calibrated cameras (``geometry.Camera``: K, R, t, lens model,
image size, name). It comes with a dataset, from one of the formats registered in ``FORMATS``:

* ``anipose``: Anipose / aniposelib ``calibration.toml`` (``anipose.py``);
* ``opencv``: an OpenCV-style JSON or YAML file (``opencv.py``, schema in the README);
* ``h36m``: the Human3.6M calibration shipped with the tool (``h36m.py``), a preset without a file,
  calibrated per subject (the cameras were moved between subjects' sessions).

Each format module defines ``SPEC``, a ``CameraFormat``; adding a format is one module with its
``SPEC`` and tests, plus its line in ``FORMATS``. Files are read with a size cap, every value is
type- and range-checked (``checks``), and the rig as a whole is checked here: camera count, unique
names, no two cameras at one place. Translations are converted to mm (``UNITS``). Pure Python and
numpy: no Django.
"""

from __future__ import annotations

from pathlib import Path

from annotator import geometry
from annotator.camera_formats import anipose, h36m, opencv
from annotator.camera_formats.base import (
    MAX_CAMERAS,
    MAX_FILE_BYTES,
    MIN_CAMERAS,
    UNITS,
    CameraFormat,
    Rig,
    check_cameras,
    read_text,
    spread,
)
from annotator.camera_formats.checks import CameraFormatError

#: Every camera format, by key (``Dataset.rig_format``): a new format is its module's ``SPEC`` added here.
FORMATS: dict[str, CameraFormat] = {spec.key: spec for spec in (anipose.SPEC, opencv.SPEC, h36m.SPEC)}


def choices() -> list[tuple[str, str]]:
    """(key, label) of every format: the choices of ``Dataset.rig_format`` (a callable, so no migration per format)."""
    return [(spec.key, spec.label) for spec in FORMATS.values()]


def describe(rig: Rig) -> str:
    """One line for import reports: the format, the cameras, where they stand."""
    cams = rig.first
    where = f" from {rig.source}" if rig.source else ""
    per = f", calibrated per subject ({len(rig.per_subject)} subjects)" if rig.per_subject else ""
    names = ", ".join(c.name for c in cams)
    return f"{len(cams)}-camera rig ({FORMATS[rig.format].label}{where}): cameras {names}{per}; {spread(cams)}"


def format_of(path: Path, fmt: str | None) -> CameraFormat:
    """The format ``fmt`` names, or the one ``path``'s ending belongs to."""
    if fmt:
        if fmt not in FORMATS:
            raise CameraFormatError(f"unknown camera format {fmt!r}; known: {', '.join(FORMATS)}")
        return FORMATS[fmt]
    suffix = path.suffix.lower()
    for spec in FORMATS.values():
        if suffix in spec.suffixes:
            return spec
    known = ", ".join(f"{s} ({spec.key})" for spec in FORMATS.values() for s in spec.suffixes)
    raise CameraFormatError(f"{path.name}: cannot tell its camera format from its name; name it ({known})")


def mm_per_unit(units: str) -> float:
    if units not in UNITS:
        raise CameraFormatError(f"unknown units {units!r}; use one of {', '.join(UNITS)}")
    return UNITS[units]


def read_rig(path: str | Path | None = None, *, fmt: str | None = None, units: str = "mm") -> Rig:
    """Read and check a rig: from ``path`` in format ``fmt`` (by default the one its ending names), or the
    preset ``fmt`` when there is no file. Translations in ``units`` are converted to mm."""
    scale = mm_per_unit(units)
    if path is None:
        spec = FORMATS.get(fmt or "")
        if spec is None or spec.preset is None:
            presets = ", ".join(k for k, s in FORMATS.items() if s.preset)
            raise CameraFormatError(f"a rig needs a calibration file, or a preset without one ({presets})")
        return spec.preset()
    path = Path(path)
    spec = format_of(path, fmt)
    if spec.read is None:
        raise CameraFormatError(f"the {spec.label} is a preset: it is not read from a file ({path.name})")
    cameras = spec.read(path, scale)
    return Rig(spec.key, tuple(check_cameras(cameras, path.name)), source=path.name)


def write_rig(cameras: list[geometry.Camera], path: Path, fmt: str) -> None:
    """Write ``cameras`` to ``path`` in format ``fmt`` (translations in mm)."""
    spec = FORMATS[fmt]
    if spec.write is None:
        raise CameraFormatError(f"the {spec.label} is not written to files")
    spec.write(check_cameras(list(cameras), path.name), path)


__all__ = [
    "FORMATS",
    "MAX_FILE_BYTES",
    "MAX_CAMERAS",
    "MIN_CAMERAS",
    "UNITS",
    "CameraFormat",
    "CameraFormatError",
    "Rig",
    "check_cameras",
    "choices",
    "describe",
    "read_text",
    "read_rig",
    "write_rig",
]
