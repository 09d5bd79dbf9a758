"""The shipped keypoint layouts, built from the JSON files under ``annotator/data/`` that cite their sources.

COCO-WholeBody 133 (the default) is built from exactly the data and rules ``annotator.keypoints``
has always used; COCO-17 and Human3.6M-17 are body-only layouts read from their own files. Adding a
preset is one builder call in ``_presets`` plus its data file and tests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np

from annotator.keypoints.layout import Anchors, Layout, LayoutError, Link, _frozen, _intp

_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def _read(filename: str) -> dict:
    return json.loads((_DATA_DIR / filename).read_text())


#: Chart colour of the metric part "all" (every keypoint) in every layout.
_ALL_COLOR = "#2f6fde"


def _sided(names: tuple[str, ...], joints: tuple[str, ...]) -> np.ndarray:
    """Indices of ``left_<joint>`` and ``right_<joint>`` for each of ``joints``: the children of a bone subset."""
    at = {name: i for i, name in enumerate(names)}
    return _intp(sorted(at[f"{side}_{joint}"] for side in ("left", "right") for joint in joints))


# Bone subsets FBI labelling asks about. HEMlets PoSh (Zhou et al.) labels 14 body bones of Human3.6M's
# 17-joint skeleton: redrock303/HEMlets inference/table.py ``h36m_cons_n`` (hips from the root, thighs, shins,
# shoulders and neck from the thorax, head, upper arms, forearms) without its lower torso (root -> spine).
# COCO has no neck, pelvis or spine, so in the COCO trees the same 14 become, per side: upper arm
# (shoulder->elbow), forearm (elbow->wrist), thigh (hip->knee), shin (knee->ankle), torso side
# (shoulder->hip), the head-to-shoulder girdle (nose->shoulder) and, for HEMlets' neck and head, the foot
# (ankle->big toe) in COCO-WholeBody, as this project has always asked, and the head's side (nose->ear) in
# COCO-17, which has no feet. "limbs": arms, legs and feet, no head or face.
_HEMLETS14_WHOLEBODY = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "big_toe")
_HEMLETS14_COCO17 = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "ear")
_HEMLETS14_H36M = ("hip", "knee", "foot", "shoulder", "elbow", "wrist")  # and neck_base, head (no side)


# ---------------------------------------------------------------------------------------------
# COCO-WholeBody 133, the default: exactly the data and rules this module has always used.

#: Regions of the 68-point face (iBUG 300-W order, which COCO-WholeBody's face-0..face-67 follow), as (name,
#: count); left and right are the person's own, like the body's names (face-17..21 is the right brow).
FACE_REGION_SIZES: tuple[tuple[str, int], ...] = (
    ("jaw", 17), ("right brow", 5), ("left brow", 5), ("nose bridge", 4), ("nose base", 5),
    ("right eye", 6), ("left eye", 6), ("outer lip", 12), ("inner lip", 8),
)  # fmt: skip


def _wholebody_parents(names: tuple[str, ...], parts: Mapping[str, np.ndarray]) -> np.ndarray:
    # The kinematic tree of H3WB's data preparation (utils/prepare_data_h3wb.py): body from the nose,
    # feet from the ankles, every face landmark from the nose, fingers chained from the hand roots,
    # which hang off the body wrists.
    at = {name: i for i, name in enumerate(names)}
    parents = np.full(len(names), -1, dtype=np.intp)
    body = {
        "left_eye": "nose", "right_eye": "nose", "left_ear": "nose", "right_ear": "nose",
        "left_shoulder": "nose", "right_shoulder": "nose",
        "left_elbow": "left_shoulder", "right_elbow": "right_shoulder",
        "left_wrist": "left_elbow", "right_wrist": "right_elbow",
        "left_hip": "left_shoulder", "right_hip": "right_shoulder",
        "left_knee": "left_hip", "right_knee": "right_hip",
        "left_ankle": "left_knee", "right_ankle": "right_knee",
    }  # fmt: skip
    for child, parent in body.items():
        parents[at[child]] = at[parent]
    for side in ("left", "right"):
        for foot in ("big_toe", "small_toe", "heel"):
            parents[at[f"{side}_{foot}"]] = at[f"{side}_ankle"]
        root = at[f"{side}_hand_root"]
        parents[root] = at[f"{side}_wrist"]
        for finger in range(5):
            first = root + 1 + 4 * finger
            parents[first] = root
            parents[first + 1 : first + 4] = np.arange(first, first + 3)
    parents[parts["face"]] = at["nose"]
    return parents


def _coco_wholebody() -> Layout:
    raw = _read("coco_wholebody_layout.json")
    names = tuple(raw["keypoints"])
    if len(names) != raw["num_keypoints"]:
        raise LayoutError(f"coco_wholebody_layout.json is inconsistent: {len(names)} names")
    part_names = ("body", "feet", "face", "left_hand", "right_hand")
    parts = {p: _intp(raw["parts"][p]) for p in part_names}
    at = {name: i for i, name in enumerate(names)}
    face = parts["face"]
    # Skeleton links for drawing: mmpose's body, feet and hand links, H3WB's face contour links, and
    # H3WB's wrist-to-hand-root connectors (part ``connector``).
    links = tuple(
        Link(int(lk["pair"][0]), int(lk["pair"][1]), lk["part"] if lk["part"] in parts else "connector")
        for lk in raw["skeleton_links"]
    ) + tuple(
        Link(int(a), int(b), "face")
        for a, b in raw["skeleton_h3wb_draw_skeleton"]["head (color red)"]
        if a in face and b in face
    )
    regions, start = [], int(face[0])
    for region, n in FACE_REGION_SIZES:
        regions.append((region, start, start + n))
        start += n
    if start != int(face[-1]) + 1:
        raise LayoutError("FACE_REGION_SIZES does not cover the face exactly")
    return Layout(
        name="coco-wholebody-133",
        version="coco-wholebody-133/v1",
        title="COCO-WholeBody",
        names=names,
        part_names=part_names,
        parts=MappingProxyType(parts),
        # H3WB benchmark / cross-check groups: body includes the feet, hand both hands.
        metric_parts=MappingProxyType(
            {
                "all": _intp(np.arange(len(names))),
                "body": _intp(np.concatenate([parts["body"], parts["feet"]])),
                "face": parts["face"],
                "hand": _intp(np.concatenate([parts["left_hand"], parts["right_hand"]])),
            }
        ),  # fmt: skip
        focus_parts=("body", "face", "left_hand", "right_hand"),
        validity_parts=("face", "left_hand", "right_hand"),
        links=links,
        parents=_intp(_wholebody_parents(names, parts)),
        flip_index=_intp(raw["flip_index"]),
        sigmas=_frozen(raw["sigmas"], np.float64),
        part_colors=MappingProxyType(
            {
                "body": "#3399ff",
                "feet": "#ff8000",
                "face": "#f72205",
                "left_hand": "#00e060",
                "right_hand": "#ff33cc",
                "connector": "#c0c0c0",
            }
        ),  # fmt: skip
        # Roots used for alignment in the H3WB protocol and by PAFUSE.
        anchors=Anchors(
            pelvis=(at["left_hip"], at["right_hip"]),
            nose=at["nose"],
            left_wrist=at["left_wrist"],
            right_wrist=at["right_wrist"],
            left_hand_root=at["left_hand_root"],
            right_hand_root=at["right_hand_root"],
            face_nose_tip=at["face-30"],
        ),
        regions=tuple(regions),
        source=raw["_about"],
        metric_colors={"all": _ALL_COLOR, "hand": "#00b050"},
        named_bones={
            "hemlets14": _sided(names, _HEMLETS14_WHOLEBODY),
            "limbs": _sided(names, ("elbow", "wrist", "hip", "knee", "ankle", "big_toe", "small_toe", "heel")),
        },
        default_bone_subset="hemlets14",
    )


# ---------------------------------------------------------------------------------------------
# Body-only presets: one part, every keypoint; the tree, flips and sigmas come from their data file.

#: The body colour of COCO-WholeBody, so a body looks the same in every layout.
_BODY_COLOR = "#3399ff"


def _body_only(
    filename: str,
    *,
    name: str,
    title: str,
    anchors: dict[str, str | tuple[str, ...]],
    named_bones: dict[str, tuple[str, ...]],
) -> Layout:
    raw = _read(filename)
    names = tuple(raw["keypoints"])
    at = {n: i for i, n in enumerate(names)}
    every = _intp(np.arange(len(names)))
    flip = np.arange(len(names))
    pairs = raw["flip_pairs"] if "flip_pairs" in raw else zip(raw["joints_left"], raw["joints_right"], strict=True)
    for a, b in pairs:
        flip[a], flip[b] = b, a
    parents = _intp(raw["parents"])
    if "skeleton_1based" in raw:
        pairs_drawn = [(a - 1, b - 1) for a, b in raw["skeleton_1based"]]
    else:  # draw the tree's bones
        pairs_drawn = [(int(parents[j]), j) for j in range(len(names)) if parents[j] >= 0]
    return Layout(
        name=name,
        version=f"{name}/v1",
        title=title,
        names=names,
        part_names=("body",),
        parts=MappingProxyType({"body": every}),
        metric_parts=MappingProxyType({"all": every, "body": every}),
        focus_parts=("body",),
        validity_parts=(),
        links=tuple(Link(int(a), int(b), "body") for a, b in pairs_drawn),
        parents=parents,
        flip_index=_intp(flip),
        sigmas=_frozen(raw["sigmas"], np.float64),
        part_colors=MappingProxyType({"body": _BODY_COLOR}),
        anchors=Anchors(
            **{
                key: tuple(at[v] for v in value) if isinstance(value, tuple) else at[value]
                for key, value in anchors.items()
            }
        ),  # fmt: skip
        source=raw["_about"],
        metric_colors={"all": _ALL_COLOR},
        named_bones={subset: _intp(sorted(at[n] for n in joints)) for subset, joints in named_bones.items()},
        default_bone_subset="hemlets14" if "hemlets14" in named_bones else "all",
    )


def _both_sides(*joints: str) -> tuple[str, ...]:
    return tuple(f"{side}_{joint}" for side in ("left", "right") for joint in joints)


def _presets() -> dict[str, Layout]:
    layouts = (
        _coco_wholebody(),
        _body_only(
            "coco17_layout.json", name="coco-17", title="COCO-17",
            anchors={"pelvis": ("left_hip", "right_hip"), "nose": "nose",
                     "left_wrist": "left_wrist", "right_wrist": "right_wrist"},
            named_bones={"hemlets14": _both_sides(*_HEMLETS14_COCO17),
                         "limbs": _both_sides("elbow", "wrist", "hip", "knee", "ankle")},
        ),
        # Human3.6M has no nose ("neck_base" is its neck/nose joint) and no hands: those anchors are absent.
        _body_only(
            "h36m17_layout.json", name="h36m-17", title="Human3.6M-17",
            anchors={"pelvis": ("root",), "left_wrist": "left_wrist", "right_wrist": "right_wrist"},
            named_bones={"hemlets14": (*_both_sides(*_HEMLETS14_H36M), "neck_base", "head"),
                         "limbs": _both_sides("knee", "foot", "elbow", "wrist")},
        ),
    )  # fmt: skip
    return {layout.version: layout for layout in layouts}


#: The shipped layouts by version id (``name/vN``); a version is bumped whenever names, order or
#: part membership change, and checkpoints, datasets and exports record it.
LAYOUTS: Mapping[str, Layout] = MappingProxyType(_presets())
DEFAULT_LAYOUT: Layout = LAYOUTS["coco-wholebody-133/v1"]


def layout_get(name: str) -> Layout:
    """The layout with version id ``name`` (``"coco-17/v1"``) or bare name (``"coco-17"``).

    An unknown name raises ``LayoutError`` listing the known ones.
    """
    if name in LAYOUTS:
        return LAYOUTS[name]
    for layout in LAYOUTS.values():
        if layout.name == name:
            return layout
    raise LayoutError(f"unknown keypoint layout {name!r}; known: {', '.join(LAYOUTS)}")
