"""Importing H3WB release files into a dataset: one atomic, idempotent write.

The 4 views of one instant are grouped into one Frame by the (subject, action, frame index,
camera) their ``image_path`` carries, never by sample order. H3WB stores ``keypoints_3d`` as
``R_cam @ X_world`` without the translation, so every view gives back the world skeleton through
its own rotation; the views must agree, the importer reports their largest disagreement, and the
mean becomes the frame's ``dataset`` skeleton.

Everything is read and checked before the first write, and the write is one transaction: a
malformed file changes nothing. Re-importing the same file adds nothing; re-importing a frame with
different numbers is refused rather than silently replacing what is stored.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.db import transaction
from tqdm import tqdm

from annotator import h36m, keypoints, names
from annotator.exceptions import ImportFormatError
from annotator.h3wb_format import H3WBFormatError, format_image_path, mask_missing_2d
from annotator.importers import conventions
from annotator.importers.h3wb import Samples, read_samples
from annotator.importers.sources import read_annotations
from annotator.models import Camera, Dataset, Detection2D, Frame, Sequence, Skeleton3D, Subject, View

logger = logging.getLogger(__name__)

#: Two stored skeletons within this distance (mm, per coordinate) count as the same import.
SAME_SKELETON_TOLERANCE_MM = 1e-6
BATCH_SIZE = 2000
SYNTHETIC_DETECTOR = "synthetic-detector"
#: ``source_format`` of the H3WB release: only its files' ids follow one of the release's numberings.
H3WB_SOURCE = "h3wb"


@dataclass
class ImportReport:
    """What an import did; ``str()`` gives the summary the command prints."""

    dataset: str
    samples: int = 0
    frames_created: int = 0
    frames_unchanged: int = 0
    views_created: int = 0
    skeletons_created: int = 0
    ground_truth_created: int = 0
    detections_created: int = 0
    max_disagreement_mm: float = 0.0
    max_disagreement_at: str = ""
    missing_images: int = 0
    subjects: list[str] = field(default_factory=list)
    actions: int = 0
    kind: str = ""
    sample_ids: str = ""
    convention: str = ""
    residual_px: dict | None = None
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"read {self.kind}" if self.kind else "",
            f"dataset {self.dataset}: {self.samples} samples, {len(self.subjects)} subjects "
            f"({', '.join(self.subjects)}), {self.actions} sequences",
            f"created {self.frames_created} frames, {self.views_created} views, {self.skeletons_created} dataset "
            f"skeletons, {self.ground_truth_created} ground-truth skeletons, {self.detections_created} detections; "
            f"{self.frames_unchanged} frames were already imported and left unchanged",
            f"largest disagreement between the views of one instant: {self.max_disagreement_mm:.4f} mm"
            + (f" ({self.max_disagreement_at})" if self.max_disagreement_at else ""),
        ]
        if self.residual_px and self.residual_px.get("pinhole") is not None:
            lines.append(
                f"2D convention: {self.convention} (mean residual {self.residual_px['pinhole']:.3f} px against the "
                f"pinhole projection of the 3D, {self.residual_px['distorted']:.3f} px against the distorted one)"
            )
        lines.extend(f"note: {note}" for note in self.notes)
        if self.missing_images:
            lines.append(f"warning: {self.missing_images} image files were not found under the image directory")
        return "\n".join(line for line in lines if line)


@dataclass
class _Group:
    """The samples of one instant: indices into the Samples arrays, keyed by camera id."""

    subject: str
    action: str
    frame_index: int
    by_camera: dict[str, int]


def _group_samples(samples: Samples, frames_only: bool = False) -> list[_Group]:
    if not samples.image_refs:
        raise ImportFormatError(
            f"sample {samples.ids[0]} has no image_path, so its subject, camera and frame are unknown. H3WB's 2D files "
            "carry no metadata: import the RGBto3D file (which has image_path) with --annotations and give the aligned "
            "2D file with --keypoints-2d."
        )
    if samples.keypoints_3d is None and not frames_only:
        raise ImportFormatError(f"sample {samples.ids[0]} has no keypoints_3d; a dataset needs 3D skeletons")
    groups: dict[tuple[str, str, int], _Group] = {}
    for n, ref in enumerate(samples.image_refs):
        assert ref is not None  # read_samples guarantees all or none
        if ref.subject not in h36m.SUBJECTS:
            raise ImportFormatError(
                f"sample {samples.ids[n]}: subject {ref.subject} has no shipped calibration "
                f"(known: {', '.join(h36m.SUBJECTS)})"
            )
        if ref.camera_id not in h36m.CAMERA_IDS:
            raise ImportFormatError(
                f"sample {samples.ids[n]}: camera {ref.camera_id} is not a Human3.6M camera "
                f"({', '.join(h36m.CAMERA_IDS)})"
            )
        key = (ref.subject, ref.action, ref.frame_index)
        group = groups.setdefault(key, _Group(ref.subject, ref.action, ref.frame_index, {}))
        if ref.camera_id in group.by_camera:
            other = samples.ids[group.by_camera[ref.camera_id]]
            raise ImportFormatError(
                f"samples {other} and {samples.ids[n]} are both {ref.subject} / {ref.action} / camera {ref.camera_id} "
                f"/ frame {ref.frame_index}"
            )
        group.by_camera[ref.camera_id] = n
    return list(groups.values())


def _frame_skeletons(samples: Samples, points_3d: np.ndarray, groups: list[_Group]) -> tuple[np.ndarray, np.ndarray]:
    """Mean world skeleton of each group (G, J, 3) and each group's largest view disagreement (G,) mm.

    ``points_3d`` (S, J, 3) is camera-rotated (``R @ X_world``, H3WB's convention): each view goes back to the
    world through its own camera's rotation, group by group, so no second (S, J, 3) array is ever held.
    """
    skeletons = np.empty((len(groups), points_3d.shape[1], 3))
    spread = np.empty(len(groups))
    for g, group in enumerate(groups):
        rows = list(group.by_camera.values())
        rotations = np.stack([h36m.camera(samples.image_refs[n].subject, samples.image_refs[n].camera_id).R
                              for n in rows])  # fmt: skip  # (V, 3, 3)
        # keypoints_3d = R @ X_world per point; as rows that is X_row @ R^T, so X_row = kp_row @ R.
        views = np.einsum("vjk,vkl->vjl", points_3d[rows], rotations)  # (V, J, 3)
        skeletons[g] = views.mean(axis=0)
        spread[g] = np.linalg.norm(views - skeletons[g], axis=-1).max()
    return skeletons, spread


def _read_side_file(path: Path | None, ids: np.ndarray, what: str, progress: bool) -> Samples | None:
    if path is None:
        return None
    try:
        return read_samples(path, progress=progress, description=f"reading {what}").aligned_to(ids, path)
    except H3WBFormatError as exc:
        raise ImportFormatError(f"{what} file {path.name}: {exc}") from None


def dataset_import_h3wb(
    *,
    dataset_name: str,
    annotations: str | Path,
    images: str | Path | None = None,
    keypoints_2d: str | Path | None = None,
    ground_truth: str | Path | None = None,
    detections: str | Path | None = None,
    description: str = "",
    source_format: str = "h3wb",
    progress: bool = False,
) -> ImportReport:
    """Import an H3WB release file (plus optional aligned side files) into the dataset ``dataset_name``.

    Args:
        annotations: samples with ``image_path`` and ``keypoints_3d`` (and optionally ``keypoints_2d``, ``bbox``).
        images: directory that the samples' ``image_path`` values are relative to.
        keypoints_2d: an aligned H3WB 2D file (same sample ids) when ``annotations`` has no 2D.
        ground_truth: side file with the true ``keypoints_3d`` per sample (same convention), e.g. from the rig.
        detections: side file with detector ``keypoints_2d`` and ``scores`` per sample.
    """
    names.name_check(dataset_name, what="dataset", field="dataset")  # before reading anything
    existing = Dataset.objects.filter(name=dataset_name).first()
    if existing is not None:  # H3WB files hold COCO-WholeBody keypoints only
        keypoints.require_layout(existing.layout, f"importing H3WB files into dataset {dataset_name}")
    annotations = Path(annotations)
    image_root = ""
    if images is not None:
        images = Path(images).resolve()
        if not images.is_dir():
            raise ImportFormatError(f"image directory {images} does not exist")
        image_root = str(images)
    try:
        read = read_annotations(annotations, progress=progress)
    except H3WBFormatError as exc:
        raise ImportFormatError(str(exc)) from None
    samples, kind = read.samples, read.kind
    if kind.role == "predictions":
        raise ImportFormatError(
            f"{annotations.name} holds keypoints_3d only: a predictions file. Evaluate it with evaluate_predictions "
            "--predictions; a dataset needs image_path (RGBto3D files, npz) or keypoints_2d with keypoints_3d"
        )
    if kind.role == "side-2d":
        raise ImportFormatError(
            f"{annotations.name} is the {kind.label} ({kind.official}): keypoints_2d only, no 3D and no image, so "
            "there is nothing to build frames from. Give it as --keypoints-2d beside its answer file (e.g. "
            "--annotations 2Dto3D_test_3d.json --keypoints-2d 2Dto3D_test_2d.json)"
        )
    groups = _group_samples(samples, frames_only=kind.role == "frames")
    side_2d = _read_side_file(Path(keypoints_2d) if keypoints_2d else None, samples.ids, "2D", progress)
    if side_2d is not None:
        if side_2d.keypoints_2d is None:
            raise ImportFormatError(f"2D file {Path(keypoints_2d).name} has no keypoints_2d")
        samples.keypoints_2d = side_2d.keypoints_2d
    if samples.keypoints_2d is not None:
        mask_missing_2d(samples.keypoints_2d)  # I2D->3D's masked keypoints are stored as (0, 0)
    gt = _read_side_file(Path(ground_truth) if ground_truth else None, samples.ids, "ground-truth", progress)
    if gt is not None and gt.keypoints_3d is None:
        raise ImportFormatError(f"ground-truth file {Path(ground_truth).name} has no keypoints_3d")
    det = _read_side_file(Path(detections) if detections else None, samples.ids, "detections", progress)
    if det is not None and (det.keypoints_2d is None or det.scores is None):
        raise ImportFormatError(f"detections file {Path(detections).name} needs keypoints_2d and scores per sample")

    report = ImportReport(dataset=dataset_name, samples=len(samples), kind=f"{kind.label} ({kind.official})",
                          notes=list(read.notes))  # fmt: skip
    skeletons = gt_skeletons = None
    if samples.keypoints_3d is not None:
        skeletons, spread = _frame_skeletons(samples, samples.keypoints_3d, groups)
        gt_skeletons = _frame_skeletons(samples, gt.keypoints_3d, groups)[0] if gt else None
        worst = int(np.argmax(spread))
        report.max_disagreement_mm = float(spread[worst])
        g = groups[worst]
        report.max_disagreement_at = f"{g.subject} / {g.action} / frame {g.frame_index}"
        if report.max_disagreement_mm > 1.0:
            logger.warning("views of one instant disagree by up to %.3f mm (%s)", spread[worst],
                           report.max_disagreement_at)  # fmt: skip
        if samples.keypoints_2d is not None:
            report.residual_px = _convention(samples, groups, skeletons)
            report.convention = _pick_convention(report.residual_px)
    if image_root and read.images:
        root = Path(image_root)
        report.missing_images = sum(
            not (root / format_image_path(ref)).is_file() for ref in samples.image_refs if ref is not None
        )
    identity = DatasetIdentity(
        sample_ids=kind.sample_ids if source_format == H3WB_SOURCE else Dataset.SampleIds.OWN,
        source_samples=len(samples), convention=report.convention, residual_px=report.residual_px,
    )  # fmt: skip
    report.sample_ids = identity.sample_ids

    with transaction.atomic():
        _write(report, dataset_name, description, source_format, image_root, samples, groups, skeletons,
               gt_skeletons, det, progress, identity=identity, images=read.images,
               truth_visible=gt.visible if gt is not None else None)  # fmt: skip
    return report


@dataclass
class DatasetIdentity:
    """What an import says about its dataset as a whole: the numbering of its ids and its 2D convention."""

    sample_ids: str
    source_samples: int
    convention: str
    residual_px: dict | None


#: Samples whose residuals are computed at once when detecting the 2D convention (bounds that step's memory).
CONVENTION_CHUNK = 1024


def _convention(samples: Samples, groups: list[_Group], skeletons: np.ndarray) -> dict:
    """Residuals of the imported 2D against the pinhole and the distorted projection of the frames' skeletons."""
    frame_of = np.empty(len(samples), dtype=np.intp)
    for g, group in enumerate(groups):
        frame_of[list(group.by_camera.values())] = g
    cameras = [h36m.camera(r.subject, r.camera_id) for r in samples.image_refs]
    sums = {"pinhole": 0.0, "distorted": 0.0}
    points = 0
    for start in range(0, len(samples), CONVENTION_CHUNK):
        rows = slice(start, start + CONVENTION_CHUNK)
        part = conventions.convention_residuals(cameras[rows], skeletons[frame_of[rows]], samples.keypoints_2d[rows])
        if part["points"]:
            points += part["points"]
            for name in sums:
                sums[name] += part[name] * part["points"]
    return {name: (total / points if points else None) for name, total in sums.items()} | {"points": points}


def _pick_convention(residual: dict) -> str:
    if residual["pinhole"] is None:
        return Dataset.Convention2D.UNKNOWN
    if residual["pinhole"] <= residual["distorted"]:
        return Dataset.Convention2D.PINHOLE
    return Dataset.Convention2D.DISTORTED


def _write(
    report: ImportReport,
    dataset_name: str,
    description: str,
    source_format: str,
    image_root: str,
    samples: Samples,
    groups: list[_Group],
    skeletons: np.ndarray | None,
    gt_skeletons: np.ndarray | None,
    det: Samples | None,
    progress: bool,
    *,
    identity: DatasetIdentity,
    images: bool,
    truth_visible: np.ndarray | None = None,
) -> None:
    """Write the import; ``truth_visible`` (S, J) bool: the ground-truth file's per-view visibility, if it has one."""
    dataset, created = Dataset.objects.get_or_create(
        name=dataset_name,
        defaults={"description": description, "source_format": source_format, "image_root": image_root,
                  "sample_ids": identity.sample_ids, "source_samples": identity.source_samples,
                  "keypoints_2d_convention": identity.convention, "keypoints_2d_residual_px": identity.residual_px},
    )  # fmt: skip
    if not created:
        if dataset.sample_ids != identity.sample_ids:
            raise ImportFormatError(
                f"dataset {dataset.name} keeps sample ids of the {Dataset.SampleIds(dataset.sample_ids).label}; this "
                f"file's ids follow the {Dataset.SampleIds(identity.sample_ids).label}, which do not line up with "
                "them: import it into a dataset of its own"
            )
        updates = {}
        if image_root and dataset.image_root != image_root:
            updates["image_root"] = image_root
        if identity.convention and dataset.keypoints_2d_convention != identity.convention:
            if dataset.keypoints_2d_convention:
                raise ImportFormatError(
                    f"dataset {dataset.name} holds {dataset.keypoints_2d_convention} 2D keypoints; this file's 2D is "
                    f"{identity.convention}: import it into a dataset of its own"
                )
            updates.update(keypoints_2d_convention=identity.convention, keypoints_2d_residual_px=identity.residual_px)
        if (identity.source_samples or 0) > (dataset.source_samples or 0):
            updates["source_samples"] = identity.source_samples
        for name, value in updates.items():
            setattr(dataset, name, value)
        if updates:
            dataset.save(update_fields=list(updates))

    subjects = {s.name: s for s in dataset.subjects.all()}
    for name in sorted({g.subject for g in groups} - set(subjects)):
        subjects[name] = Subject.objects.create(dataset=dataset, name=name)
    cameras: dict[tuple[str, str], Camera] = {(c.subject.name, c.name): c for c in Camera.objects.filter(
        subject__dataset=dataset).select_related("subject")}  # fmt: skip
    for subject in {g.subject for g in groups}:
        for cam_id, cam in h36m.rig(subject).items():
            if (subject, cam_id) not in cameras:
                cameras[(subject, cam_id)] = Camera.objects.create(
                    subject=subjects[subject], name=cam_id, **Camera.fields_from_geometry(cam)
                )
    sequences = {(s.subject.name, s.action): s for s in Sequence.objects.filter(
        subject__dataset=dataset).select_related("subject")}  # fmt: skip
    for key in sorted({(g.subject, g.action) for g in groups} - set(sequences)):
        sequences[key] = Sequence.objects.create(subject=subjects[key[0]], action=key[1])
    report.subjects = sorted(subjects)
    report.actions = len(sequences)

    existing = {
        (f.sequence.subject.name, f.sequence.action, f.index): f
        for f in Frame.objects.filter(sequence__subject__dataset=dataset).select_related("sequence__subject")
    }
    stored, highest_version = _stored_skeletons(list(existing.values()))
    new_frames: list[Frame] = []
    new_groups: list[int] = []
    frame_of_group: list[Frame | None] = []
    for g, group in enumerate(groups):
        frame = existing.get((group.subject, group.action, group.frame_index))
        frame_of_group.append(frame)
        if frame is None:
            new_frames.append(Frame(sequence=sequences[(group.subject, group.action)], index=group.frame_index))
            new_groups.append(g)
            continue
        if skeletons is not None:
            _check_same(stored, frame, Skeleton3D.Source.DATASET, skeletons[g], group)
        if gt_skeletons is not None:
            _check_same(stored, frame, Skeleton3D.Source.GROUND_TRUTH, gt_skeletons[g], group)
    created_frames = Frame.objects.bulk_create(new_frames, batch_size=BATCH_SIZE)
    for g, frame in zip(new_groups, created_frames, strict=True):
        frame_of_group[g] = frame
    report.frames_created = len(created_frames)
    report.frames_unchanged = len(groups) - len(created_frames)

    existing_views = set(
        View.objects.filter(frame__sequence__subject__dataset=dataset).values_list("frame_id", "camera_id")
    )
    next_version = {frame_id: version + 1 for frame_id, version in highest_version.items()}
    views: list[View] = []
    view_samples: list[int] = []
    new_skeletons: list[Skeleton3D] = []

    def flush() -> None:
        # Written a batch at a time, so model instances of the whole file never sit in memory together.
        created_views = View.objects.bulk_create(views, batch_size=BATCH_SIZE)
        report.views_created += len(created_views)
        Skeleton3D.objects.bulk_create(new_skeletons, batch_size=BATCH_SIZE)
        if det is not None:
            detections = [
                Detection2D(view=view, detector=SYNTHETIC_DETECTOR, keypoints_2d=det.keypoints_2d[n],
                            scores=det.scores[n])
                for view, n in zip(created_views, view_samples, strict=True)
            ]  # fmt: skip
            Detection2D.objects.bulk_create(detections, batch_size=BATCH_SIZE)
            report.detections_created += len(detections)
        views.clear()
        view_samples.clear()
        new_skeletons.clear()

    for g, group in enumerate(tqdm(groups, desc="writing frames", disable=not progress)):
        if len(views) >= BATCH_SIZE:
            flush()
        frame = frame_of_group[g]
        for cam_id, n in group.by_camera.items():
            camera = cameras[(group.subject, cam_id)]
            if (frame.pk, camera.pk) in existing_views:
                continue
            box = samples.bbox[n] if samples.bbox is not None else None
            views.append(
                View(
                    frame=frame,
                    camera=camera,
                    image_path=format_image_path(samples.image_refs[n]) if images else "",
                    sample_id=int(samples.ids[n]),
                    bbox=None if box is None else [int(v) for v in box],
                    keypoints_2d=None if samples.keypoints_2d is None else samples.keypoints_2d[n],
                    truth_visible=None if truth_visible is None else truth_visible[n].astype(np.float64),
                )
            )
            view_samples.append(n)
        if skeletons is not None and (frame.pk, Skeleton3D.Source.DATASET) not in stored:
            version = next_version.get(frame.pk, 1)
            new_skeletons.append(
                Skeleton3D(frame=frame, version=version, source=Skeleton3D.Source.DATASET, keypoints=skeletons[g])
            )
            next_version[frame.pk] = version + 1
            report.skeletons_created += 1
        if gt_skeletons is not None and (frame.pk, Skeleton3D.Source.GROUND_TRUTH) not in stored:
            version = next_version.get(frame.pk, 1)
            new_skeletons.append(
                Skeleton3D(
                    frame=frame, version=version, source=Skeleton3D.Source.GROUND_TRUTH, keypoints=gt_skeletons[g]
                )
            )
            next_version[frame.pk] = version + 1
            report.ground_truth_created += 1
    flush()


def _stored_skeletons(frames: list[Frame]) -> tuple[dict[tuple[int, str], np.ndarray], dict[int, int]]:
    """Latest stored keypoints per (frame id, source), and the highest version number per frame id."""
    latest: dict[tuple[int, str], np.ndarray] = {}
    highest: dict[int, int] = defaultdict(int)
    if frames:
        rows = Skeleton3D.objects.filter(frame__in=frames).values_list("frame_id", "source", "version", "keypoints")
        for frame_id, source, version, points in rows.order_by("version").iterator(chunk_size=BATCH_SIZE):
            latest[(frame_id, source)] = points
            highest[frame_id] = max(highest[frame_id], version)
    return latest, highest


def _check_same(stored: dict, frame: Frame, source: str, points: np.ndarray, group: _Group) -> None:
    previous = stored.get((frame.pk, source))
    if previous is None:
        return
    if not np.allclose(previous, points, atol=SAME_SKELETON_TOLERANCE_MM, rtol=0, equal_nan=True):
        diff = float(np.nanmax(np.abs(previous - points)))
        raise ImportFormatError(
            f"{group.subject} / {group.action} / frame {group.frame_index} is already in this dataset with a different "
            f"{source} skeleton (up to {diff:.3f} mm apart); import into a new dataset name instead of replacing it"
        )
