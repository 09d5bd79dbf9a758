"""Test data for studies: a small synthetic rig with ground truth (1 subject x 10 instants x 4 views), imported."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from annotator.services.imports import dataset_import_h3wb
from annotator.services.users import user_ensure

#: Instants of the small rig; each has four views (the Human3.6M cameras).
RIG_FRAMES = 10
RIG_SUBJECT = "S1"
DATASET = "rig"


def generate_rig(out: Path) -> Path:
    """Render the small rig into ``out`` (a few seconds); returns ``out``."""
    from fixtures.synthetic import generate

    generate(out, subjects=(RIG_SUBJECT,), frames=RIG_FRAMES, seed=0, workers=1, progress=False)
    return out


@cache
def rig_path() -> Path:
    """The small rig, rendered once per test session into a temporary directory."""
    return generate_rig(Path(tempfile.mkdtemp(prefix="study-rig-")))


def import_rig(rig: Path | None = None, name: str = DATASET) -> str:
    """Import the rig (default: ``rig_path()``) with its ground truth and images as dataset ``name``."""
    rig = rig or rig_path()
    dataset_import_h3wb(
        dataset_name=name, annotations=rig / "h3wb.json", ground_truth=rig / "ground_truth.json", images=rig / "images"
    )
    return name


def annotators(n: int) -> list[str]:
    """``n`` annotator accounts sim0..sim{n-1}; returns their usernames."""
    names = [f"sim{i}" for i in range(n)]
    for name in names:
        user_ensure(username=name, password="pw-sim-123", role="annotator")
    return names
