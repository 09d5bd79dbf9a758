"""Reading any H3WB release file (JSON or npz) into ``Samples`` and saying which kind it was.

``read_annotations`` is what ``import_h3wb --annotations`` reads: it recognises the kind by content
(``kinds``), turns npz layouts into the JSON layout's arrays (``h3wb_npz``), and gives samples
without image paths (``2Dto3D_*.json``) back their subject and camera from their own 2D and 3D
(``conventions.identify_cameras``), grouping ids ``4k..4k+3`` as the four views of one instant, as
the authors state (wholebody3d issues #5, #9). Nothing here touches the database.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from annotator.h3wb_format import H3WBFormatError, ImageRef
from annotator.importers import conventions
from annotator.importers.h3wb import Samples, read_samples
from annotator.importers.h3wb_npz import read_npz_samples
from annotator.importers.kinds import ID_BLOCK, KINDS, FileKind, UnknownKindError, detect_json

#: The action of frames rebuilt from samples without image paths: H3WB gives them no action or frame.
GROUP_ACTION = "H3WB sample groups"


@dataclass
class Annotations:
    """An annotations file read: its samples, its kind, whether the samples have images, and notes to report."""

    samples: Samples
    kind: FileKind
    images: bool
    notes: list[str] = field(default_factory=list)


def is_npz(path: Path) -> bool:
    """Whether ``path`` is a zip (npz) file, by its first bytes."""
    return zipfile.is_zipfile(path)


def read_annotations(path: str | Path, *, progress: bool = False) -> Annotations:
    """Read ``path`` (any kind of ``kinds.KINDS``); H3WBFormatError names the sample and field, or the kind."""
    path = Path(path)
    if not path.is_file():
        raise H3WBFormatError(f"{path}: no such file")
    if is_npz(path):
        return _from_npz(path)
    samples = read_samples(path, progress=progress, description=f"reading {path.name}")
    subjects = {r.subject for r in samples.image_refs} if samples.image_refs else None
    try:
        kind = detect_json(
            ids=samples.ids,
            subjects=subjects,
            has_image=bool(samples.image_refs),
            has_2d=samples.keypoints_2d is not None,
            has_3d=samples.keypoints_3d is not None,
        )
    except UnknownKindError as exc:
        raise H3WBFormatError(f"{path.name} is not an H3WB file this tool knows: {exc}") from None
    out = Annotations(samples, kind, images=bool(samples.image_refs))
    if not out.images and kind.role == "dataset":
        _place_without_images(out, path)
    return out


def _from_npz(path: Path) -> Annotations:
    npz = read_npz_samples(path)
    kind = KINDS["npz-train" if npz.member == "train_data" else "npz-test"]
    if npz.keypoints_3d is None:
        raise H3WBFormatError(f"{path.name}: its samples have no camera_3d or global_3d: nothing to build frames from")
    samples = Samples(ids=npz.ids, image_refs=list(npz.image_refs), bbox=npz.bbox, keypoints_2d=npz.keypoints_2d,
                      keypoints_3d=npz.keypoints_3d)  # fmt: skip
    notes = [f"camera_3d follows {npz.camera_3d_convention} (largest disagreement "
             f"{npz.camera_3d_disagreement_mm:.4f} mm)"] if npz.camera_3d_convention else []  # fmt: skip
    notes.extend(npz.notes)
    if not npz.has_sample_ids:
        notes.append("the file has no per-frame sample_id: samples are numbered in file order")
    return Annotations(samples, kind, images=True, notes=notes)


def _place_without_images(annotations: Annotations, path: Path) -> None:
    """Give samples without image_path a subject and camera (from their 2D and 3D) and a frame (id // 4)."""
    s = annotations.samples
    if s.keypoints_2d is None or s.keypoints_3d is None:
        raise H3WBFormatError(f"{path.name}: samples without image_path need keypoints_2d and keypoints_3d")
    subjects, cameras, residual = conventions.identify_cameras(s.keypoints_3d, s.keypoints_2d)
    worst = int(np.argmax(residual))
    if residual[worst] > conventions.MAX_IDENTIFY_RESIDUAL_PX:
        raise H3WBFormatError(
            f"{path.name}: sample {int(s.ids[worst])}: no Human3.6M camera projects its keypoints_3d onto its "
            f"keypoints_2d (best mean residual {residual[worst]:.1f} px); give the aligned RGBto3D file with "
            "image_path as --annotations and this file as --keypoints-2d"
        )
    groups: dict[int, str] = {}
    refs = []
    for n, sample_id in enumerate(s.ids.tolist()):
        group = sample_id // ID_BLOCK
        subject = groups.setdefault(group, subjects[n])
        if subject != subjects[n]:
            raise H3WBFormatError(
                f"{path.name}: sample {sample_id} fits subject {subjects[n]} but the other samples of its group of "
                f"{ID_BLOCK} (ids {group * ID_BLOCK}..{group * ID_BLOCK + ID_BLOCK - 1}) fit {subject}"
            )
        refs.append(ImageRef(subject, GROUP_ACTION, cameras[n], group))
    s.image_refs = refs
    annotations.notes.append(
        f"no image_path: subject and camera recovered from each sample's own 2D and 3D (largest residual "
        f"{float(residual.max()):.2f} px); the views of one instant are ids 4k..4k+3, stored as frames of "
        f"'{GROUP_ACTION}' numbered k"
    )
