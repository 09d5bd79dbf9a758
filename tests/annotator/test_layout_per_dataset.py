"""The request path serves any dataset's layout: no module on it reads the default layout's module-level names.

``annotator.keypoints``' module-level names (``NAMES``, ``NUM_KEYPOINTS``, ``VALIDITY_PARTS``, ...) describe
COCO-WholeBody only. A module that serves a task, frame or dataset of any layout must ask the dataset
(``Dataset.layout``, ``selectors.task_layout``) instead; this test reads those modules' source and fails on
the next one that reaches for a default name (the bug class issue 18 found in about 25 places).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from annotator import keypoints

ROOT = Path(__file__).resolve().parents[2]
#: Modules on the correction / review request path and the generic format's import and export.
LAYOUT_FREE_MODULES = (
    "annotator/services/annotations.py",
    "annotator/services/tasks.py",
    "annotator/services/multiview_imports.py",
    "annotator/selectors/tasks.py",
    "annotator/selectors/frames.py",
    "annotator/selectors/datasets.py",
    "annotator/exporters/multiview.py",
    "annotator/exporters/provenance.py",
    "annotator/multiview_format.py",
    "api/task_apis.py",
    "api/apis.py",
    "frontend/views/tasks.py",
    "frontend/views/pages.py",
)
#: The default layout's names (``LAYOUT_VERSION``, the default's id, stays allowed: it names what to use
#: when nothing else is said, as the generic format's header and the layout API do).
DEFAULT_NAMES = frozenset({
    "NAMES", "NUM_KEYPOINTS", "index", "PART_NAMES", "PARTS", "PART_SLICES", "PART_OF", "FOCUS_PARTS",
    "VALIDITY_PARTS", "METRIC_PART_NAMES", "METRIC_PARTS", "LINKS", "PARENTS", "FLIP_INDEX", "FLIP_PAIRS", "SIGMAS",
    "PART_COLORS", "FACE_REGIONS", "LABELS", "layout_json", "LAYOUT_NAME", "NOSE", "LEFT_HIP", "RIGHT_HIP",
    "PELVIS_JOINTS", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_HAND_ROOT", "RIGHT_HAND_ROOT", "FACE_NOSE_TIP",
})  # fmt: skip


def test_the_banned_names_are_the_default_layouts():
    for name in DEFAULT_NAMES:
        assert hasattr(keypoints, name), name


@pytest.mark.parametrize("module", LAYOUT_FREE_MODULES)
def test_no_default_layout_name_on_the_request_path(module):
    tree = ast.parse((ROOT / module).read_text())
    found = [
        f"{module}:{node.lineno} keypoints.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "keypoints"
        and node.attr in DEFAULT_NAMES
    ]  # fmt: skip
    imported = [
        f"{module}:{node.lineno} from annotator.keypoints import {alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "annotator.keypoints"
        for alias in node.names
        if alias.name in DEFAULT_NAMES
    ]
    assert not found + imported, "use the dataset's layout (Dataset.layout, selectors.task_layout): " + ", ".join(
        found + imported
    )
