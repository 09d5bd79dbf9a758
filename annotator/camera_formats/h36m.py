"""The Human3.6M calibration as a camera-format preset: no file, the tool's shipped numbers (``annotator.h36m``).

Human3.6M calibrates every subject's session on its own (the cameras moved between sessions), so the
preset is a rig per subject; its four cameras are named by their Human3.6M ids and use the ``h36m``
lens model (VideoPose3D's ``project_to_2d``). H3WB datasets have this rig.
"""

from __future__ import annotations

from functools import cache

from annotator import h36m
from annotator.camera_formats.base import CameraFormat, Rig

FORMAT = "h36m"


@cache
def preset() -> Rig:
    """The shipped Human3.6M rig of every subject."""
    return Rig(FORMAT, per_subject={s: tuple(h36m.rig(s).values()) for s in h36m.SUBJECTS}, source="")


SPEC = CameraFormat(key=FORMAT, label="Human3.6M calibration (shipped preset)", preset=preset)
