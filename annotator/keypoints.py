"""The one definition of the keypoint layout (COCO-WholeBody, as used unchanged by H3WB).

Every other module asks this one for the joint count, names, part index sets, skeleton links,
kinematic parents, flip pairs, OKS sigmas and part colours; nobody else spells out the count or a
part's index range. The data come from ``annotator/data/coco_wholebody_layout.json`` (copied from
the mmpose / COCO-WholeBody / H3WB sources it cites), so the browser and Python read one file.

Parts come in two granularities:

* ``PARTS``: the five anatomical groups of COCO-WholeBody (body, feet, face, left_hand,
  right_hand), which partition the keypoints and drive colours, focus and export fields;
* ``METRIC_PARTS``: the groups of the H3WB benchmark and cross-check tables (all, body = body +
  feet, face, hand = both hands).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

_DATA_FILE = Path(__file__).resolve().parent / "data" / "coco_wholebody_layout.json"
_RAW = json.loads(_DATA_FILE.read_text())

#: Bumped whenever names, order or part membership change; checkpoints and exports record it.
LAYOUT_VERSION = "coco-wholebody-133/v1"
LAYOUT_NAME = "COCO-WholeBody"

NAMES: tuple[str, ...] = tuple(_RAW["keypoints"])
NUM_KEYPOINTS: int = len(NAMES)
if NUM_KEYPOINTS != _RAW["num_keypoints"]:
    raise ImportError(f"{_DATA_FILE} is inconsistent: {NUM_KEYPOINTS} names")

_INDEX = {name: i for i, name in enumerate(NAMES)}


def index(name: str) -> int:
    """Index of the keypoint called ``name`` (``KeyError`` names the unknown keypoint)."""
    try:
        return _INDEX[name]
    except KeyError:
        raise KeyError(f"unknown keypoint name {name!r}") from None


# Anatomical parts, in layout order. Each is contiguous, so a slice is exact.
PART_NAMES: tuple[str, ...] = ("body", "feet", "face", "left_hand", "right_hand")
PARTS: dict[str, np.ndarray] = {p: np.asarray(_RAW["parts"][p], dtype=np.intp) for p in PART_NAMES}
PART_SLICES: dict[str, slice] = {p: slice(int(ix[0]), int(ix[-1]) + 1) for p, ix in PARTS.items()}
for _p, _ix in PARTS.items():
    if not np.array_equal(_ix, np.arange(PART_SLICES[_p].start, PART_SLICES[_p].stop)):
        raise ImportError(f"part {_p} is not contiguous in {_DATA_FILE}")

#: Part of every keypoint, as an index into PART_NAMES; shape (NUM_KEYPOINTS,).
PART_OF: np.ndarray = np.empty(NUM_KEYPOINTS, dtype=np.intp)
for _i, _p in enumerate(PART_NAMES):
    PART_OF[PARTS[_p]] = _i

#: Parts a reviewer can focus on or mark as not annotatable in one view.
FOCUS_PARTS: tuple[str, ...] = ("body", "face", "left_hand", "right_hand")
#: Parts whose validity COCO-WholeBody records per image (``*_valid`` and ``*_box``).
VALIDITY_PARTS: tuple[str, ...] = ("face", "left_hand", "right_hand")

# H3WB benchmark / cross-check groups: body includes the feet, hand both hands.
METRIC_PART_NAMES: tuple[str, ...] = ("all", "body", "face", "hand")
METRIC_PARTS: dict[str, np.ndarray] = {
    "all": np.arange(NUM_KEYPOINTS, dtype=np.intp),
    "body": np.concatenate([PARTS["body"], PARTS["feet"]]),
    "face": PARTS["face"],
    "hand": np.concatenate([PARTS["left_hand"], PARTS["right_hand"]]),
}

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


@dataclass(frozen=True)
class Link:
    """A drawn connection between two keypoints."""

    a: int
    b: int
    part: str


#: Skeleton links for drawing: mmpose's body, feet and hand links, H3WB's face contour links, and
#: H3WB's wrist-to-hand-root connectors (part ``connector``).
LINKS: tuple[Link, ...] = tuple(
    Link(int(lk["pair"][0]), int(lk["pair"][1]), lk["part"] if lk["part"] in PARTS else "connector")
    for lk in _RAW["skeleton_links"]
) + tuple(
    Link(int(a), int(b), "face")
    for a, b in _RAW["skeleton_h3wb_draw_skeleton"]["head (color red)"]
    if PART_OF[a] == PART_OF[b] == PART_NAMES.index("face")
)


def _parents() -> np.ndarray:
    # The kinematic tree of H3WB's data preparation (utils/prepare_data_h3wb.py): body from the nose,
    # feet from the ankles, every face landmark from the nose, fingers chained from the hand roots,
    # which hang off the body wrists.
    parents = np.full(NUM_KEYPOINTS, -1, dtype=np.intp)
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
        parents[index(child)] = index(parent)
    for side in ("left", "right"):
        for foot in ("big_toe", "small_toe", "heel"):
            parents[index(f"{side}_{foot}")] = index(f"{side}_ankle")
        root = index(f"{side}_hand_root")
        parents[root] = index(f"{side}_wrist")
        for finger in range(5):
            first = root + 1 + 4 * finger
            parents[first] = root
            parents[first + 1 : first + 4] = np.arange(first, first + 3)
    parents[PARTS["face"]] = NOSE
    return parents


#: Kinematic parent of every keypoint (-1 for the root, the nose); bones are (parent, child).
PARENTS: np.ndarray = _parents()

#: Index of each keypoint's mirror image under a left/right flip; an involution.
FLIP_INDEX: np.ndarray = np.asarray(_RAW["flip_index"], dtype=np.intp)
#: Unordered (left, right) pairs swapped by a horizontal flip.
FLIP_PAIRS: tuple[tuple[int, int], ...] = tuple((int(a), int(b)) for a, b in _RAW["flip_pairs"])

#: COCO-WholeBody OKS sigmas (pycocotools convention: variance (2 sigma)^2).
SIGMAS: np.ndarray = np.asarray(_RAW["sigmas"], dtype=np.float64)

#: Display colour of every anatomical part (and of the wrist connectors), as CSS hex.
PART_COLORS: dict[str, str] = {
    "body": "#3399ff",
    "feet": "#ff8000",
    "face": "#f72205",
    "left_hand": "#00e060",
    "right_hand": "#ff33cc",
    "connector": "#c0c0c0",
}


#: Regions of the 68-point face (iBUG 300-W order, which COCO-WholeBody's face-0..face-67 follow), as (name,
#: count); left and right are the person's own, like the body's names (face-17..21 is the right brow).
FACE_REGION_SIZES: tuple[tuple[str, int], ...] = (
    ("jaw", 17), ("right brow", 5), ("left brow", 5), ("nose bridge", 4), ("nose base", 5),
    ("right eye", 6), ("left eye", 6), ("outer lip", 12), ("inner lip", 8),
)  # fmt: skip


def _face_regions() -> tuple[tuple[str, int, int], ...]:
    start = PART_SLICES["face"].start
    out = []
    for name, n in FACE_REGION_SIZES:
        out.append((name, start, start + n))
        start += n
    if start != PART_SLICES["face"].stop:
        raise ImportError("FACE_REGION_SIZES does not cover the face exactly")
    return tuple(out)


#: The face's regions as (name, first index, end index) over the whole layout.
FACE_REGIONS: tuple[tuple[str, int, int], ...] = _face_regions()


def _labels() -> tuple[str, ...]:
    # People read "left wrist" and "right eye 3"; the names (exports, APIs) stay the layout's own.
    labels = [name.replace("_", " ") for name in NAMES]
    for region, start, stop in FACE_REGIONS:
        for i in range(start, stop):
            labels[i] = f"{region} {i - start + 1}"
    return tuple(labels)


#: What the pages call each keypoint: the name with spaces, and the face points by region ("jaw 1", "left eye 4").
LABELS: tuple[str, ...] = _labels()


def bones(subset: str | None = None) -> np.ndarray:
    """Bones as (parent, child) index pairs, shape (B, 2), from ``PARENTS``.

    ``subset`` restricts them: ``None`` or ``"all"`` gives every bone; a part name gives the bones
    whose child is in that part; ``"limbs"`` gives the body limbs and feet bones (no head, no face);
    ``"hemlets14"`` gives the 14 body bones of ``HEMLETS14_CHILDREN`` (see there).
    """
    children = np.flatnonzero(PARENTS >= 0)
    if subset in (None, "all"):
        chosen = children
    elif subset in PARTS:
        chosen = children[np.isin(children, PARTS[subset])]
    elif subset == "limbs":
        limb_children = [
            index(f"{side}_{j}")
            for side in ("left", "right")
            for j in ("elbow", "wrist", "hip", "knee", "ankle", "big_toe", "small_toe", "heel")
        ]
        chosen = np.asarray(sorted(limb_children), dtype=np.intp)
    elif subset == "hemlets14":
        chosen = np.asarray(sorted(index(f"{side}_{j}") for side in ("left", "right") for j in HEMLETS14_CHILDREN))
    else:
        raise ValueError(f"unknown bone subset {subset!r}; use one of {BONE_SUBSETS}")
    return np.stack([PARENTS[chosen], chosen], axis=1)


#: Children (per side) of the ``"hemlets14"`` bones. HEMlets PoSh labels 14 body bones of the Human3.6M
#: skeleton (upper arms, forearms, thighs, shins, the shoulder and hip girdles and the head/spine); COCO
#: has no neck, pelvis or spine, so in its tree (``PARENTS``) the same 14 become: upper arm
#: (shoulder->elbow), forearm (elbow->wrist), thigh (hip->knee), shin (knee->ankle), torso side
#: (shoulder->hip), the head-to-shoulder girdle (nose->shoulder) and the foot (ankle->big toe), per side.
HEMLETS14_CHILDREN: tuple[str, ...] = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "big_toe")
#: The bone subsets ``bones`` accepts; FBI labelling asks about ``"hemlets14"`` unless told otherwise.
BONE_SUBSETS: tuple[str, ...] = ("hemlets14", "limbs", "all", *PART_NAMES)
DEFAULT_BONE_SUBSET = "hemlets14"


def bone_name(parent: int, child: int) -> str:
    """People's name of a bone: ``"left_elbow -> left_wrist"``."""
    return f"{NAMES[parent]} -> {NAMES[child]}"


@cache
def layout_json() -> dict:
    """The layout as plain JSON data for the browser and for exports."""
    return {
        "version": LAYOUT_VERSION,
        "name": LAYOUT_NAME,
        "num_keypoints": NUM_KEYPOINTS,
        "names": list(NAMES),
        "labels": list(LABELS),
        "regions": [list(r) for r in FACE_REGIONS],
        "parts": {p: [PART_SLICES[p].start, PART_SLICES[p].stop] for p in PART_NAMES},
        "part_of": [PART_NAMES[i] for i in PART_OF],
        "focus_parts": list(FOCUS_PARTS),
        "validity_parts": list(VALIDITY_PARTS),
        "links": [[lk.a, lk.b, lk.part] for lk in LINKS],
        "parents": PARENTS.tolist(),
        "flip_index": FLIP_INDEX.tolist(),
        "colors": PART_COLORS,
    }
