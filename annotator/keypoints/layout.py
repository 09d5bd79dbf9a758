"""The keypoint layout as a value: ``Layout`` (with ``Link`` and ``Anchors``), checked when it is made.

A layout is data, not code: one frozen object carries the names, parts, tree, flips, sigmas, colours
and alignment anchors of one keypoint convention, so a dataset, a metric or the browser can be handed
the layout it needs. The presets live in ``presets.py``; ``annotator.keypoints`` re-exports all of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

import numpy as np


class LayoutError(ValueError):
    """A layout is malformed, or a layout name is unknown."""


@dataclass(frozen=True)
class Link:
    """A drawn connection between two keypoints."""

    a: int
    b: int
    part: str


@dataclass(frozen=True)
class Anchors:
    """The keypoints alignment metrics centre on; ``None`` where a layout has no such point.

    ``pelvis`` lists the joints whose mean is the pelvis (COCO layouts: the two hips, as H3WB
    computes it; Human3.6M: its root joint). A metric that needs an absent anchor (the face on the
    nose, a hand on its root) does not apply to that layout.
    """

    pelvis: tuple[int, ...]
    nose: int | None = None
    left_wrist: int | None = None
    right_wrist: int | None = None
    left_hand_root: int | None = None
    right_hand_root: int | None = None
    #: The nose tip of the 68-point face (COCO-WholeBody face-30); PAFUSE centres the face on it.
    face_nose_tip: int | None = None


def _frozen(values, dtype) -> np.ndarray:
    # Layouts are shared by every request and job: their arrays must not be writable.
    array = np.array(values, dtype=dtype)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Layout:
    """A keypoint layout: names, parts, tree, flips, sigmas, colours and anchors, checked on creation.

    Index arrays are read-only ``np.intp``; ``parents[j]`` is ``j``'s kinematic parent (-1 for the
    root), ``flip_index[j]`` its mirror image under a left/right flip, ``sigmas[j]`` its COCO-style
    OKS sigma (variance ``(2 sigma)^2``). Layouts compare by identity: each preset exists once.
    """

    name: str
    version: str
    title: str
    names: tuple[str, ...]
    part_names: tuple[str, ...]
    parts: Mapping[str, np.ndarray]
    metric_parts: Mapping[str, np.ndarray]
    focus_parts: tuple[str, ...]
    validity_parts: tuple[str, ...]
    links: tuple[Link, ...]
    parents: np.ndarray
    flip_index: np.ndarray
    sigmas: np.ndarray
    part_colors: Mapping[str, str]
    anchors: Anchors
    #: Named sub-ranges of a part that labels count within, as (name, first index, end index).
    regions: tuple[tuple[str, int, int], ...] = ()
    source: str = ""
    #: Named bone subsets beyond "all" and the parts, as the children of their bones (each bone is
    #: (parents[child], child)): COCO-WholeBody's "hemlets14" and "limbs", for example.
    named_bones: Mapping[str, np.ndarray] = field(default_factory=dict)
    #: The subset FBI labelling asks about unless told otherwise (a key of ``bone_subsets``).
    default_bone_subset: str = "all"
    #: Chart colour of each metric part that is not an anatomical part of the same name (COCO-WholeBody's "all"
    #: and "hand"); the others take their part's colour (``metric_part_colors``).
    metric_colors: Mapping[str, str] = field(default_factory=dict)
    _index: Mapping[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Whatever the caller passed (lists, dicts, writable arrays), the value holds read-only copies.
        frozen = {
            "names": tuple(self.names),
            "parts": MappingProxyType({p: _intp(ix) for p, ix in self.parts.items()}),
            "metric_parts": MappingProxyType({p: _intp(ix) for p, ix in self.metric_parts.items()}),
            "parents": _intp(self.parents),
            "flip_index": _intp(self.flip_index),
            "sigmas": _frozen(self.sigmas, np.float64),
            "part_colors": MappingProxyType(dict(self.part_colors)),
            "metric_colors": MappingProxyType(dict(self.metric_colors)),
            "named_bones": MappingProxyType({n: _intp(sorted(ix)) for n, ix in self.named_bones.items()}),
            "_index": MappingProxyType({n: i for i, n in enumerate(self.names)}),
        }
        for name, value in frozen.items():
            object.__setattr__(self, name, value)
        _validate(self)

    @property
    def num_keypoints(self) -> int:
        return len(self.names)

    @cached_property
    def part_slices(self) -> Mapping[str, slice]:
        """Each part as the slice it covers (parts are contiguous, checked on creation)."""
        return MappingProxyType({p: slice(int(ix[0]), int(ix[-1]) + 1) for p, ix in self.parts.items()})

    @cached_property
    def part_of(self) -> np.ndarray:
        """Part of every keypoint, as an index into ``part_names``; shape (K,)."""
        out = np.empty(self.num_keypoints, dtype=np.intp)
        for i, p in enumerate(self.part_names):
            out[self.parts[p]] = i
        return _intp(out)

    @cached_property
    def flip_pairs(self) -> tuple[tuple[int, int], ...]:
        """Unordered (a, b) pairs, a < b, swapped by a horizontal flip."""
        return tuple((i, int(j)) for i, j in enumerate(self.flip_index) if i < j)

    @cached_property
    def labels(self) -> tuple[str, ...]:
        """What the pages call each keypoint: the name with spaces, region points by region ("jaw 1")."""
        labels = [name.replace("_", " ") for name in self.names]
        for region, start, stop in self.regions:
            for i in range(start, stop):
                labels[i] = f"{region} {i - start + 1}"
        return tuple(labels)

    @cached_property
    def metric_part_colors(self) -> Mapping[str, str]:
        """Chart colour of every metric part: its own (``metric_colors``), else the part of the same name's."""
        return MappingProxyType({p: self.metric_colors.get(p) or self.part_colors[p] for p in self.metric_parts})

    @cached_property
    def metric_part_of(self) -> Mapping[str, str]:
        """Anatomical part -> the smallest metric part holding all of it (COCO-WholeBody: feet -> body,
        left_hand -> hand), which colours a part's keypoints in the metric charts."""
        out = {}
        for p, ix in self.parts.items():
            holding = [m for m, mix in self.metric_parts.items() if np.isin(ix, mix).all()]
            out[p] = min(holding, key=lambda m: (len(self.metric_parts[m]), m == "all"))  # a tie: not "all"
        return MappingProxyType(out)

    def metric_json(self) -> dict:
        """What a metric report's charts need of the layout: version, title, the metric parts in order with their
        label and colour, and the metric part of every anatomical part."""
        return {
            "version": self.version,
            "name": self.title,
            "metric_parts": [
                {"name": p, "label": p.replace("_", " ").capitalize(), "color": self.metric_part_colors[p]}
                for p in self.metric_parts
            ],
            "part_metric": dict(self.metric_part_of),
        }

    def index(self, name: str) -> int:
        """Index of the keypoint called ``name`` (``KeyError`` names the unknown keypoint)."""
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(f"unknown keypoint name {name!r} in layout {self.version}") from None

    @cached_property
    def bone_subsets(self) -> Mapping[str, np.ndarray]:
        """Every bone subset by name, each (B, 2) read-only (parent, child) pairs in child order: the named ones
        (``named_bones``), ``"all"``, then one per part (the bones whose child is in that part)."""
        children = np.flatnonzero(self.parents >= 0)
        chosen = {name: ix for name, ix in self.named_bones.items()}
        chosen["all"] = children
        chosen.update({p: children[np.isin(children, self.parts[p])] for p in self.part_names})
        return MappingProxyType({name: _intp(np.stack([self.parents[ix], ix], axis=1).reshape(-1, 2))
                                 for name, ix in chosen.items()})  # fmt: skip

    def bones(self, subset: str | None = None) -> np.ndarray:
        """Bones as (parent, child) index pairs, shape (B, 2): ``subset`` (a key of ``bone_subsets``; None: all)."""
        subsets = self.bone_subsets
        if subset is None:
            subset = "all"
        if subset not in subsets:
            raise ValueError(f"unknown bone subset {subset!r} of {self.title}; use one of {tuple(subsets)}")
        return subsets[subset]

    def bone_name(self, parent: int, child: int) -> str:
        """People's name of a bone: ``"left_elbow -> left_wrist"``."""
        return f"{self.names[parent]} -> {self.names[child]}"

    @cached_property
    def json(self) -> dict:
        """``to_json()``, computed once per layout: every editor payload sends it (callers copy, never change it)."""
        return self.to_json()

    def to_json(self) -> dict:
        """The layout as plain JSON data for the browser and for exports."""
        return {
            "version": self.version,
            "name": self.title,
            "num_keypoints": self.num_keypoints,
            "names": list(self.names),
            "labels": list(self.labels),
            "regions": [list(r) for r in self.regions],
            "parts": {p: [s.start, s.stop] for p, s in self.part_slices.items()},
            "part_of": [self.part_names[i] for i in self.part_of],
            "focus_parts": list(self.focus_parts),
            "validity_parts": list(self.validity_parts),
            "links": [[lk.a, lk.b, lk.part] for lk in self.links],
            "parents": self.parents.tolist(),
            "flip_index": self.flip_index.tolist(),
            "colors": dict(self.part_colors),
        }


