"""The one definition of keypoint layouts: a frozen ``Layout`` value, its presets, and the default's names.

This package (``layout.py``: the value and its checks; ``presets.py``: the shipped layouts; this
module: the default's names) is the only place that knows a layout. Every other module asks it for
the joint count, names, part index sets, skeleton links, kinematic parents, flip pairs, OKS sigmas,
part colours and alignment anchors; nobody else spells out a count or a part's index range. A
layout is a ``Layout`` value; ``LAYOUTS`` holds the shipped presets, looked up by ``layout_get``:

* ``coco-wholebody-133/v1`` (the default, ``DEFAULT_LAYOUT``): COCO-WholeBody as H3WB uses it
  unchanged, from ``annotator/data/coco_wholebody_layout.json`` (copied from the mmpose /
  COCO-WholeBody / H3WB sources it cites);
* ``coco-17/v1``: the COCO person keypoints with the COCO API's sigmas (``annotator/data/coco17_layout.json``);
* ``h36m-17/v1``: Human3.6M's 17 joints as VideoPose3D keeps them (``annotator/data/h36m17_layout.json``).

The module-level names (``NAMES``, ``PARTS``, ``PARENTS``, ...) are the default layout's, as they
were before layouts became values. A dataset's own layout is ``Dataset.layout``; code that serves any
dataset asks it, and features that exist for one layout only (H3WB files, the face and hand
refiners) call ``require_layout`` so another layout gets a clear refusal. The browser and Python
read the same data (``Layout.to_json``).

Parts come in two granularities:

* ``parts``: anatomical groups that partition the keypoints, each a contiguous index range, and
  drive colours, focus and export fields (COCO-WholeBody: body, feet, face, left_hand, right_hand);
* ``metric_parts``: the groups of benchmark and cross-check tables (COCO-WholeBody as H3WB: all,
  body = body + feet, face, hand = both hands).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from annotator.exceptions import NotApplicableError

# Re-exported: callers write ``keypoints.Layout``, ``keypoints.layout_get("coco-17")``.
from annotator.keypoints.layout import Anchors as Anchors
from annotator.keypoints.layout import Layout as Layout
from annotator.keypoints.layout import LayoutError as LayoutError
from annotator.keypoints.layout import Link as Link
from annotator.keypoints.presets import DEFAULT_LAYOUT as DEFAULT_LAYOUT
from annotator.keypoints.presets import FACE_REGION_SIZES as FACE_REGION_SIZES
from annotator.keypoints.presets import LAYOUTS as LAYOUTS
from annotator.keypoints.presets import layout_get as layout_get

# ---------------------------------------------------------------------------------------------
# The default layout's names, as every module has used them since before layouts were values.

LAYOUT_VERSION = DEFAULT_LAYOUT.version
LAYOUT_NAME = DEFAULT_LAYOUT.title

NAMES: tuple[str, ...] = DEFAULT_LAYOUT.names
NUM_KEYPOINTS: int = DEFAULT_LAYOUT.num_keypoints
index = DEFAULT_LAYOUT.index

# Anatomical parts, in layout order. Each is contiguous, so a slice is exact.
PART_NAMES: tuple[str, ...] = DEFAULT_LAYOUT.part_names
PARTS: Mapping[str, np.ndarray] = DEFAULT_LAYOUT.parts
PART_SLICES: Mapping[str, slice] = DEFAULT_LAYOUT.part_slices
#: Part of every keypoint, as an index into PART_NAMES; shape (NUM_KEYPOINTS,).
PART_OF: np.ndarray = DEFAULT_LAYOUT.part_of

#: Parts a reviewer can focus on or mark as not annotatable in one view.
FOCUS_PARTS: tuple[str, ...] = DEFAULT_LAYOUT.focus_parts
#: Parts whose validity COCO-WholeBody records per image (``*_valid`` and ``*_box``).
VALIDITY_PARTS: tuple[str, ...] = DEFAULT_LAYOUT.validity_parts

# H3WB benchmark / cross-check groups: body includes the feet, hand both hands.
METRIC_PART_NAMES: tuple[str, ...] = tuple(DEFAULT_LAYOUT.metric_parts)
METRIC_PARTS: Mapping[str, np.ndarray] = DEFAULT_LAYOUT.metric_parts

# Roots used for alignment in the H3WB protocol and by PAFUSE.
NOSE = index("nose")
LEFT_HIP = index("left_hip")
RIGHT_HIP = index("right_hip")
PELVIS_JOINTS: tuple[int, int] = (LEFT_HIP, RIGHT_HIP)
LEFT_WRIST = index("left_wrist")
RIGHT_WRIST = index("right_wrist")
LEFT_HAND_ROOT = index("left_hand_root")
RIGHT_HAND_ROOT = index("right_hand_root")
#: face-30, the nose tip of the 68-point face; PAFUSE centres the face on it.
FACE_NOSE_TIP = index("face-30")

#: Skeleton links for drawing (see ``_coco_wholebody``).
LINKS: tuple[Link, ...] = DEFAULT_LAYOUT.links
#: Kinematic parent of every keypoint (-1 for the root, the nose); bones are (parent, child).
PARENTS: np.ndarray = DEFAULT_LAYOUT.parents
#: Index of each keypoint's mirror image under a left/right flip; an involution.
FLIP_INDEX: np.ndarray = DEFAULT_LAYOUT.flip_index
#: Unordered (left, right) pairs swapped by a horizontal flip.
FLIP_PAIRS: tuple[tuple[int, int], ...] = DEFAULT_LAYOUT.flip_pairs
#: COCO-WholeBody OKS sigmas (pycocotools convention: variance (2 sigma)^2).
SIGMAS: np.ndarray = DEFAULT_LAYOUT.sigmas
#: Display colour of every anatomical part (and of the wrist connectors), as CSS hex.
PART_COLORS: Mapping[str, str] = DEFAULT_LAYOUT.part_colors

#: The face's regions as (name, first index, end index) over the whole layout.
FACE_REGIONS: tuple[tuple[str, int, int], ...] = DEFAULT_LAYOUT.regions
#: What the pages call each keypoint: the name with spaces, and the face points by region ("jaw 1", "left eye 4").
LABELS: tuple[str, ...] = DEFAULT_LAYOUT.labels


def bones(subset: str | None = None) -> np.ndarray:
    """The default layout's bones as (parent, child) index pairs, shape (B, 2) (``Layout.bones``).

    ``subset`` restricts them: ``None`` or ``"all"`` gives every bone; a part name gives the bones
    whose child is in that part; ``"limbs"`` gives the body limbs and feet bones (no head, no face);
    ``"hemlets14"`` gives the 14 HEMlets body bones (see ``presets.py``). Another layout's bones are
    ``layout.bones(subset)``, its subsets ``layout.bone_subsets``.
    """
    return DEFAULT_LAYOUT.bones(subset)


#: Children (per side) of the default layout's ``"hemlets14"`` bones (``presets.py`` says why these).
HEMLETS14_CHILDREN: tuple[str, ...] = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "big_toe")
#: The default layout's bone subsets; FBI labelling asks about ``DEFAULT_BONE_SUBSET`` unless told otherwise.
BONE_SUBSETS: tuple[str, ...] = tuple(DEFAULT_LAYOUT.bone_subsets)
DEFAULT_BONE_SUBSET = DEFAULT_LAYOUT.default_bone_subset
#: Every bone subset of any shipped layout (what a stored FBI task or label may name), default layout's first.
ALL_BONE_SUBSETS: tuple[str, ...] = tuple(dict.fromkeys(s for layout in LAYOUTS.values() for s in layout.bone_subsets))


def bone_name(parent: int, child: int, layout: Layout = DEFAULT_LAYOUT) -> str:
    """People's name of a bone: ``"left_elbow -> left_wrist"`` (in ``layout``, default COCO-WholeBody)."""
    return layout.bone_name(parent, child)


def bone_subset_check(layout: Layout, subset: str) -> str:
    """``subset`` if it is one of ``layout``'s bone subsets ("" or None: the layout's default); otherwise a
    ``LayoutError`` naming the layout's subsets."""
    subset = subset or layout.default_bone_subset
    if subset not in layout.bone_subsets:
        raise LayoutError(
            f"unknown bone subset {subset!r} for the {layout.title} layout; use one of {', '.join(layout.bone_subsets)}"
        )
    return subset


def layout_json() -> dict:
    """The default layout as plain JSON data for the browser and for exports (``Layout.json``)."""
    return DEFAULT_LAYOUT.json


def require_layout(layout: Layout, feature: str, needed: Layout = DEFAULT_LAYOUT) -> None:
    """Refuse ``feature`` (people's words: "the face refiner") unless the data's ``layout`` is ``needed``.

    Raises ``NotApplicableError`` naming both layouts, so a COCO-17 dataset asked for an H3WB export
    or a hand refinement is told why instead of failing on an index.
    """
    if layout is not needed:
        raise NotApplicableError(
            f"{feature} applies to the {needed.title} layout ({needed.version}) only; "
            f"this data uses {layout.title} ({layout.version})",
            extra={"layout": layout.version, "needed": needed.version},
        )
