"""Streaming reader of H3WB release files (and side files in the same sample layout) into arrays.

A release file is one JSON object of up to ~1.5 GB; it is read sample by sample with ijson's C
backend, so memory holds the parsed arrays (about 5.5 kB per sample with 2D and 3D: five float64 numbers per keypoint),
never the JSON tree (about 19 kB per sample as text, several times that as Python objects). Each field
is filled into fixed-size blocks that are copied into the final array one by one and freed as they go,
so the arrays are not held twice. Reading does not touch the database: it either returns complete
arrays or raises ``H3WBFormatError`` naming the sample and field, before anything is written.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

import ijson
import numpy as np
from tqdm import tqdm

from annotator import h3wb_format, keypoints
from annotator.h3wb_format import H3WBFormatError, ImageRef
from annotator.importers.guarded_json import CHUNK_BYTES, GuardedReader, JsonLimitError

#: Fields a reader can be asked for, beyond the H3WB ones: per-keypoint lists in side files.
LIST_FIELDS: tuple[str, ...] = ("visible", "scores")
#: Samples per block of a column being read (3.2 MB of 3D keypoints: big enough to go back to the system
#: when freed, small enough that one spare block costs little).
BLOCK_SAMPLES = 1024


class _Column:
    """One field of every sample, appended row by row into blocks; ``array()`` joins them without a second copy.

    A sample without the field appends None: only the others are stored (``present``), and the reader refuses
    a field that some samples have and others lack (``first_missing`` says which sample).
    """

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []
        self.used = 0  # rows filled in the last block
        self.count = 0  # rows appended
        self.present = 0
        self.first_missing: int | None = None  # row index of the first None
        self.template: np.ndarray | None = None

    def append(self, value) -> None:
        self.count += 1
        if value is None:
            if self.first_missing is None:
                self.first_missing = self.count - 1
            return
        value = np.asarray(value)
        if self.template is None:
            self.template = value
        if not self.blocks or self.used == BLOCK_SAMPLES:
            self.blocks.append(np.empty((BLOCK_SAMPLES, *self.template.shape), dtype=self.template.dtype))
            self.used = 0
        self.blocks[-1][self.used] = value
        self.used += 1
        self.present += 1

    def array(self) -> np.ndarray:
        """(present, ...) rows in order; the blocks are released as they are copied."""
        assert self.template is not None
        out = np.empty((self.present, *self.template.shape), dtype=self.template.dtype)
        at = 0
        while self.blocks:
            block = self.blocks.pop(0)
            n = min(BLOCK_SAMPLES, self.present - at)
            out[at : at + n] = block[:n]
            at += n
            del block
        return out


@dataclass
class Samples:
    """Arrays of S samples in file order; absent fields are None, absent bboxes are rows of -1."""

    ids: np.ndarray  # (S,) int64
    image_refs: list[ImageRef | None] = field(default_factory=list)
    bbox: np.ndarray | None = None  # (S, 4) int64
    keypoints_2d: np.ndarray | None = None  # (S, J, 2) px
    keypoints_3d: np.ndarray | None = None  # (S, J, 3) mm, camera-rotated world
    visible: np.ndarray | None = None  # (S, J) bool
    scores: np.ndarray | None = None  # (S, J) float

    def __len__(self) -> int:
        return len(self.ids)

    def aligned_to(self, ids: np.ndarray, path: Path) -> Samples:
        """This side file's samples reordered to ``ids``; every id must be present (already in order: itself)."""
        if len(self.ids) == len(ids) and np.array_equal(self.ids, ids):
            return self
        position = {int(i): n for n, i in enumerate(self.ids)}
        missing = [int(i) for i in ids if int(i) not in position]
        if missing:
            raise H3WBFormatError(
                f"{path.name}: sample {missing[0]} is missing ({len(missing)} samples missing in all)"
            )
        order = np.fromiter((position[int(i)] for i in ids), dtype=np.intp, count=len(ids))
        take = lambda a: None if a is None else a[order]  # noqa: E731
        return Samples(
            ids=self.ids[order],
            image_refs=[self.image_refs[i] for i in order] if self.image_refs else [],
            bbox=take(self.bbox),
            keypoints_2d=take(self.keypoints_2d),
            keypoints_3d=take(self.keypoints_3d),
            visible=take(self.visible),
            scores=take(self.scores),
        )


#: The types each per-keypoint list of a side file admits, and its range.
_LIST_SPECS: dict[str, tuple[frozenset, float, float]] = {
    "visible": (frozenset({bool, int}), 0.0, 1.0),
    "scores": (frozenset({int, float}), 0.0, 1.0),
}