def _validate(layout: Layout) -> None:
    """Raise ``LayoutError`` unless ``layout`` is self-consistent (see the checks' messages)."""

    def fail(message: str) -> None:
        raise LayoutError(f"layout {layout.version}: {message}")

    k = layout.num_keypoints
    if k == 0 or len(set(layout.names)) != k:
        fail("keypoint names must be non-empty and unique")
    if tuple(layout.parts) != layout.part_names:
        fail(f"parts {list(layout.parts)} differ from part_names {list(layout.part_names)}")
    covered = np.sort(np.concatenate([np.asarray(ix) for ix in layout.parts.values()]))
    if not np.array_equal(covered, np.arange(k)):
        fail("parts must cover every keypoint exactly once")
    for p, ix in layout.parts.items():
        if not np.array_equal(ix, np.arange(ix[0], ix[0] + len(ix))):
            fail(f"part {p} is not a contiguous index range")
    for group, names in (("focus", layout.focus_parts), ("validity", layout.validity_parts)):
        if unknown := set(names) - set(layout.parts):
            fail(f"{group} parts {sorted(unknown)} are not parts")
    for p, ix in layout.metric_parts.items():
        if len(ix) == 0 or ix.min() < 0 or ix.max() >= k:
            fail(f"metric part {p} indexes outside the layout")
    for array, what in ((layout.parents, "parents"), (layout.flip_index, "flip_index"), (layout.sigmas, "sigmas")):
        if array.shape != (k,):
            fail(f"{what} has shape {array.shape}, not ({k},)")
    roots = np.flatnonzero(layout.parents < 0)
    if len(roots) != 1 or layout.parents.max() >= k:
        fail(f"parents must form one tree with one root; roots: {roots.tolist()}")
    for j in range(k):
        seen, node = set(), j
        while node >= 0:
            if node in seen:
                fail(f"parents have a cycle through {layout.names[node]}")
            seen.add(node)
            node = int(layout.parents[node])
    flip = layout.flip_index
    if flip.min() < 0 or flip.max() >= k or not np.array_equal(flip[flip], np.arange(k)):
        fail("flip_index must be an involution over the keypoints")
    if not (np.all(np.isfinite(layout.sigmas)) and np.all(layout.sigmas > 0)):
        fail("OKS sigmas must be finite and positive")
    for lk in layout.links:
        if not (0 <= lk.a < k and 0 <= lk.b < k) or lk.part not in layout.part_colors:
            fail(f"link {lk} leaves the layout or has no colour")
    if missing := set(layout.part_names) - set(layout.part_colors):
        fail(f"parts {sorted(missing)} have no colour")
    if uncoloured := set(layout.metric_parts) - set(layout.metric_colors) - set(layout.part_colors):
        fail(f"metric parts {sorted(uncoloured)} have no colour")
    for p, ix in layout.parts.items():
        if not any(np.isin(ix, mix).all() for mix in layout.metric_parts.values()):
            fail(f"part {p} lies in no metric part")
    anchors = [v for v in vars(layout.anchors).values() if isinstance(v, int)]
    if not layout.anchors.pelvis or not all(0 <= a < k for a in [*anchors, *layout.anchors.pelvis]):
        fail(f"anchors {layout.anchors} index outside the layout")
    for _, start, stop in layout.regions:
        if not 0 <= start < stop <= k:
            fail(f"region [{start}, {stop}) leaves the layout")
    for name, children in layout.named_bones.items():
        if name == "all" or name in layout.parts:
            fail(f"bone subset {name!r} has the name of a part or of all bones")
        if (
            len(children) == 0
            or children.min() < 0
            or children.max() >= k
            or len(set(children.tolist())) != len(children)
        ):
            fail(f"bone subset {name!r} must name distinct keypoints of the layout")
        if (layout.parents[children] < 0).any():
            fail(f"bone subset {name!r} names the root, which has no bone to its parent")
    if layout.default_bone_subset not in ("all", *layout.parts, *layout.named_bones):
        fail(f"default bone subset {layout.default_bone_subset!r} is not a bone subset")


def _intp(values) -> np.ndarray:
    return _frozen(values, np.intp)