def _per_keypoint_list(sample_id: str, sample: dict, name: str, dtype) -> np.ndarray | None:
    values = sample.get(name)
    if values is None:
        return None
    types, lo, hi = _LIST_SPECS[name]
    if not isinstance(values, list) or len(values) != keypoints.NUM_KEYPOINTS:
        raise H3WBFormatError(f"sample {sample_id}: {name} must be a list of {keypoints.NUM_KEYPOINTS} numbers")
    for k, v in enumerate(values):
        if type(v) not in types or not (lo <= v <= hi):
            raise H3WBFormatError(
                f"sample {sample_id}: {name}[{k}] = {h3wb_format._short(v)} is not a "
                f"{'/'.join(sorted(t.__name__ for t in types))} in [{lo:g}, {hi:g}]"
            )
    return np.asarray(values, dtype=np.float64).astype(dtype)


def open_guarded(path: Path, bar: tqdm | None = None) -> GuardedReader:
    """``path`` opened for a streaming parser, with the nesting and size limits of ``guarded_json``."""
    return GuardedReader(path.open("rb"), on_read=None if bar is None else bar.update)


def read_samples(path: str | Path, *, progress: bool = False, description: str | None = None) -> Samples:
    """Read every sample of an H3WB-layout JSON file.

    A field is returned when at least one sample has it, and then every sample must have it (a
    release file is uniform; a sample missing a field its neighbours have is an error).
    """
    path = Path(path)
    if not path.is_file():
        raise H3WBFormatError(f"{path}: no such file")
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip()
    if head and not head.startswith(b"{"):
        raise H3WBFormatError(f"{path.name}: the file must hold one JSON object keyed by sample id ('0', '1', ...)")
    ids: list[int] = []
    refs: list[ImageRef | None] = []
    columns: dict[str, _Column] = {name: _Column() for name in ("bbox", "keypoints_2d", "keypoints_3d", "visible",
                                                                "scores")}  # fmt: skip
    n_refs = 0
    with (
        tqdm(
            total=path.stat().st_size,
            unit="B",
            unit_scale=True,
            desc=description or f"reading {path.name}",
            disable=not progress,
        ) as bar,
        contextlib.closing(open_guarded(path, bar)) as fh,
    ):
        try:
            for sample_id, sample in ijson.kvitems(fh, "", use_float=True, buf_size=CHUNK_BYTES):
                try:
                    ids.append(h3wb_format.parse_sample_id(sample_id))
                except ValueError as exc:
                    raise H3WBFormatError(f"{path.name}: {exc}") from None
                if not isinstance(sample, dict):
                    raise H3WBFormatError(f"{path.name}: sample {sample_id} must be an object")
                ref = h3wb_format.parse_image_ref(sample_id, sample)
                if ref is not None:  # one string object per subject and action, not one per sample
                    ref = ImageRef(sys.intern(ref.subject), sys.intern(ref.action), sys.intern(ref.camera_id),
                                   ref.frame_index)  # fmt: skip
                refs.append(ref)
                n_refs += ref is not None
                row = {
                    "bbox": h3wb_format.parse_bbox(sample_id, sample),
                    "keypoints_2d": h3wb_format.parse_keypoints_2d(sample_id, sample, exact_types=True),
                    "keypoints_3d": h3wb_format.parse_keypoints_3d(sample_id, sample, exact_types=True),
                    "visible": _per_keypoint_list(sample_id, sample, "visible", bool),
                    "scores": _per_keypoint_list(sample_id, sample, "scores", np.float64),
                }
                for name, value in row.items():
                    columns[name].append(value)
        except JsonLimitError as exc:
            where = f" after sample {ids[-1]}" if ids else ""
            raise H3WBFormatError(f"{path.name}: refused{where}: {exc}") from None
        except ijson.JSONError as exc:
            where = f" after sample {ids[-1]}" if ids else ""
            raise H3WBFormatError(f"{path.name}: not valid JSON{where}: {exc}") from None
        except ijson.IncompleteJSONError as exc:  # pragma: no cover - subclass of JSONError in some versions
            raise H3WBFormatError(f"{path.name}: truncated JSON: {exc}") from None
    if not ids:
        raise H3WBFormatError(f"{path.name}: the file holds no samples")
    if len(set(ids)) != len(ids):
        seen: set[int] = set()
        dup = next(i for i in ids if i in seen or seen.add(i))
        raise H3WBFormatError(f"{path.name}: sample {dup} appears twice")

    def column(name: str, dtype) -> np.ndarray | None:
        col = columns[name]
        if col.present == 0:
            return None
        if col.present != len(ids):
            raise H3WBFormatError(f"sample {ids[col.first_missing]}: {name} is missing while other samples have it")
        out = col.array()
        return out if dtype is None else out.astype(dtype, copy=False)

    if 0 < n_refs < len(ids):
        first = ids[refs.index(None)]
        raise H3WBFormatError(f"sample {first}: image_path is missing while other samples have it")
    return Samples(
        ids=np.asarray(ids, dtype=np.int64),
        image_refs=refs if n_refs else [],
        bbox=column("bbox", np.int64),
        keypoints_2d=column("keypoints_2d", None),
        keypoints_3d=column("keypoints_3d", None),
        visible=column("visible", None),
        scores=column("scores", None),
    )
